package dev.slotted.orchestrator.http;

import dev.slotted.orchestrator.store.ClaimRequest;
import dev.slotted.orchestrator.store.CompletionResult;
import dev.slotted.orchestrator.store.JobConflictException;
import dev.slotted.orchestrator.store.JobNotFoundException;
import dev.slotted.orchestrator.store.JobQuery;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.Lease;
import dev.slotted.orchestrator.store.Page;
import dev.slotted.orchestrator.store.QueueCounts;
import dev.slotted.orchestrator.store.RunnerRow;
import dev.slotted.orchestrator.store.Submitted;
import dev.slotted.protocol.Attempt;
import dev.slotted.protocol.AttemptOutcome;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.NewJob;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** Stand-in store until SqliteJobStore lands on this branch. */
final class InMemoryJobStore implements JobStore {
  private final TreeMap<Long, Job> jobs = new TreeMap<>();
  private final Map<String, String> tokens = new java.util.HashMap<>();
  private long seq;

  @Override
  public int partitions() {
    return 16;
  }

  @Override
  public int partitionOf(String partitionKey, String idempotencyKey) {
    String k = partitionKey != null ? partitionKey : idempotencyKey;
    return k == null ? 0 : Math.floorMod(k.hashCode(), 16);
  }

  @Override
  public synchronized CompletionStage<Submitted> submit(NewJob job, Instant now) {
    return CompletableFuture.completedFuture(insert(job, now));
  }

  private Submitted insert(NewJob n, Instant now) {
    if (n.idempotencyKey() != null) {
      for (Job j : jobs.values()) {
        if (j.queue().equals(n.queue()) && n.idempotencyKey().equals(j.idempotencyKey())) {
          return new Submitted(j, false);
        }
      }
    }
    long id = ++seq;
    boolean later = n.runAt() != null && n.runAt().isAfter(now);
    Job j = new Job(String.valueOf(id), n.queue(), later ? JobState.SCHEDULED : JobState.READY, n.payload(),
        n.priority(), n.maxAttempts(), 0, n.idempotencyKey(), n.partitionKey(),
        partitionOf(n.partitionKey(), n.idempotencyKey()), n.tags(), n.timeout(),
        n.runAt() == null ? now : n.runAt(), now, null, List.of());
    jobs.put(id, j);
    return new Submitted(j, true);
  }

  @Override
  public synchronized CompletionStage<List<Submitted>> submitBatch(List<NewJob> batch, Instant now) {
    List<Submitted> out = new ArrayList<>();
    batch.forEach(n -> out.add(insert(n, now)));
    return CompletableFuture.completedFuture(out);
  }

  @Override
  public synchronized CompletionStage<List<ClaimedJob>> claim(ClaimRequest r) {
    List<ClaimedJob> out = new ArrayList<>();
    for (Map.Entry<Long, Job> e : jobs.entrySet()) {
      Job j = e.getValue();
      if (out.size() < r.limit() && j.state() == JobState.READY && j.partition() == r.partition()) {
        String token = UUID.randomUUID().toString();
        tokens.put(j.id(), token);
        List<Attempt> attempts = new ArrayList<>(j.attempts());
        attempts.add(new Attempt(j.attemptCount() + 1, r.runnerId(), null, r.now(), null, null, null, null, null));
        Job k = with(j, JobState.RUNNING, j.attemptCount() + 1, null, attempts);
        e.setValue(k);
        out.add(new ClaimedJob(k.id(), k.queue(), k.payload(), k.attemptCount(), k.maxAttempts(), token,
            k.idempotencyKey(), k.partition(), k.tags(), k.timeout(), k.runAt(), r.now()));
      }
    }
    return CompletableFuture.completedFuture(out);
  }

