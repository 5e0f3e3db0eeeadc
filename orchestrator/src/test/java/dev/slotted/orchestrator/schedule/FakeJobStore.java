package dev.slotted.orchestrator.schedule;

import dev.slotted.orchestrator.store.ClaimRequest;
import dev.slotted.orchestrator.store.CompletionResult;
import dev.slotted.orchestrator.store.JobConflictException;
import dev.slotted.orchestrator.store.JobNotFoundException;
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
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.NewJob;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** In-memory JobStore with what firing needs: idempotent submit, get, list, cancel. */
final class FakeJobStore implements JobStore {
  private final Map<String, Job> jobs = new LinkedHashMap<>();

  @Override
  public int partitions() {
    return 1;
  }

  @Override
  public int partitionOf(String partitionKey, String idempotencyKey) {
    return 0;
  }

  @Override
  public synchronized CompletionStage<Submitted> submit(NewJob job, Clock clock) {
    Instant now = clock.instant();
    for (Job j : jobs.values()) {
      if (job.idempotencyKey() != null && j.queue().equals(job.queue())
          && job.idempotencyKey().equals(j.idempotencyKey())) {
        return CompletableFuture.completedFuture(new Submitted(j, false));
      }
    }
    String id = String.valueOf(jobs.size() + 1);
    Instant runAt = job.runAt() == null ? now : job.runAt();
    Job j = new Job(id, job.queue(), runAt.isAfter(now) ? JobState.SCHEDULED : JobState.READY,
        job.payload(), job.priority(), job.maxAttempts(), 0, job.idempotencyKey(), job.partitionKey(), 0,
        job.tags(), job.timeout(), runAt, now, null, List.of());
    jobs.put(id, j);
    return CompletableFuture.completedFuture(new Submitted(j, true));
  }

  @Override
  public synchronized CompletionStage<Optional<Job>> get(String id) {
    return CompletableFuture.completedFuture(Optional.ofNullable(jobs.get(id)));
  }

  @Override
  public synchronized CompletionStage<Page<Job>> list(JobQuery query) {
    List<Job> out = new ArrayList<>();
    for (Job j : jobs.values()) {
      if ((query.queue() == null || query.queue().equals(j.queue()))
          && (query.state() == null || query.state() == j.state())) {
        out.add(0, j);
      }
    }
    return CompletableFuture.completedFuture(new Page<>(out.subList(0, Math.min(out.size(), query.limit())), null));
  }

  @Override
  public synchronized CompletionStage<Job> cancel(String id, Clock clock) {
    Instant now = clock.instant();
    Job j = jobs.get(id);
    if (j == null) {
      return CompletableFuture.failedFuture(new JobNotFoundException(id));
    }
    if (j.state().isFinished()) {
      return CompletableFuture.failedFuture(new JobConflictException(id, j.state(), "cancel"));
    }
    Job c = new Job(j.id(), j.queue(), JobState.CANCELLED, j.payload(), j.priority(), j.maxAttempts(),
        j.attemptCount(), j.idempotencyKey(), j.partitionKey(), j.partition(), j.tags(), j.timeout(), j.runAt(),
        j.createdAt(), now, j.attempts());
    jobs.put(id, c);
    return CompletableFuture.completedFuture(c);
  }

  @Override
  public CompletionStage<List<Submitted>> submitBatch(List<NewJob> jobs, Clock clock) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<List<ClaimedJob>> claim(ClaimRequest request, Clock clock) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Set<String>> renewLeases(String runnerId, Collection<Lease> held, Duration lease, Clock clock) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Reconciled> round(List<Completion> completions, List<ClaimRequest> claims,
      Map<String, Integer> queueCaps, int total, Clock clock) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Set<String>> notHeld(String runnerId, Collection<Lease> held) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<List<CompletionResult>> complete(List<Completion> completions, Clock clock) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Integer> release(Collection<Lease> leases, String reason, Clock clock) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<List<String>> reapExpired(int partition, Clock clock) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Job> requeue(String id, Clock clock) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Integer> purge(Instant succeededBefore, Instant deadBefore, int limit) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<List<QueueCounts>> queueCounts(Instant now) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Set<Integer>> partitionsWithDueWork(Collection<Integer> partitions, Instant now) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Void> heartbeat(String runnerId, String statusJson, Duration ttl, Clock clock) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Void> deregister(String runnerId) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<List<RunnerRow>> runners(Instant now) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Boolean> tryLead(String runnerId, Duration ttl, Clock clock) {
    throw new UnsupportedOperationException();
  }

  @Override
  public long busyRetries() {
    return 0;
  }

  @Override
  public long leaseRejections() {
    return 0;
  }

  @Override
  public void close() {}
}
