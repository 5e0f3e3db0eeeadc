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
 * @param minWait only jobs that have been due for at least this long (stealing takes only jobs that
 *     have waited); null means every due job. It is relative: the claim's {@code now} is read inside
 *     its transaction (see {@link JobStore}), so a request carries no instant of its own.
 */
public record ClaimRequest(
    int partition,
    Set<String> queues,
    Set<String> workerTags,
    int limit,
    String runnerId,
    Duration lease,
    Duration minWait) {

  /** A claim of every due job. */
  public ClaimRequest(
      int partition, Set<String> queues, Set<String> workerTags, int limit, String runnerId, Duration lease) {
    this(partition, queues, workerTags, limit, runnerId, lease, null);
  }

  public ClaimRequest {
    queues = Set.copyOf(queues);
    workerTags = Set.copyOf(workerTags);
    Objects.requireNonNull(runnerId, "runnerId");
    Objects.requireNonNull(lease, "lease");
    if (minWait != null && minWait.isNegative()) {
      throw new IllegalArgumentException("minWait must be >= 0: " + minWait);
    }
    if (limit < 0) {
      throw new IllegalArgumentException("limit must be >= 0: " + limit);
    }
  }

  /** The latest due time a job may have to be taken at {@code now}, or null for every due job. */
  public Instant dueBefore(Instant now) {
    return minWait == null ? null : now.minus(minWait);
  }

  /** The same request for other queues. */
  public ClaimRequest withQueues(Set<String> otherQueues) {
    return new ClaimRequest(partition, otherQueues, workerTags, limit, runnerId, lease, minWait);
  }

  /** The same request with another limit. */
  public ClaimRequest withLimit(int otherLimit) {
    return new ClaimRequest(partition, queues, workerTags, otherLimit, runnerId, lease, minWait);
  }
}
