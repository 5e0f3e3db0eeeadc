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
    Instant claimedAt) {

  public ClaimedJob {
    tags = tags == null ? List.of() : List.copyOf(tags);
  }
}
