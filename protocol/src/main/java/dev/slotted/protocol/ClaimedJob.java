package dev.slotted.protocol;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A job a runner has claimed: what a worker needs to run one attempt. The {@code leaseToken} fences
 * the completion: only the holder of the current token can complete the job.
 *
 * @param attempt the number of this attempt (1 for the first)
 * @param dueAt when the job became due (for the dispatch-delay metric)
 * @param timeout maximum run time of this attempt; null means no limit beyond the queue's
 * @param claimedAt when the claim's transaction ran (the lease was computed from it)
 * @param priority the job's priority: a runner's buffer of claimed jobs starts the highest first
 */
public record ClaimedJob(
    String id,
    String queue,
    String payload,
    int attempt,
    int maxAttempts,
    String leaseToken,
    String idempotencyKey,
    int partition,
    List<String> tags,
    Duration timeout,
    Instant dueAt,
    Instant claimedAt,
    int priority) {

  public ClaimedJob {
    tags = tags == null ? List.of() : List.copyOf(tags);
  }

  /** A claimed job of priority 0. */
  public ClaimedJob(String id, String queue, String payload, int attempt, int maxAttempts, String leaseToken,
      String idempotencyKey, int partition, List<String> tags, Duration timeout, Instant dueAt, Instant claimedAt) {
    this(id, queue, payload, attempt, maxAttempts, leaseToken, idempotencyKey, partition, tags, timeout, dueAt,
        claimedAt, 0);
  }
}
