package dev.slotted.worker;

import dev.slotted.protocol.ClaimedJob;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything one attempt's handler may use: the claimed job, its payload, the fencing lease token,
 * the per-attempt log, the deadline and the cancellation signal.
 *
 * <p>Effectively-once work keys its side effects on {@link #idempotencyKey()} (or the job id) and
 * presents {@link #leaseToken()} to systems that can fence on it.
 */
public final class JobContext {

  private final ClaimedJob job;
  private final Path logDir;
  private final int logTailChars;
  private final Instant deadline;
  private final Cancellation cancellation;
  private Path logFile;
  private Writer log;
  private boolean logUsed;

  /**
   * @param logDir root of the per-attempt logs ({@code <logDir>/<jobId>/<attempt>.log})
   * @param logTailChars characters of the log kept as the attempt's tail
   * @param deadline when the attempt times out, or null for no limit
   */
  public JobContext(
      ClaimedJob job, Path logDir, int logTailChars, Instant deadline, Cancellation cancellation) {
    this.job = Objects.requireNonNull(job, "job");
    this.logDir = Objects.requireNonNull(logDir, "logDir");
    this.logTailChars = logTailChars;
    this.deadline = deadline;
    this.cancellation = Objects.requireNonNull(cancellation, "cancellation");
  }

  public ClaimedJob job() {
    return job;
  }

  public String jobId() {
    return job.id();
  }

  public String queue() {
    return job.queue();
  }

  /** The payload as JSON text (any JSON value). */
  public String payload() {
    return job.payload();
  }

  /** 1 for the first attempt. */
  public int attempt() {
    return job.attempt();
  }

  public String leaseToken() {
    return job.leaseToken();
  }

  /** The job's idempotency key, or null. */
  public String idempotencyKey() {
    return job.idempotencyKey();
  }

  /** When the worker will cancel the attempt as timed out, if it has a timeout. */
  public Optional<Instant> deadline() {
    return Optional.ofNullable(deadline);
  }

  public Cancellation cancellation() {
    return cancellation;
  }

  public boolean isCancelled() {
    return cancellation.isCancelled();
  }

  /** This attempt's log file. Not created until something writes to it. */
  public synchronized Path logFile() {
    if (logFile == null) {
      logFile = AttemptLogs.path(logDir, job.id(), job.attempt());
    }
    return logFile;
  }

  /** This attempt's log file, created (with its directory) if needed; ready to be written by a child process. */
  public Path createLogFile() throws IOException {
    Path file = logFile();
    Files.createDirectories(file.getParent());
    if (!Files.exists(file)) {
      Files.createFile(file);
    }
    return file;
  }

  /** A writer appending to this attempt's log (UTF-8), opened on first use and closed by the worker. */
  public synchronized Writer log() {
    if (log == null) {
      try {
        createLogFile();
        log = Files.newBufferedWriter(
            logFile(), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot open the attempt log " + logFile(), e);
      }
    }
    logUsed = true;
    return log;
  }

  /** The last {@code slotted.workers.log-tail-chars} characters of the log, or null if there is none. */
  public String logTail() {
    flushLog();
    return AttemptLogs.tail(logFile(), logTailChars);
  }

  /** Whether {@link #log()} was ever used in this attempt. */
  public synchronized boolean logOpened() {
    return logUsed;
  }

  public int logTailChars() {
    return logTailChars;
  }

  private synchronized void flushLog() {
    if (log != null) {
      try {
        log.flush();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot flush the attempt log " + logFile, e);
      }
    }
  }

  /** Closes the log writer, if it was opened. Called by the worker when the handler returns. */
  public synchronized void closeLog() throws IOException {
    if (log != null) {
      Writer w = log;
      log = null;
      w.close();
    }
  }
}
