package dev.slotted.worker;

/** How an attempt ended, as its handler reports it. */
public sealed interface JobResult {

  /** The log tail kept in the attempt, or null. */
  String logTail();

  /** The process exit code (shell), or null. */
  Integer exitCode();

  /** The attempt succeeded. */
  record Success(Integer exitCode, String logTail) implements JobResult {}

  /**
   * The attempt failed. {@code retryable} false sends the job to the dead letters whatever its
   * remaining attempts.
   */
  record Failure(boolean retryable, String error, Integer exitCode, String logTail)
      implements JobResult {
    public Failure {
      error = error == null || error.isBlank() ? "failed" : error;
    }
  }

  static JobResult success() {
    return new Success(null, null);
  }

  static JobResult success(Integer exitCode, String logTail) {
    return new Success(exitCode, logTail);
  }

  static JobResult retryableFailure(String error) {
    return new Failure(true, error, null, null);
  }

  static JobResult nonRetryableFailure(String error) {
    return new Failure(false, error, null, null);
  }
}
