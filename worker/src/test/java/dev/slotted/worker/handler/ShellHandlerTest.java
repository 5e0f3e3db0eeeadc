package dev.slotted.worker.handler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.protocol.ClaimedJob;
import dev.slotted.worker.AttemptLogs;
import dev.slotted.worker.Cancellation;
import dev.slotted.worker.JobContext;
import dev.slotted.worker.JobResult;
import dev.slotted.worker.process.PidRegistry;
import dev.slotted.worker.process.ProcessTree;
import dev.slotted.worker.testing.Jobs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShellHandlerTest {
  @TempDir Path logDir;
  @TempDir Path pidDir;

  private ShellHandler shell(List<String> command, Set<Integer> nonRetryable, Duration killGrace) {
    return new ShellHandler(
        new ShellHandler.Settings(command, null, Map.of("CUSTOM", "custom-value"), nonRetryable, killGrace),
        PidRegistry.open(pidDir));
  }

  private static List<String> sh(String script) {
    return List.of("sh", "-c", script);
  }

  @Test
  void payloadOnStdinEnvironmentAndLogFile() throws Exception {
    ClaimedJob job = Jobs.job("reports", "{\"day\":\"2026-11-21\"}", 2, null);
    JobContext ctx = Jobs.context(job, logDir);
    JobResult r =
        shell(sh("cat; echo; echo \"id=$SLOTTED_JOB_ID attempt=$SLOTTED_ATTEMPT key=$SLOTTED_IDEMPOTENCY_KEY"
                + " lease=$SLOTTED_LEASE_TOKEN queue=$SLOTTED_QUEUE custom=$CUSTOM\"; echo oops >&2"),
            Set.of(), Duration.ofSeconds(1))
            .run(ctx);

    assertThat(r).isInstanceOf(JobResult.Success.class);
    assertThat(r.exitCode()).isZero();
    Path log = AttemptLogs.path(logDir, job.id(), 2);
    assertThat(log).isEqualTo(logDir.resolve(job.id()).resolve("2.log"));
    String text = Files.readString(log);
    assertThat(text)
        .contains("{\"day\":\"2026-11-21\"}")
        .contains("id=" + job.id() + " attempt=2 key=" + job.idempotencyKey() + " lease=" + job.leaseToken()
            + " queue=reports custom=custom-value")
        .contains("oops");
    assertThat(r.logTail()).isEqualTo(text);
    assertThat(PidRegistry.open(pidDir).entries()).isEmpty();
  }

  @Test
  void nonZeroExitFailsRetryablyUnlessListed() throws Exception {
    JobResult r = shell(sh("echo failing; exit 3"), Set.of(7), Duration.ofSeconds(1))
        .run(Jobs.context(Jobs.job("q", "{}"), logDir));
    assertThat(r).isInstanceOfSatisfying(JobResult.Failure.class, f -> {
      assertThat(f.retryable()).isTrue();
      assertThat(f.exitCode()).isEqualTo(3);
      assertThat(f.error()).isEqualTo("exit code 3");
      assertThat(f.logTail()).isEqualTo("failing\n");
    });

    JobResult fatal = shell(sh("exit 7"), Set.of(7), Duration.ofSeconds(1))
        .run(Jobs.context(Jobs.job("q", "{}"), logDir));
    assertThat(fatal).isInstanceOfSatisfying(JobResult.Failure.class, f -> {
      assertThat(f.retryable()).isFalse();
      assertThat(f.exitCode()).isEqualTo(7);
    });
  }

  @Test
  void keepsOnlyTheLastCharactersAsTail() throws Exception {
    ClaimedJob job = Jobs.job("q", "{}");
    JobContext ctx = Jobs.context(job, logDir, 100);
    JobResult r = shell(sh("i=0; while [ $i -lt 500 ]; do echo \"line $i\"; i=$((i+1)); done"), Set.of(),
        Duration.ofSeconds(1)).run(ctx);
    assertThat(r.logTail()).hasSize(100).endsWith("line 498\nline 499\n");
    assertThat(Files.readString(ctx.logFile())).startsWith("line 0\n").hasSizeGreaterThan(4000);
  }

  @Test
  void aMissingCommandIsARetryableFailure() throws Exception {
    JobResult r = shell(List.of("/nonexistent/slotted-test-binary"), Set.of(), Duration.ofSeconds(1))
        .run(Jobs.context(Jobs.job("q", "{}"), logDir));
    assertThat(r).isInstanceOfSatisfying(JobResult.Failure.class, f -> {
      assertThat(f.retryable()).isTrue();
      assertThat(f.error()).contains("cannot start");
    });
  }

  @Test
  void cancelTerminatesTheWholeProcessTree() throws Exception {
    ClaimedJob job = Jobs.job("q", "{}");
    JobContext ctx = Jobs.context(job, logDir);
    ShellHandler h = shell(sh("sleep 100 & echo \"bg=$!\"; echo \"sh=$$\"; sleep 100"), Set.of(), Duration.ofSeconds(5));
    CompletableFuture<JobResult> result = CompletableFuture.supplyAsync(() -> {
      try {
        return h.run(ctx);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    long[] pids = awaitPids(ctx.logFile());
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (PidRegistry.open(pidDir).entries().isEmpty() && System.nanoTime() < end) {
      Thread.sleep(10); // the handler records the pid right after the start; the script may be faster
    }
    assertThat(PidRegistry.open(pidDir).entries()).extracting(PidRegistry.Entry::pid).containsExactly(pids[1]);
    assertThat(ProcessTree.isRunning(ProcessHandle.of(pids[0]).orElseThrow())).isTrue();

    ctx.cancellation().cancel(Cancellation.Reason.STOPPED);
    JobResult r = result.get(10, TimeUnit.SECONDS);
    assertThat(r).isInstanceOf(JobResult.Failure.class);
    assertThat(gone(pids[0])).as("background sleep").isTrue();
    assertThat(gone(pids[1])).as("shell").isTrue();
    assertThat(PidRegistry.open(pidDir).entries()).isEmpty();
  }

  @Test
  void aTreeIgnoringSigtermIsKilledAfterTheGrace() throws Exception {
    ClaimedJob job = Jobs.job("q", "{}");
    JobContext ctx = Jobs.context(job, logDir);
    // The shell ignores SIGTERM and keeps starting new children: only SIGKILL ends it.
    ShellHandler h = shell(sh("trap '' TERM; echo \"bg=0\"; echo \"sh=$$\"; while true; do sleep 0.05; done"),
        Set.of(), Duration.ofMillis(300));
    CompletableFuture<JobResult> result = CompletableFuture.supplyAsync(() -> {
      try {
        return h.run(ctx);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    long[] pids = awaitPids(ctx.logFile());
    long t0 = System.nanoTime();
    ctx.cancellation().cancel(Cancellation.Reason.TIMEOUT);
    JobResult r = result.get(10, TimeUnit.SECONDS);
    assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(Duration.ofMillis(300).toNanos());
    assertThat(r.exitCode()).isEqualTo(128 + 9);
    assertThat(gone(pids[1])).isTrue();
  }

  /** Waits for the "bg=PID" and "sh=PID" lines the test scripts print. */
  static long[] awaitPids(Path log) throws Exception {
    Pattern p = Pattern.compile("bg=(\\d+)\\s+sh=(\\d+)");
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < end) {
      if (Files.exists(log)) {
        Matcher m = p.matcher(Files.readString(log));
        if (m.find()) {
          return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
        }
      }
      Thread.sleep(10);
    }
    throw new AssertionError("the script never printed its pids to " + log);
  }

  static boolean gone(long pid) {
    return ProcessHandle.of(pid).map(ph -> !ProcessTree.isRunning(ph)).orElse(true);
  }
}
