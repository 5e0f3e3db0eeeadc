package dev.slotted.orchestrator.store;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Set;

/**
 * A claim of up to {@code limit} due jobs of one partition.
 *
 * @param queues the queues to claim from; empty means every queue
 * @param workerTags the runner's capabilities: a job is claimable only if all its tags are in here
 * @param runnerId the lease owner written on the jobs (one per runner process incarnation)
 * @param lease how long the claimed jobs stay hidden unless renewed (the visibility timeout)
 * @param dueBefore only jobs due at or before this instant (stealing takes only jobs that have
 *     waited); null means every due job
 */
public record ClaimRequest(
    int partition,
    Set<String> queues,
    Set<String> workerTags,
    int limit,
    String runnerId,
    Duration lease,
    Instant now,
    Instant dueBefore) {

  /** A claim of every due job. */
  public ClaimRequest(
      int partition, Set<String> queues, Set<String> workerTags, int limit, String runnerId, Duration lease, Instant now) {
    this(partition, queues, workerTags, limit, runnerId, lease, now, null);
  }

  public ClaimRequest {
    queues = Set.copyOf(queues);
    workerTags = Set.copyOf(workerTags);
    Objects.requireNonNull(runnerId, "runnerId");
    Objects.requireNonNull(lease, "lease");
    Objects.requireNonNull(now, "now");
    if (limit < 0) {
      throw new IllegalArgumentException("limit must be >= 0: " + limit);
    }
  }
}
