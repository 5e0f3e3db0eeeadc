package dev.slotted.worker;

/**
 * What a queue runs: one instance per queue, called once per attempt (DESIGN §5).
 *
 * <p>{@link #run} blocks for as long as the attempt takes and runs on the workers' blocking
 * dispatcher, so it may do blocking IO. One instance serves every concurrent attempt of its queue:
 * keep it thread-safe. When the attempt times out, is cancelled or the runner shuts down, the
 * context's {@link JobContext#cancellation() cancellation} fires: return soon after (a handler that
 * ignores it is interrupted, then abandoned, after {@code slotted.workers.stop-timeout}).
 *
 * <p>Returning {@link JobResult} reports the outcome. Throwing an {@link Exception} is a retryable
 * failure, a {@link NonRetryableException} a final one. Throwing an {@link Error} crashes the worker
 * actor (it restarts with backoff); the attempt is reported as a retryable failure.
 */
@FunctionalInterface
public interface JobHandler {

  JobResult run(JobContext ctx) throws Exception;

  /**
   * False only for handlers that return at once without blocking or sleeping (noop): the worker
   * then runs them on its own actor thread and saves a thread hop per job.
   */
  default boolean blocking() {
    return true;
  }
}
