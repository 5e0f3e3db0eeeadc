package dev.slotted.protocol;

import java.time.Instant;
import java.util.Objects;

/**
 * The end of one attempt, as a worker reports it. The store accepts it only when {@code
 * leaseToken} is still the job's current token.
 *
 * @param retryable for failures and time-outs: whether another attempt may follow
 * @param exitCode the process exit code, for shell jobs
 * @param logTail the last lines of the attempt's log
 * @param startedAt when the handler started (null: unknown, the claim time stays the attempt's start)
 */
public record Completion(
    String jobId,
    String leaseToken,
    AttemptOutcome outcome,
    boolean retryable,
    String error,
    Integer exitCode,
    String logTail,
    String worker,
    Instant endedAt,
    Instant startedAt) {

  /** A completion whose start is not known. */
  public Completion(String jobId, String leaseToken, AttemptOutcome outcome, boolean retryable, String error,
      Integer exitCode, String logTail, String worker, Instant endedAt) {
    this(jobId, leaseToken, outcome, retryable, error, exitCode, logTail, worker, endedAt, null);
  }

  /** The same completion, with the instant its handler started. */
  public Completion startedAt(Instant started) {
    return new Completion(jobId, leaseToken, outcome, retryable, error, exitCode, logTail, worker, endedAt, started);
  }

  public Completion {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(leaseToken, "leaseToken");
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(endedAt, "endedAt");
    if (outcome == AttemptOutcome.LEASE_EXPIRED) {
      throw new IllegalArgumentException("lease_expired is written by the store, not reported");
    }
  }

  public static Completion succeeded(ClaimedJob job, String worker, Instant at) {
    return new Completion(job.id(), job.leaseToken(), AttemptOutcome.SUCCEEDED, false, null, null, null, worker, at);
  }

  public static Completion failed(
      ClaimedJob job, boolean retryable, String error, Integer exitCode, String logTail, String worker, Instant at) {
    return new Completion(job.id(), job.leaseToken(), AttemptOutcome.FAILED, retryable, error, exitCode, logTail, worker, at);
  }
}
