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
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The job store as the rest of the runner sees it: reads go straight to the store; every write is
 * a {@link WindowOwner.Write} message, run only inside this runner's window. The time a write
 * stores is read by the store inside the write's own transaction, from the clock the caller
 * passes: a write that waited for the window does not carry an old {@code now}.
 */
public final class WindowedStore implements JobStore {
  private final JobStore store;
  private final ActorRef<WindowOwner.Command> owner;

  public WindowedStore(JobStore store, ActorRef<WindowOwner.Command> owner) {
    this.store = store;
    this.owner = owner;
  }

  /** Runs {@code work} once the window owner lets it start. */
  private <T> CompletionStage<T> write(String op, Supplier<CompletionStage<T>> work) {
    CompletableFuture<T> result = new CompletableFuture<>();
    owner.tell(new WindowOwner.Write<>(op, work, result));
    return result;
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
  public CompletionStage<Submitted> submit(NewJob job, Clock clock) {
    return write("submit", () -> store.submit(job, clock));
  }

  @Override
  public CompletionStage<List<Submitted>> submitBatch(List<NewJob> jobs, Clock clock) {
    return write("submit", () -> store.submitBatch(jobs, clock));
  }

  @Override
  public CompletionStage<List<ClaimedJob>> claim(ClaimRequest request, Clock clock) {
    return write("claim", () -> store.claim(request, clock));
  }

  @Override
  public CompletionStage<Set<String>> renewLeases(String runnerId, Collection<Lease> held, Duration lease, Clock clock) {
    return write("renew", () -> store.renewLeases(runnerId, held, lease, clock));
  }

  @Override
  public CompletionStage<Set<String>> notHeld(String runnerId, Collection<Lease> held) {
    return store.notHeld(runnerId, held);
  }

  @Override
  public CompletionStage<List<CompletionResult>> complete(List<Completion> completions, Clock clock) {
    return write("complete", () -> store.complete(completions, clock));
  }

  @Override
  public CompletionStage<Reconciled> round(List<Completion> completions, List<ClaimRequest> claims,
      Map<String, Integer> queueCaps, int total, Clock clock) {
    return write("round", () -> store.round(completions, claims, queueCaps,
        total, clock));
  }

  @Override
  public CompletionStage<Integer> release(Collection<Lease> leases, String reason, Clock clock) {
    return write("release", () -> store.release(leases, reason, clock));
  }

  @Override
  public CompletionStage<List<String>> reapExpired(int partition, Clock clock) {
    return write("reap", () -> store.reapExpired(partition, clock));
  }

  @Override
  public CompletionStage<Job> cancel(String id, Clock clock) {
    return write("cancel", () -> store.cancel(id, clock));
  }

  @Override
  public CompletionStage<Job> requeue(String id, Clock clock) {
    return write("requeue", () -> store.requeue(id, clock));
  }

  @Override
  public CompletionStage<Integer> purge(Instant succeededBefore, Instant deadBefore, int limit) {
    return write("purge", () -> store.purge(succeededBefore, deadBefore, limit));
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
  public CompletionStage<Set<Integer>> partitionsWithDueWork(Collection<Integer> partitions, Instant now) {
    return store.partitionsWithDueWork(partitions, now);
  }

  @Override
  public CompletionStage<Void> heartbeat(String runnerId, String statusJson, Duration ttl, Clock clock) {
    return write("heartbeat", () -> store.heartbeat(runnerId, statusJson, ttl, clock));
  }

  @Override
  public CompletionStage<Void> deregister(String runnerId) {
    return write("deregister", () -> store.deregister(runnerId));
  }

  @Override
  public CompletionStage<List<RunnerRow>> runners(Instant now) {
    return store.runners(now);
  }

  @Override
  public CompletionStage<Boolean> tryLead(String runnerId, Duration ttl, Clock clock) {
    return write("lead", () -> store.tryLead(runnerId, ttl, clock));
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
