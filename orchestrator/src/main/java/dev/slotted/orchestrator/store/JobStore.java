package dev.slotted.orchestrator.store;

import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.NewJob;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * The durable visibility-timeout job queue (DESIGN §3, §11). Records in, records out: no JDBC type
 * crosses this interface. Every method runs on the store's own blocking executor and returns at
 * once; every write is one transaction.
 *
 * <p>Time: a write is given a {@link Clock}, never an instant, and reads it once inside its
 * transaction, after the write lock (SQLite) or the first statement (PostgreSQL): every time it
 * stores (creation, claim, lease expiry, renewal, completion) and every time it compares with (due,
 * expired) is that one reading. A write that waited (for its window, a busy retry, a paused
 * process) therefore never stores a time from before it ran, and a lease is never written already
 * shorter than asked. Tests pass a fixed clock; the runtime passes its own.
 *
 * <p>Failures complete the stage exceptionally with {@link dev.slotted.protocol.ValidationException}
 * (bad input, nothing written), {@link JobNotFoundException}, {@link JobConflictException} (the job
 * is in a state that does not allow the operation) or {@link StoreException}.
 */
public interface JobStore extends AutoCloseable {

  /** The number of partitions, fixed when the database was created. */
  int partitions();

  /**
   * The partition a job with this partition key (else idempotency key) lands in, or -1 when both
   * are null: an unkeyed job's partition follows its id, so only the submitted job tells it.
   */
  int partitionOf(String partitionKey, String idempotencyKey);

  // ---- submit ---------------------------------------------------------------------------------

  /**
   * Inserts one job. When (queue, idempotencyKey) already exists, nothing is written and the
   * existing job is returned with {@code created = false}.
   */
  CompletionStage<Submitted> submit(NewJob job, Clock clock);

  /** Inserts up to {@value #MAX_BATCH} jobs in one transaction: all or none. */
  CompletionStage<List<Submitted>> submitBatch(List<NewJob> jobs, Clock clock);

  int MAX_BATCH = 1000;

  // ---- the runner's write path (inside its slot) -----------------------------------------------

  /**
   * Makes due scheduled jobs of the partition ready, then atomically claims up to {@code limit}
   * ready jobs in order priority DESC, visible_at ASC: each gets a fresh lease token, becomes
   * {@code running}, is hidden until {@code now + lease} ({@code now} read in the transaction), and starts an attempt. Jobs of an
   * at-most-once queue are finished as they are claimed.
   */
  CompletionStage<List<ClaimedJob>> claim(ClaimRequest request, Clock clock);

  /**
   * Extends, in one statement, every lease {@code runnerId} holds to {@code now + lease}. Returns
   * the jobs among {@code held} whose lease this runner no longer holds (cancelled, or taken over
   * after expiry): their attempts must be stopped.
   */
  CompletionStage<Set<String>> renewLeases(
      String runnerId, Collection<Lease> held, Duration lease, Clock clock);

  /**
   * Which of these leases {@code runnerId} no longer holds (cancelled, or taken over after expiry):
   * a read, so a runner can check every lease it holds each cycle while it renews, in its window,
   * only those that will expire soon.
   */
  CompletionStage<Set<String>> notHeld(String runnerId, Collection<Lease> held);

  /**
   * Writes a group of completions in one transaction. Each one is accepted only if its lease token
   * is the job's current token; a stale one is refused and counted in {@link #leaseRejections()}.
   * A retryable failure with attempts left is scheduled after the job's retry delay; otherwise a
   * failure goes to the dead-letter queue. The results come one per completion, in the same order.
   */
  CompletionStage<List<CompletionResult>> complete(List<Completion> completions, Clock clock);