  @Override
  public synchronized CompletionStage<List<CompletionResult>> complete(List<Completion> cs, Instant now) {
    List<CompletionResult> out = new ArrayList<>();
    for (Completion c : cs) {
      Job j = jobs.get(Long.parseLong(c.jobId()));
      List<Attempt> attempts = new ArrayList<>(j.attempts());
      Attempt a = attempts.remove(attempts.size() - 1);
      attempts.add(new Attempt(a.number(), a.runner(), c.worker(), a.startedAt(), c.endedAt(), c.outcome(),
          c.error(), c.exitCode(), c.logTail()));
      JobState s = c.outcome() == AttemptOutcome.SUCCEEDED ? JobState.SUCCEEDED
          : c.retryable() && j.attemptCount() < j.maxAttempts() ? JobState.READY : JobState.DEAD;
      jobs.put(Long.parseLong(c.jobId()), with(j, s, j.attemptCount(), s.isFinished() ? now : null, attempts));
      out.add(new CompletionResult(c.jobId(), true, s, j.queue()));
    }
    return CompletableFuture.completedFuture(out);
  }

  @Override
  public synchronized CompletionStage<Job> cancel(String id, Instant now) {
    Job j = find(id);
    if (j.state().isFinished()) {
      return CompletableFuture.failedFuture(new JobConflictException(id, j.state(), "cancel"));
    }
    Job k = with(j, JobState.CANCELLED, j.attemptCount(), now, j.attempts());
    jobs.put(Long.parseLong(id), k);
    return CompletableFuture.completedFuture(k);
  }

  @Override
  public synchronized CompletionStage<Job> requeue(String id, Instant now) {
    Job j = find(id);
    if (j.state() != JobState.DEAD) {
      return CompletableFuture.failedFuture(new JobConflictException(id, j.state(), "requeue"));
    }
    Job k = with(j, JobState.READY, 0, null, j.attempts());
    jobs.put(Long.parseLong(id), k);
    return CompletableFuture.completedFuture(k);
  }

  private Job find(String id) {
    Job j = id.matches("\\d{1,18}") ? jobs.get(Long.parseLong(id)) : null;
    if (j == null) {
      throw new JobNotFoundException(id);
    }
    return j;
  }

  private static Job with(Job j, JobState s, int attempts, Instant finished, List<Attempt> history) {
    return new Job(j.id(), j.queue(), s, j.payload(), j.priority(), j.maxAttempts(), attempts, j.idempotencyKey(),
        j.partitionKey(), j.partition(), j.tags(), j.timeout(), j.runAt(), j.createdAt(), finished, history);
  }

  @Override
  public synchronized CompletionStage<Optional<Job>> get(String id) {
    try {
      return CompletableFuture.completedFuture(Optional.of(find(id)));
    } catch (JobNotFoundException e) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
  }

  @Override
  public synchronized CompletionStage<Page<Job>> list(JobQuery q) {
    long before = q.cursor() == null ? Long.MAX_VALUE : Long.parseLong(q.cursor());
    List<Job> out = new ArrayList<>();
    for (Job j : jobs.headMap(before, false).descendingMap().values()) {
      if ((q.queue() == null || q.queue().equals(j.queue())) && (q.state() == null || q.state() == j.state())) {
        out.add(j);
        if (out.size() == q.limit()) {
          break;
        }
      }
    }
    String next = out.size() == q.limit() ? out.get(out.size() - 1).id() : null;
    return CompletableFuture.completedFuture(new Page<>(out, next));
  }

  @Override
  public synchronized CompletionStage<List<QueueCounts>> queueCounts(Instant now) {
    Map<String, long[]> c = new TreeMap<>();
    for (Job j : jobs.values()) {
      c.computeIfAbsent(j.queue(), k -> new long[6])[j.state().ordinal()]++;
    }
    List<QueueCounts> out = new ArrayList<>();
    c.forEach((q, a) -> out.add(new QueueCounts(q, a[0], a[1], a[2], a[3], a[4], a[5], 0)));
    return CompletableFuture.completedFuture(out);
  }

  synchronized int count() {
    return jobs.size();
  }

  @Override
  public CompletionStage<Set<String>> renewLeases(String r, Collection<Lease> held, Duration lease, Instant now) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Integer> release(Collection<Lease> leases, String reason, Instant now) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<List<String>> reapExpired(int partition, Instant now) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Integer> purge(Instant a, Instant b, int limit) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Set<Integer>> partitionsWithDueWork(Collection<Integer> partitions, Instant now) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Void> heartbeat(String runnerId, String statusJson, Duration ttl, Instant now) {
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
  public CompletionStage<Boolean> tryLead(String runnerId, Duration ttl, Instant now) {
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
