package dev.slotted.worker.handler;

import dev.slotted.worker.AttemptLogs;
import dev.slotted.worker.Cancellation;
import dev.slotted.worker.JobContext;
import dev.slotted.worker.JobHandler;
import dev.slotted.worker.JobResult;
import dev.slotted.worker.process.PidRegistry;
import dev.slotted.worker.process.ProcessTree;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a configured command line (argv, no shell) per attempt. The payload arrives on stdin; the
 * {@code SLOTTED_*} variables describe the attempt; stdout and stderr go to the attempt's log file,
 * whose tail is kept. On a cancel (timeout, stop, shutdown) the whole process tree gets SIGTERM, and
 * SIGKILL after {@code kill-grace}.
 */
public final class ShellHandler implements JobHandler {
  private static final Logger LOG = LoggerFactory.getLogger(ShellHandler.class);
  /** Below the pipe buffer (64 KiB on Linux), a stdin write never blocks. */
  private static final int INLINE_STDIN_BYTES = 16 * 1024;

  /** The handler's configuration (already validated). */
  public record Settings(
      List<String> command,
      Path workdir,
      Map<String, String> env,
      Set<Integer> nonRetryableExitCodes,
      Duration killGrace) {
    public Settings {
      command = List.copyOf(command);
      env = Map.copyOf(env);
      nonRetryableExitCodes = Set.copyOf(nonRetryableExitCodes);
      Objects.requireNonNull(killGrace, "killGrace");
      if (command.isEmpty()) {
        throw new IllegalArgumentException("command must not be empty");
      }
    }
  }

  private final Settings settings;
  private final PidRegistry pids;

  public ShellHandler(Settings settings, PidRegistry pids) {
    this.settings = settings;
    this.pids = pids;
  }

  public Settings settings() {
    return settings;
  }

  @Override
  public JobResult run(JobContext ctx) throws Exception {
    Path log = ctx.createLogFile();
    ProcessBuilder pb = new ProcessBuilder(settings.command());
    if (settings.workdir() != null) {
      pb.directory(settings.workdir().toFile());
    }
    Map<String, String> env = pb.environment();
    env.putAll(settings.env());
    env.put("SLOTTED_JOB_ID", ctx.jobId());
    env.put("SLOTTED_ATTEMPT", Integer.toString(ctx.attempt()));
    env.put("SLOTTED_IDEMPOTENCY_KEY", ctx.idempotencyKey() == null ? "" : ctx.idempotencyKey());
    env.put("SLOTTED_LEASE_TOKEN", ctx.leaseToken());
    env.put("SLOTTED_QUEUE", ctx.queue());
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));

    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      return new JobResult.Failure(
          true, "cannot start " + settings.command() + ": " + e.getMessage(), null, null);
    }
    ProcessHandle handle = p.toHandle();
    pids.record(handle, String.join(" ", settings.command()));
    try {
      feedStdin(p, ctx.payload());
      CompletableFuture.anyOf(p.onExit(), ctx.cancellation().future()).get();
      if (p.isAlive()) {
        Cancellation.Reason why = ctx.cancellation().reason().orElse(Cancellation.Reason.STOPPED);
        LOG.debug("Terminating process [{}] of job [{}]: {}", handle.pid(), ctx.jobId(), why);
        ProcessTree.terminate(handle, settings.killGrace());
        p.waitFor();
      }
      int code = p.exitValue();
      String tail = AttemptLogs.tail(log, ctx.logTailChars());
      if (ctx.isCancelled()) {
        return new JobResult.Failure(
            true, "terminated (" + ctx.cancellation().reason().orElseThrow() + "), exit code " + code, code, tail);
      }
      if (code == 0) {
        return JobResult.success(0, tail);
      }
      boolean retryable = !settings.nonRetryableExitCodes().contains(code);
      return new JobResult.Failure(retryable, "exit code " + code, code, tail);
    } catch (ExecutionException e) {
      throw new IllegalStateException("waiting for the process failed", e.getCause());
    } finally {
      if (p.isAlive()) {
        // The worker gave up on us (interrupt) or something above threw: leave no process behind.
        handle.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
      pids.remove(handle);
    }
  }

  private static void feedStdin(Process p, String payload) {
    byte[] bytes = (payload == null ? "null" : payload).getBytes(StandardCharsets.UTF_8);
    if (bytes.length <= INLINE_STDIN_BYTES) {
      writeAndClose(p.getOutputStream(), bytes);
    } else {
      // A large payload blocks once the pipe is full; a process that never reads it must still be
      // cancellable, so this thread, not the handler's, waits on the pipe.
      Thread t = new Thread(() -> writeAndClose(p.getOutputStream(), bytes), "slotted-stdin-" + p.pid());
      t.setDaemon(true);
      t.start();
    }
  }

  private static void writeAndClose(OutputStream out, byte[] bytes) {
    try (out) {
      out.write(bytes);
    } catch (IOException e) {
      // The process exited or closed stdin without reading it all: that is its choice, and its
      // exit code says how it went.
      LOG.debug("stdin not fully consumed: {}", e.toString());
    }
  }
}