  /**
   * A runner's round in one transaction (group commit): {@link #complete} these completions, then
   * run the claims in order. {@code total} bounds the jobs all claims together take; each claim
   * takes at most its own {@code limit}. {@code queueCaps} holds, for queues with a concurrency
   * limit, the most jobs of that queue the whole round may take: a limited queue is never
   * over-claimed. Capped queues are claimed after the uncapped ones of the same partition. A claim
   * with an empty queue set (every queue) must come with no caps. One reading of {@code clock} ends
   * the completions and starts the claims.
   */
  CompletionStage<Reconciled> round(List<Completion> completions, List<ClaimRequest> claims,
      Map<String, Integer> queueCaps, int total, Clock clock);

  /**
   * Gives leases back (graceful shutdown): the jobs become ready at once, and their attempts end as
   * {@code cancelled}. Returns how many were released.
   */
  CompletionStage<Integer> release(Collection<Lease> leases, String reason, Clock clock);

  /**
   * Ends every expired lease of the partition: the attempt ends as {@code lease_expired}, and the
   * job becomes ready again, or dead when it has no attempts left. Returns the reaped job ids.
   */
  CompletionStage<List<String>> reapExpired(int partition, Clock clock);

  // ---- operator actions ------------------------------------------------------------------------

  /**
   * Cancels a job that is not finished. A running attempt loses its lease at once (the runner sees
   * it at its next renewal and stops the attempt). Fails with {@link JobConflictException} when the
   * job is already finished.
   */
  CompletionStage<Job> cancel(String id, Clock clock);

  /**
   * Moves a dead job back to ready: the attempt count restarts at 0, the history is kept. Fails with
   * {@link JobConflictException} when the job is not dead.
   */
  CompletionStage<Job> requeue(String id, Clock clock);

  /**
   * Deletes jobs (with their attempts) that finished before the given instants: succeeded and
   * cancelled ones before {@code succeededBefore}, dead ones before {@code deadBefore}. At most
   * {@code limit} jobs per call. Returns how many were deleted.
   */
  CompletionStage<Integer> purge(Instant succeededBefore, Instant deadBefore, int limit);

  // ---- reads (reader pool; never take the write lock) -------------------------------------------

  CompletionStage<Optional<Job>> get(String id);

  /** Newest first, cursor-paginated. */
  CompletionStage<Page<Job>> list(JobQuery query);

  /** Per queue: counts by state and the age of the oldest ready job. */
  CompletionStage<List<QueueCounts>> queueCounts(Instant now);

  /** Which of these partitions have due work (ready, or scheduled and due) at {@code now}. */
  CompletionStage<Set<Integer>> partitionsWithDueWork(Collection<Integer> partitions, Instant now);

  // ---- runners ---------------------------------------------------------------------------------

  /**
   * Inserts or renews this runner's lease row until {@code now + ttl}, with its status JSON. A row
   * that had expired starts again ({@code startedAt = now}): the runner is admitted anew.
   */
  CompletionStage<Void> heartbeat(String runnerId, String statusJson, Duration ttl, Clock clock);

  /** Removes a runner's row (clean shutdown). */
  CompletionStage<Void> deregister(String runnerId);

  /** Every runner row, live or not, ordered by id. */
  CompletionStage<List<RunnerRow>> runners(Instant now);

  /**
   * Takes or keeps the single leader lease: true when {@code runnerId} holds it until {@code now +
   * ttl}.
   */
  CompletionStage<Boolean> tryLead(String runnerId, Duration ttl, Clock clock);

  /**
   * The latest measured offset of the database's clock from this host's (taken at each {@link
   * #heartbeat}), for stores on a server; empty for an embedded store, which has no clock of its own.
   */
  default Optional<ClockOffset> clockOffset() {
    return Optional.empty();
  }

  // ---- counters --------------------------------------------------------------------------------

  /** SQLITE_BUSY (or serialization) retries since start: {@code slotted_store_busy_retries_total}. */
  long busyRetries();

  /** Completions refused for a stale lease token: {@code slotted_lease_rejections_total}. */
  long leaseRejections();

  /** Closes the connections, and the executor when the store created it (not one it was given). */
  @Override
  void close();
}
