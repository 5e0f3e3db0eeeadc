package dev.slotted.orchestrator.runtime;

import dev.slotted.orchestrator.store.ClaimRequest;
import dev.slotted.orchestrator.store.CompletionResult;
import dev.slotted.orchestrator.store.JobQuery;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.Lease;
import dev.slotted.orchestrator.store.Page;
import dev.slotted.orchestrator.store.QueueCounts;
import dev.slotted.orchestrator.store.Reconciled;
import dev.slotted.orchestrator.store.RunnerRow;
import dev.slotted.orchestrator.store.Submitted;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The job store as the rest of the runner sees it: reads go straight to the store; every write is
 * a {@link WindowOwner.Write} message, run only inside this runner's window. The time a write
 * stores (a submit's creation, a lease's expiry, a completion) is read when the window owner starts
 * the write, not when it was asked for: a write that waited for the window does not carry an old
 * {@code now}. The caller's {@code now} is ignored.
 */
public final class WindowedStore implements JobStore {
  private final JobStore store;
  private final ActorRef<WindowOwner.Command> owner;
  private final Clock clock;

  public WindowedStore(JobStore store, ActorRef<WindowOwner.Command> owner, Clock clock) {
    this.store = store;
    this.owner = owner;
    this.clock = clock;
  }

  /** Runs {@code work} with the current time once the window owner lets it start. */
  private <T> CompletionStage<T> write(String op, Function<Instant, CompletionStage<T>> work) {
    CompletableFuture<T> result = new CompletableFuture<>();
    owner.tell(new WindowOwner.Write<>(op, () -> work.apply(clock.instant()), result));
    return result;
  }

  /** The same claim, stamped {@code now} (a steal keeps how long its jobs must have waited). */
  private static ClaimRequest at(ClaimRequest r, Instant now) {
    Instant dueBefore = r.dueBefore() == null ? null : now.minus(Duration.between(r.dueBefore(), r.now()));
    return new ClaimRequest(r.partition(), r.queues(), r.workerTags(), r.limit(), r.runnerId(), r.lease(), now,
        dueBefore);
  }

  @Override
  public int partitions() {
    return store.partitions();
  }

  @Override
  public int partitionOf(String partitionKey, String idempotencyKey) {
    return store.partitionOf(partitionKey, idempotencyKey);
  }

  @Override
  public CompletionStage<Submitted> submit(NewJob job, Instant now) {
    return write("submit", t -> store.submit(job, t));
  }

  @Override
  public CompletionStage<List<Submitted>> submitBatch(List<NewJob> jobs, Instant now) {
    return write("submit", t -> store.submitBatch(jobs, t));
  }

  @Override
  public CompletionStage<List<ClaimedJob>> claim(ClaimRequest request) {
    return write("claim", t -> store.claim(at(request, t)));
  }

  @Override
  public CompletionStage<Set<String>> renewLeases(String runnerId, Collection<Lease> held, Duration lease, Instant now) {
    return write("renew", t -> store.renewLeases(runnerId, held, lease, t));
  }

  @Override
  public CompletionStage<Set<String>> notHeld(String runnerId, Collection<Lease> held) {
    return store.notHeld(runnerId, held);
  }

  @Override
  public CompletionStage<List<CompletionResult>> complete(List<Completion> completions, Instant now) {
    return write("complete", t -> store.complete(completions, t));
  }

  @Override
  public CompletionStage<Reconciled> round(List<Completion> completions, List<ClaimRequest> claims,
      Map<String, Integer> queueCaps, int total, Instant now) {
    return write("round", t -> store.round(completions, claims.stream().map(c -> at(c, t)).toList(), queueCaps,
        total, t));
  }

  @Override
  public CompletionStage<Integer> release(Collection<Lease> leases, String reason, Instant now) {
    return write("release", t -> store.release(leases, reason, t));
  }

  @Override
  public CompletionStage<List<String>> reapExpired(int partition, Instant now) {
    return write("reap", t -> store.reapExpired(partition, t));
  }

  @Override
  public CompletionStage<Job> cancel(String id, Instant now) {
    return write("cancel", t -> store.cancel(id, t));
  }

  @Override
  public CompletionStage<Job> requeue(String id, Instant now) {
    return write("requeue", t -> store.requeue(id, t));
  }

  @Override
  public CompletionStage<Integer> purge(Instant succeededBefore, Instant deadBefore, int limit) {
    return write("purge", t -> store.purge(succeededBefore, deadBefore, limit));
  }

  @Override
  public CompletionStage<Optional<Job>> get(String id) {
    return store.get(id);
  }

  @Override
  public CompletionStage<Page<Job>> list(JobQuery query) {
    return store.list(query);
  }

  @Override
  public CompletionStage<List<QueueCounts>> queueCounts(Instant now) {
    return store.queueCounts(now);
  }

  @Override
  public CompletionStage<List<dev.slotted.orchestrator.store.ReadyTags>> readyByTags() {
    return store.readyByTags();
  }

  @Override
  public CompletionStage<Set<Integer>> partitionsWithDueWork(Collection<Integer> partitions, Instant now) {
    return store.partitionsWithDueWork(partitions, now);
  }

  @Override
  public CompletionStage<Void> heartbeat(String runnerId, String statusJson, Duration ttl, Instant now) {
    return write("heartbeat", t -> store.heartbeat(runnerId, statusJson, ttl, t));
  }

  @Override
  public CompletionStage<Void> deregister(String runnerId) {
    return write("deregister", t -> store.deregister(runnerId));
  }

  @Override
  public CompletionStage<List<RunnerRow>> runners(Instant now) {
    return store.runners(now);
  }

  @Override
  public CompletionStage<Boolean> tryLead(String runnerId, Duration ttl, Instant now) {
    return write("lead", t -> store.tryLead(runnerId, ttl, t));
  }

  @Override
  public long busyRetries() {
    return store.busyRetries();
  }

  @Override
  public long leaseRejections() {
    return store.leaseRejections();
  }

  /** The runner does not own the store's lifetime: the app closes the store itself. */
  @Override
  public void close() {}
}
