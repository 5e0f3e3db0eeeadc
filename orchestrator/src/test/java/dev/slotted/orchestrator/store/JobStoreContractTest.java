package dev.slotted.orchestrator.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.protocol.Attempt;
import dev.slotted.protocol.AttemptOutcome;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.Delivery;
import dev.slotted.protocol.FieldError;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.NewJob;
import dev.slotted.protocol.RetryPolicy;
import dev.slotted.protocol.ValidationException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link JobStore} must have (DESIGN §3, §4, §11). An implementation's test
 * extends this class and provides {@link #newStore}; each call must give a fresh, empty store.
 * Times are passed explicitly as fixed clocks ({@link #at}), so nothing here depends on the wall clock.
 */
public abstract class JobStoreContractTest {
  protected static final Instant T0 = Instant.parse("2026-11-22T03:00:00Z");
  protected static final Duration LEASE = Duration.ofSeconds(30);
  protected static final int MAX_PAYLOAD = 1024;
  protected static final String RUNNER = "runner-a#1";

  private final List<JobStore> opened = new ArrayList<>();

  /** A fresh, empty store with this many partitions and this payload limit. */
  protected abstract JobStore newStore(int partitions, int maxPayloadBytes);

  protected JobStore store() {
    return store(1);
  }

  protected JobStore store(int partitions) {
    JobStore s = newStore(partitions, MAX_PAYLOAD);
    opened.add(s);
    return s;
  }

  @AfterEach
  void closeStores() {
    opened.forEach(JobStore::close);
    opened.clear();
    afterStoresClosed();
  }

  /** Runs after every store of the test is closed (e.g. to stop an executor the stores used). */
  protected void afterStoresClosed() {}

  // ---- helpers ------------------------------------------------------------------------------------

  /** A clock stopped at {@code t}: what a write reads inside its transaction. */
  public static Clock at(Instant t) {
    return Clock.fixed(t, ZoneOffset.UTC);
  }

  protected static <T> T join(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new AssertionError(e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  protected static Job submit(JobStore s, NewJob job, Instant now) {
    return join(s.submit(job, at(now))).job();
  }

  protected static List<ClaimedJob> claim(JobStore s, int partition, int limit, Instant now) {
    return join(s.claim(new ClaimRequest(partition, Set.of(), Set.of(), limit, RUNNER, LEASE), at(now)));
  }

  protected static List<ClaimedJob> claim(JobStore s, int limit, Instant now) {
    return claim(s, 0, limit, now);
  }

  protected static Job get(JobStore s, String id) {
    return join(s.get(id)).orElseThrow(() -> new AssertionError("no job " + id));
  }

  protected static CompletionResult succeed(JobStore s, ClaimedJob j, Instant now) {
    return join(s.complete(List.of(Completion.succeeded(j, "w-1", now)), at(now))).get(0);
  }

  protected static CompletionResult fail(JobStore s, ClaimedJob j, boolean retryable, Instant now) {
    Completion c = Completion.failed(j, retryable, "boom " + j.attempt(), j.attempt(), "tail " + j.attempt(), "w-2", now);
    return join(s.complete(List.of(c), at(now))).get(0);
  }

  private static Throwable failure(CompletionStage<?> stage) {
    try {
      stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("expected the operation to fail");
  }

  private static Set<String> fields(Throwable t) {
    assertThat(t).isInstanceOf(ValidationException.class);
    return ((ValidationException) t).errors().stream().map(FieldError::field).collect(Collectors.toSet());
  }

  private static Map<String, QueueCounts> counts(JobStore s, Instant now) {
    return join(s.queueCounts(now)).stream().collect(Collectors.toMap(QueueCounts::queue, Function.identity()));
  }

  private static List<Job> allJobs(JobStore s) {
    return join(s.list(new JobQuery(null, null, JobQuery.MAX_LIMIT, null))).items();
  }

  // ---- submit and get -----------------------------------------------------------------------------

  @Test
  void submittedJobReadsBackWithEveryField() {
    JobStore s = store(8);
    NewJob nj = new NewJob("reports", "{\"day\":\"2026-11-21\"}", 7, null, 3, "report-2026-11-21", "tenant-9",
        List.of("gpu", "region-eu"), Duration.ofMinutes(5), new RetryPolicy.Fixed(Duration.ofSeconds(10)), null);
    Submitted sub = join(s.submit(nj, at(T0)));
    assertThat(sub.created()).isTrue();
    Job j = get(s, sub.job().id());
    assertThat(j).isEqualTo(sub.job());
    assertThat(j.queue()).isEqualTo("reports");
    assertThat(j.state()).isEqualTo(JobState.READY);
    assertThat(j.payload()).isEqualTo("{\"day\":\"2026-11-21\"}");
    assertThat(j.priority()).isEqualTo(7);
    assertThat(j.maxAttempts()).isEqualTo(3);
    assertThat(j.attemptCount()).isZero();
    assertThat(j.idempotencyKey()).isEqualTo("report-2026-11-21");
    assertThat(j.partitionKey()).isEqualTo("tenant-9");
    assertThat(j.partition()).isEqualTo(s.partitionOf("tenant-9", "report-2026-11-21"));
    assertThat(j.tags()).containsExactly("gpu", "region-eu");
    assertThat(j.timeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(j.runAt()).isEqualTo(T0);
    assertThat(j.createdAt()).isEqualTo(T0);
    assertThat(j.finishedAt()).isNull();
    assertThat(j.attempts()).isEmpty();
    assertThat(join(s.get("999999"))).isEmpty();
    assertThat(join(s.get("not-an-id"))).isEmpty();
  }

  @Test
  void partitionFollowsThePartitionKeyElseTheIdempotencyKey() {
    JobStore s = store(16);
    assertThat(s.partitions()).isEqualTo(16);
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 50; i++) {
      Job a = submit(s, NewJob.of("q", "1").withPartitionKey("k" + i), T0);
      Job b = submit(s, NewJob.of("q", "2").withPartitionKey("k" + i).withIdempotencyKey("other" + i), T0);
      Job c = submit(s, NewJob.of("q", "3").withIdempotencyKey("k" + i), T0);
      assertThat(a.partition()).isEqualTo(b.partition()).isEqualTo(c.partition())
          .isEqualTo(s.partitionOf("k" + i, null)).isBetween(0, 15);
      seen.add(a.partition());
    }
    assertThat(seen).as("keys spread over the partitions").hasSizeGreaterThan(8);
    for (int i = 0; i < 200; i++) {
      seen.add(submit(s, NewJob.of("q", "{}"), T0).partition());
    }
    assertThat(seen).allMatch(p -> p >= 0 && p < 16);
  }

  // ---- validation (G7) ----------------------------------------------------------------------------

  @Test
  void badValuesAreRejectedBeforeAnyWrite() {
    JobStore s = store();
    assertThat(fields(failure(s.submit(NewJob.of("q", "{}").withPriority(1001), at(T0))))).containsExactly("priority");
    assertThat(fields(failure(s.submit(NewJob.of("q", "{}").withMaxAttempts(0), at(T0))))).containsExactly("maxAttempts");
    String big = "\"" + "x".repeat(MAX_PAYLOAD) + "\"";
    assertThat(fields(failure(s.submit(NewJob.of("q", big), at(T0))))).containsExactly("payload");
    assertThat(fields(failure(s.submit(NewJob.of("Bad Queue!", "{}"), at(T0))))).containsExactly("queue");
    assertThat(fields(failure(s.submitBatch(List.of(), at(T0))))).containsExactly("jobs");
    List<NewJob> tooMany = IntStream.range(0, JobStore.MAX_BATCH + 1).mapToObj(i -> NewJob.of("q", "{}")).toList();
    assertThat(fields(failure(s.submitBatch(tooMany, at(T0))))).containsExactly("jobs");
    assertThat(allJobs(s)).isEmpty();
    assertThat(join(s.queueCounts(T0))).isEmpty();
  }

  @Test
  void aBatchIsAllOrNone() {
    JobStore s = store();
    List<NewJob> batch = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      batch.add(NewJob.of("q", "{\"i\":" + i + "}"));
    }
    batch.set(3, NewJob.of("q", "{}").withPriority(-5000));
    batch.set(7, NewJob.of("q", "{}").withMaxAttempts(0));
    Throwable t = failure(s.submitBatch(batch, at(T0)));
    assertThat(fields(t)).containsExactlyInAnyOrder("jobs[3].priority", "jobs[7].maxAttempts");
    assertThat(allJobs(s)).isEmpty();

    batch.set(3, NewJob.of("q", "{}"));
    batch.set(7, NewJob.of("q", "{}"));
    List<Submitted> ok = join(s.submitBatch(batch, at(T0)));
    assertThat(ok).hasSize(10).allMatch(Submitted::created);
    assertThat(ok.stream().map(x -> x.job().id()).distinct()).hasSize(10);
    assertThat(allJobs(s)).hasSize(10);
  }

  // ---- idempotency (G3) ---------------------------------------------------------------------------

  @Test
  void aRepeatedIdempotencyKeyReturnsTheFirstJob() {
    JobStore s = store(4);
    Submitted first = join(s.submit(NewJob.of("q", "{\"v\":1}").withIdempotencyKey("k1"), at(T0)));
    Submitted again = join(s.submit(NewJob.of("q", "{\"v\":2}").withIdempotencyKey("k1").withPriority(9), at(T0.plusSeconds(5))));
    assertThat(first.created()).isTrue();
    assertThat(again.created()).isFalse();
    assertThat(again.job()).isEqualTo(get(s, first.job().id()));
    assertThat(again.job().payload()).isEqualTo("{\"v\":1}");
    // The key is unique per queue, not globally.
    assertThat(join(s.submit(NewJob.of("other", "{}").withIdempotencyKey("k1"), at(T0))).created()).isTrue();

    List<Submitted> batch = join(s.submitBatch(List.of(
        NewJob.of("q", "{\"v\":3}").withIdempotencyKey("k1"),
        NewJob.of("q", "{\"v\":4}").withIdempotencyKey("k2"),
        NewJob.of("q", "{\"v\":5}").withIdempotencyKey("k2"),
        NewJob.of("q", "{\"v\":6}")), at(T0)));
    assertThat(batch).extracting(Submitted::created).containsExactly(false, true, false, true);
    assertThat(batch.get(0).job().id()).isEqualTo(first.job().id());
    assertThat(batch.get(2).job().id()).isEqualTo(batch.get(1).job().id());
    assertThat(batch.get(2).job().payload()).isEqualTo("{\"v\":4}");
    assertThat(allJobs(s)).hasSize(4);
    assertThat(counts(s, T0).get("q").ready()).isEqualTo(3);
  }

  @Test
  void threadsRacingTheSameKeysCreateOneJobPerKey() throws Exception {
    JobStore s = store(4);
    int threads = 4;
    int keys = 100;
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> ts = new ArrayList<>();
    Map<String, Set<String>> idsByKey = new java.util.concurrent.ConcurrentHashMap<>();
    java.util.concurrent.atomic.AtomicInteger created = new java.util.concurrent.atomic.AtomicInteger();
    for (int t = 0; t < threads; t++) {
      int tn = t;
      ts.add(new Thread(() -> {
        try {
          start.await();
          for (int k = 0; k < keys; k++) {
            String key = "key-" + k;
            Submitted sub = (k + tn) % 2 == 0
                ? join(s.submit(NewJob.of("q", "{}").withIdempotencyKey(key), at(T0)))
                : join(s.submitBatch(List.of(NewJob.of("q", "{}").withIdempotencyKey(key)), at(T0))).get(0);
            idsByKey.computeIfAbsent(key, x -> java.util.concurrent.ConcurrentHashMap.newKeySet()).add(sub.job().id());
            if (sub.created()) {
              created.incrementAndGet();
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }));
    }
    ts.forEach(Thread::start);
    start.countDown();
    for (Thread t : ts) {
      t.join(60_000);
    }
    assertThat(created.get()).isEqualTo(keys);
    assertThat(idsByKey).hasSize(keys).allSatisfy((k, ids) -> assertThat(ids).hasSize(1));
    assertThat(counts(s, T0).get("q").ready()).isEqualTo(keys);
  }

  // ---- claim ----------------------------------------------------------------------------------------

  @Test
  void claimTakesHigherPriorityFirstThenOldestDue() {
    JobStore s = store();
    Job low = submit(s, NewJob.of("q", "\"low\"").withPriority(-1), T0);
    Job mid1 = submit(s, NewJob.of("q", "\"mid1\""), T0.plusMillis(2));
    Job mid0 = submit(s, NewJob.of("q", "\"mid0\"").withRunAt(T0.minusSeconds(60)), T0.plusMillis(3));
    Job high = submit(s, NewJob.of("q", "\"high\"").withPriority(1000), T0.plusMillis(4));
    Job mid2 = submit(s, NewJob.of("q", "\"mid2\""), T0.plusMillis(5));

    List<ClaimedJob> first = claim(s, 3, T0.plusSeconds(1));
    assertThat(first).extracting(ClaimedJob::id).containsExactly(high.id(), mid0.id(), mid1.id());
    List<ClaimedJob> rest = claim(s, 10, T0.plusSeconds(1));
    assertThat(rest).extracting(ClaimedJob::id).containsExactly(mid2.id(), low.id());
    assertThat(claim(s, 10, T0.plusSeconds(1))).isEmpty();
  }

  @Test
  void claimLeasesTheJobAndStartsAnAttempt() {
    JobStore s = store();
    Job j = submit(s, NewJob.of("q", "{\"a\":1}").withIdempotencyKey("k").withTags(List.of())
        .withTimeout(Duration.ofSeconds(90)).withMaxAttempts(4), T0);
    Instant now = T0.plusMillis(250);
    ClaimedJob c = claim(s, 10, now).get(0);
    assertThat(c.id()).isEqualTo(j.id());
    assertThat(c.queue()).isEqualTo("q");
    assertThat(c.payload()).isEqualTo("{\"a\":1}");
    assertThat(c.attempt()).isEqualTo(1);
    assertThat(c.maxAttempts()).isEqualTo(4);
    assertThat(c.leaseToken()).isNotBlank();
    assertThat(c.idempotencyKey()).isEqualTo("k");
    assertThat(c.partition()).isEqualTo(j.partition());
    assertThat(c.timeout()).isEqualTo(Duration.ofSeconds(90));
    assertThat(c.dueAt()).isEqualTo(T0);
    assertThat(c.claimedAt()).isEqualTo(now);

    Job running = get(s, j.id());
    assertThat(running.state()).isEqualTo(JobState.RUNNING);
    assertThat(running.attemptCount()).isEqualTo(1);
    assertThat(running.attempts()).singleElement().satisfies(a -> {
      assertThat(a.number()).isEqualTo(1);
      assertThat(a.runner()).isEqualTo(RUNNER);
      assertThat(a.startedAt()).isEqualTo(now);
      assertThat(a.endedAt()).isNull();
      assertThat(a.outcome()).isNull();
    });
    // Leased: hidden from other claims until the lease expires.
    assertThat(claim(s, 10, now.plus(LEASE).minusMillis(1))).isEmpty();
  }

  @Test
  void aDelayedJobIsNotClaimableBeforeItsRunAt() {
    JobStore s = store();
    Instant runAt = T0.plusSeconds(60);
    Job j = submit(s, NewJob.of("q", "{}").withRunAt(runAt), T0);
    assertThat(j.state()).isEqualTo(JobState.SCHEDULED);
    assertThat(j.runAt()).isEqualTo(runAt);
    assertThat(counts(s, T0).get("q").scheduled()).isEqualTo(1);
    assertThat(join(s.partitionsWithDueWork(List.of(0), runAt.minusMillis(1)))).isEmpty();
    assertThat(claim(s, 10, runAt.minusMillis(1))).isEmpty();
    assertThat(join(s.partitionsWithDueWork(List.of(0), runAt))).containsExactly(0);
    List<ClaimedJob> c = claim(s, 10, runAt);
    assertThat(c).extracting(ClaimedJob::id).containsExactly(j.id());
    assertThat(c.get(0).dueAt()).isEqualTo(runAt);
  }

  @Test
  void claimHonoursQueuesAndWorkerTags() {
    JobStore s = store();
    Job plain = submit(s, NewJob.of("a", "{}"), T0);
    Job gpu = submit(s, NewJob.of("a", "{}").withTags(List.of("gpu")), T0);
    Job gpuEu = submit(s, NewJob.of("a", "{}").withTags(List.of("gpu", "region-eu")), T0);
    Job other = submit(s, NewJob.of("b", "{}"), T0);

    List<ClaimedJob> onlyB = join(s.claim(new ClaimRequest(0, Set.of("b"), Set.of("gpu", "region-eu"), 10, RUNNER, LEASE), at(T0)));
    assertThat(onlyB).extracting(ClaimedJob::id).containsExactly(other.id());
    List<ClaimedJob> noTags = join(s.claim(new ClaimRequest(0, Set.of(), Set.of(), 10, RUNNER, LEASE), at(T0)));
    assertThat(noTags).extracting(ClaimedJob::id).containsExactly(plain.id());
    List<ClaimedJob> gpuOnly = join(s.claim(new ClaimRequest(0, Set.of("a"), Set.of("gpu", "x"), 10, RUNNER, LEASE), at(T0)));
    assertThat(gpuOnly).extracting(ClaimedJob::id).containsExactly(gpu.id());
    assertThat(gpuOnly.get(0).tags()).containsExactly("gpu");
    List<ClaimedJob> all = join(s.claim(new ClaimRequest(0, Set.of(), Set.of("gpu", "region-eu", "x"), 10, RUNNER, LEASE), at(T0)));
    assertThat(all).extracting(ClaimedJob::id).containsExactly(gpuEu.id());
  }

  @Test
  void claimStaysInsideItsPartition() {
    JobStore s = store(4);
    Map<Integer, List<String>> byPartition = new java.util.HashMap<>();
    for (int i = 0; i < 40; i++) {
      Job j = submit(s, NewJob.of("q", "{}").withPartitionKey("pk" + i), T0);
      byPartition.computeIfAbsent(j.partition(), p -> new ArrayList<>()).add(j.id());
    }
    for (int p = 0; p < 4; p++) {
      assertThat(claim(s, p, 100, T0)).extracting(ClaimedJob::id)
          .containsExactlyInAnyOrderElementsOf(byPartition.getOrDefault(p, List.of()));
    }
  }

  @Test
  void anAtMostOnceJobIsFinishedWhenClaimedAndNeverRetried() {
    JobStore s = store();
    Job j = submit(s, NewJob.of("q", "{}").withDelivery(Delivery.AT_MOST_ONCE), T0);
    ClaimedJob c = claim(s, 10, T0).get(0);
    Job claimed = get(s, j.id());
    assertThat(claimed.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(claimed.finishedAt()).isEqualTo(T0);
    assertThat(claimed.attempts()).singleElement().satisfies(a -> assertThat(a.endedAt()).isNull());
    assertThat(join(s.renewLeases(RUNNER, List.of(new Lease(c.id(), c.leaseToken())), LEASE, at(T0.plusSeconds(1))))).isEmpty();

    CompletionResult r = fail(s, c, true, T0.plusSeconds(2));
    assertThat(r.accepted()).isTrue();
    assertThat(r.newState()).isEqualTo(JobState.SUCCEEDED);
    Job done = get(s, j.id());
    assertThat(done.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(done.attempts()).singleElement().satisfies(a -> {
      assertThat(a.outcome()).isEqualTo(AttemptOutcome.FAILED);
      assertThat(a.endedAt()).isEqualTo(T0.plusSeconds(2));
    });
    assertThat(claim(s, 10, T0.plusSeconds(3600))).isEmpty();
    assertThat(counts(s, T0).get("q").succeeded()).isEqualTo(1);
  }

  // ---- leases -------------------------------------------------------------------------------------

  /** Three claimed jobs at T0, the second cancelled at T0 + 1 s. */
  private static List<ClaimedJob> threeClaimedOneCancelled(JobStore s) {
    for (int i = 0; i < 3; i++) {
      submit(s, NewJob.of("q", "{}"), T0);
    }
    List<ClaimedJob> c = claim(s, 3, T0);
    join(s.cancel(c.get(1).id(), at(T0.plusSeconds(1))));
    return c;
  }

  /** The runner's view of its leases: c0 held, c1 cancelled, c2 with a wrong token, one unknown job. */
  private static List<Lease> heldAndLost(List<ClaimedJob> c) {
    return List.of(
        new Lease(c.get(0).id(), c.get(0).leaseToken()),
        new Lease(c.get(1).id(), c.get(1).leaseToken()),
        new Lease(c.get(2).id(), "not-the-token"),
        new Lease("424242", "gone"));
  }

  @Test
  void notHeldNamesTheLeasesARunnerLostWithoutWriting() {
    JobStore s = store();
    List<ClaimedJob> c = threeClaimedOneCancelled(s);
    List<Lease> held = heldAndLost(c);
    assertThat(join(s.notHeld(RUNNER, held))).containsExactlyInAnyOrder(c.get(1).id(), c.get(2).id(), "424242");
    assertThat(join(s.notHeld("runner-b#1", List.of(held.get(0))))).containsExactly(c.get(0).id());
    assertThat(join(s.notHeld(RUNNER, List.of()))).isEmpty();
    // A read: no lease moved.
    assertThat(join(s.reapExpired(0, at(T0.plus(LEASE))))).containsExactlyInAnyOrder(c.get(0).id(), c.get(2).id());
  }

  @Test
  void renewExtendsHeldLeasesAndReportsTheLostOnes() {
    JobStore s = store();
    List<ClaimedJob> c = threeClaimedOneCancelled(s);
    List<Lease> held = heldAndLost(c);
    Instant renewAt = T0.plusSeconds(20);
    Set<String> lost = join(s.renewLeases(RUNNER, held, LEASE, at(renewAt)));
    assertThat(lost).containsExactlyInAnyOrder(c.get(1).id(), c.get(2).id(), "424242");
    // Another runner cannot renew this runner's lease even with the token.
    assertThat(join(s.renewLeases("runner-b#1", List.of(held.get(0)), LEASE, at(renewAt)))).containsExactly(c.get(0).id());

    // c0 was renewed to renewAt+LEASE; c2 was not and expires at T0+LEASE.
    assertThat(join(s.reapExpired(0, at(T0.plus(LEASE))))).containsExactly(c.get(2).id());
    assertThat(join(s.reapExpired(0, at(renewAt.plus(LEASE).minusMillis(1))))).isEmpty();
    assertThat(join(s.reapExpired(0, at(renewAt.plus(LEASE))))).containsExactly(c.get(0).id());
    assertThat(join(s.renewLeases(RUNNER, List.of(), LEASE, at(renewAt)))).isEmpty();
  }

  @Test
  void aStaleTokenIsRefusedAndCounted() {
    JobStore s = store();
    Job j = submit(s, NewJob.of("q", "{}").withMaxAttempts(5), T0);
    ClaimedJob first = claim(s, 1, T0).get(0);
    long before = s.leaseRejections();

    Completion forged = new Completion(j.id(), "forged", AttemptOutcome.SUCCEEDED, false, null, null, null, "w", T0);
    assertThat(join(s.complete(List.of(forged), at(T0))).get(0).accepted()).isFalse();
    assertThat(s.leaseRejections()).isEqualTo(before + 1);

    // The lease expires, the job is reaped and claimed again: the first token is now stale.
    assertThat(join(s.reapExpired(0, at(T0.plus(LEASE))))).containsExactly(j.id());
    ClaimedJob second = claim(s, 1, T0.plus(LEASE)).get(0);
    assertThat(second.leaseToken()).isNotEqualTo(first.leaseToken());
    assertThat(second.attempt()).isEqualTo(2);
    CompletionResult stale = succeed(s, first, T0.plus(LEASE).plusSeconds(1));
    assertThat(stale.accepted()).isFalse();
    assertThat(stale.newState()).isNull();
    assertThat(s.leaseRejections()).isEqualTo(before + 2);
    assertThat(get(s, j.id()).state()).isEqualTo(JobState.RUNNING);

    // The current holder completes; a second completion of the same attempt is refused too.
    List<CompletionResult> both = join(s.complete(List.of(
        Completion.succeeded(second, "w", T0.plus(LEASE).plusSeconds(2)),
        Completion.succeeded(second, "w", T0.plus(LEASE).plusSeconds(2))), at(T0.plus(LEASE).plusSeconds(2))));
    assertThat(both).extracting(CompletionResult::accepted).containsExactly(true, false);
    assertThat(both.get(0).newState()).isEqualTo(JobState.SUCCEEDED);
    assertThat(both.get(0).queue()).isEqualTo("q");
    assertThat(s.leaseRejections()).isEqualTo(before + 3);
    Job done = get(s, j.id());
    assertThat(done.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(done.attempts()).extracting(Attempt::outcome)
        .containsExactly(AttemptOutcome.LEASE_EXPIRED, AttemptOutcome.SUCCEEDED);
  }

  @Test
  void reapingAnExpiredLeaseEndsTheAttemptAsLeaseExpired() {
    JobStore s = store();
    Job j = submit(s, NewJob.of("q", "{}").withMaxAttempts(2), T0);
    claim(s, 1, T0);
    assertThat(join(s.reapExpired(0, at(T0.plus(LEASE).minusMillis(1))))).isEmpty();
    assertThat(join(s.reapExpired(0, at(T0.plus(LEASE))))).containsExactly(j.id());
    Job ready = get(s, j.id());
    assertThat(ready.state()).isEqualTo(JobState.READY);
    assertThat(ready.attemptCount()).isEqualTo(1);
    assertThat(ready.attempts()).singleElement().satisfies(a -> {
      assertThat(a.outcome()).isEqualTo(AttemptOutcome.LEASE_EXPIRED);
      assertThat(a.runner()).isEqualTo(RUNNER);
      assertThat(a.startedAt()).isEqualTo(T0);
      assertThat(a.endedAt()).isEqualTo(T0.plus(LEASE));
    });
    // The second and last attempt expires too: no attempts left, so the job is dead.
    Instant t1 = T0.plus(LEASE).plusSeconds(1);
    claim(s, 1, t1);
    assertThat(join(s.reapExpired(0, at(t1.plus(LEASE))))).containsExactly(j.id());
    Job dead = get(s, j.id());
    assertThat(dead.state()).isEqualTo(JobState.DEAD);
    assertThat(dead.finishedAt()).isEqualTo(t1.plus(LEASE));
    assertThat(dead.attempts()).extracting(Attempt::number).containsExactly(1, 2);
  }

  @Test
  void releaseMakesJobsReadyAtOnceWithoutSpendingAnAttempt() {
    JobStore s = store();
    Job j = submit(s, NewJob.of("q", "{}").withMaxAttempts(1), T0);
    ClaimedJob c = claim(s, 1, T0).get(0);
    int n = join(s.release(List.of(new Lease(c.id(), c.leaseToken()), new Lease(c.id(), "stale")), "shutdown", at(T0.plusSeconds(1))));
    assertThat(n).isEqualTo(1);
    Job ready = get(s, j.id());
    assertThat(ready.state()).isEqualTo(JobState.READY);
    assertThat(ready.attemptCount()).isZero();
    assertThat(ready.attempts()).singleElement().satisfies(a -> {
      assertThat(a.outcome()).isEqualTo(AttemptOutcome.CANCELLED);
      assertThat(a.error()).isEqualTo("shutdown");
    });
    ClaimedJob again = claim(s, 1, T0.plusSeconds(1)).get(0);
    assertThat(again.attempt()).isEqualTo(2);
    assertThat(succeed(s, c, T0.plusSeconds(2)).accepted()).isFalse();
  }

  // ---- retries and dead letters (G6) ----------------------------------------------------------------

  @Test
  void aRetryableFailureWaitsTheFixedDelay() {
    JobStore s = store();
    Job j = submit(s, NewJob.of("q", "{}").withRetry(new RetryPolicy.Fixed(Duration.ofSeconds(10))), T0);
    ClaimedJob c = claim(s, 1, T0).get(0);
    Instant failedAt = T0.plusSeconds(1);
    CompletionResult r = fail(s, c, true, failedAt);
    assertThat(r.accepted()).isTrue();
    assertThat(r.newState()).isEqualTo(JobState.SCHEDULED);
    assertThat(get(s, j.id()).state()).isEqualTo(JobState.SCHEDULED);
    assertThat(claim(s, 1, failedAt.plusSeconds(10).minusMillis(1))).isEmpty();
    ClaimedJob retry = claim(s, 1, failedAt.plusSeconds(10)).get(0);
    assertThat(retry.attempt()).isEqualTo(2);
    assertThat(retry.dueAt()).isEqualTo(failedAt.plusSeconds(10));
  }

  @Test
  void anImmediateRetryIsReadyAtOnce() {
    JobStore s = store();
    submit(s, NewJob.of("q", "{}").withRetry(new RetryPolicy.Immediate()), T0);
    ClaimedJob c = claim(s, 1, T0).get(0);
    assertThat(fail(s, c, true, T0).newState()).isEqualTo(JobState.READY);
    assertThat(claim(s, 1, T0)).hasSize(1);
  }

  @Test
  void exponentialRetryDelaysStayWithinThePolicyBoundsJitterIncluded() {
    JobStore s = store();
    RetryPolicy.Exponential noJitter = new RetryPolicy.Exponential(
        Duration.ofSeconds(1), 2.0, Duration.ofSeconds(3), RetryPolicy.Jitter.NONE);
    Job exact = submit(s, NewJob.of("exact", "{}").withRetry(noJitter), T0);
    // Without jitter the delays are exactly 1s, 2s, then capped at 3s.
    Instant t = T0;
    for (long expected : new long[] {1000, 2000, 3000}) {
      ClaimedJob c = claim(s, 1, t).get(0);
      assertThat(c.id()).isEqualTo(exact.id());
      fail(s, c, true, t);
      assertThat(claim(s, 1, t.plusMillis(expected - 1))).isEmpty();
      t = t.plusMillis(expected);
      assertThat(join(s.partitionsWithDueWork(List.of(0), t))).containsExactly(0);
    }
    claim(s, 1, t);

    // Full jitter: uniform in [0, ceiling]. Over 60 jobs, every delay is within the bound and they
    // do not all sit at the ceiling (probability of a false failure: 2^-60).
    RetryPolicy.Exponential jitter = new RetryPolicy.Exponential(
        Duration.ofSeconds(8), 2.0, Duration.ofHours(1), RetryPolicy.Jitter.FULL);
    Instant start = T0.plusSeconds(1000);
    List<Job> jobs = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      jobs.add(submit(s, NewJob.of("jit", "{}").withRetry(jitter), start));
    }
    List<ClaimedJob> claimed = join(s.claim(new ClaimRequest(0, Set.of("jit"), Set.of(), 100, RUNNER, LEASE), at(start)));
    assertThat(claimed).hasSize(60);
    for (ClaimedJob c : claimed) {
      fail(s, c, true, start);
    }
    Map<String, Long> delays = new java.util.HashMap<>();
    for (long ms = 0; ms <= 8000; ms += 500) {
      for (ClaimedJob c : join(s.claim(new ClaimRequest(0, Set.of("jit"), Set.of(), 100, RUNNER, LEASE), at(start.plusMillis(ms))))) {
        delays.put(c.id(), c.dueAt().toEpochMilli() - start.toEpochMilli());
      }
    }
    assertThat(delays).as("every job retried by the ceiling").hasSize(60);
    assertThat(delays.values()).allMatch(d -> d >= 0 && d <= 8000);
    assertThat(delays.values()).anyMatch(d -> d < 4000);
  }

  @Test
  void exhaustedJobsGoToTheDeadLetterQueueWithEveryAttempt() {
    JobStore s = store();
    Job j = submit(s, NewJob.of("q", "{}").withMaxAttempts(3).withRetry(new RetryPolicy.Immediate()), T0);
    for (int i = 1; i <= 3; i++) {
      ClaimedJob c = claim(s, 1, T0.plusSeconds(i)).get(0);
      assertThat(c.attempt()).isEqualTo(i);
      CompletionResult r = fail(s, c, true, T0.plusSeconds(i).plusMillis(500));
      assertThat(r.newState()).isEqualTo(i < 3 ? JobState.READY : JobState.DEAD);
    }
    Job dead = get(s, j.id());
    assertThat(dead.state()).isEqualTo(JobState.DEAD);
    assertThat(dead.attemptCount()).isEqualTo(3);
    assertThat(dead.finishedAt()).isEqualTo(T0.plusSeconds(3).plusMillis(500));
    assertThat(dead.attempts()).hasSize(3);
    for (int i = 1; i <= 3; i++) {
      Attempt a = dead.attempts().get(i - 1);
      assertThat(a.number()).isEqualTo(i);
      assertThat(a.runner()).isEqualTo(RUNNER);
      assertThat(a.worker()).isEqualTo("w-2");
      assertThat(a.startedAt()).isEqualTo(T0.plusSeconds(i));
      assertThat(a.endedAt()).isEqualTo(T0.plusSeconds(i).plusMillis(500));
      assertThat(a.outcome()).isEqualTo(AttemptOutcome.FAILED);
      assertThat(a.error()).isEqualTo("boom " + i);
      assertThat(a.exitCode()).isEqualTo(i);
      assertThat(a.logTail()).isEqualTo("tail " + i);
    }
    assertThat(join(s.list(new JobQuery("q", JobState.DEAD, 10, null))).items()).extracting(Job::id).containsExactly(j.id());
    assertThat(counts(s, T0).get("q").dead()).isEqualTo(1);
  }

  @Test
  void aNonRetryableFailureIsDeadAtOnce() {
    JobStore s = store();
    Job j = submit(s, NewJob.of("q", "{}").withMaxAttempts(5), T0);
    ClaimedJob c = claim(s, 1, T0).get(0);
    assertThat(fail(s, c, false, T0.plusSeconds(1)).newState()).isEqualTo(JobState.DEAD);
    assertThat(get(s, j.id()).attempts()).hasSize(1);
    Job j2 = submit(s, NewJob.of("q", "{}").withMaxAttempts(5), T0);
    ClaimedJob c2 = claim(s, 1, T0.plusSeconds(2)).get(0);
    Completion timedOut = new Completion(c2.id(), c2.leaseToken(), AttemptOutcome.TIMED_OUT, true, "timeout", null, null, "w", T0.plusSeconds(3));
    assertThat(join(s.complete(List.of(timedOut), at(T0.plusSeconds(3)))).get(0).newState()).isEqualTo(JobState.SCHEDULED);
    assertThat(get(s, j2.id()).attempts()).extracting(Attempt::outcome).containsExactly(AttemptOutcome.TIMED_OUT);
  }

  @Test
  void aJobWhoseLeaseEndedOrWasReleasedGoesBackToItsOldPlaceInTheQueue() {
    JobStore s = store();
    Job a = submit(s, NewJob.of("q", "{}"), T0);
    Job b = submit(s, NewJob.of("q", "{}"), T0.plusSeconds(2));
    assertThat(claim(s, 1, T0.plusSeconds(1))).extracting(ClaimedJob::id).containsExactly(a.id());
    Instant expired = T0.plusSeconds(1).plus(LEASE);
    assertThat(join(s.reapExpired(0, at(expired)))).containsExactly(a.id());
    // a has been due since T0, b only since T0+2: a crashed runner's job does not queue behind b.
    assertThat(claim(s, 1, expired.plusSeconds(1))).extracting(ClaimedJob::id).containsExactly(a.id());
    Job c = submit(s, NewJob.of("q", "{}"), expired.plusSeconds(2));
    ClaimedJob taken = claim(s, 1, expired.plusSeconds(3)).get(0);
    assertThat(taken.id()).isEqualTo(b.id());
    assertThat(join(s.release(List.of(new Lease(taken.id(), taken.leaseToken())), "shutdown",
        at(expired.plusSeconds(4))))).isEqualTo(1);
    assertThat(claim(s, 1, expired.plusSeconds(5))).extracting(ClaimedJob::id).containsExactly(b.id());
    assertThat(claim(s, 1, expired.plusSeconds(6))).extracting(ClaimedJob::id).containsExactly(c.id());
  }

  @Test
  void aStealClaimTakesOnlyJobsThatHaveWaited() {
    JobStore s = store();
    Job early = submit(s, NewJob.of("q", "{}"), T0);
    Job late = submit(s, NewJob.of("q", "{}"), T0.plusSeconds(10));
    Instant now = T0.plusSeconds(11);
    List<ClaimedJob> stolen = join(s.claim(new ClaimRequest(0, Set.of(), Set.of(), 10, RUNNER, LEASE,
        Duration.ofSeconds(2)), at(now)));
    assertThat(stolen).extracting(ClaimedJob::id).containsExactly(early.id());
    // Combined with completions in one round, the completion is written and the claim still filters.
    List<ClaimedJob> next = join(s.round(
        List.of(Completion.succeeded(stolen.get(0), "w-1", now)),
        List.of(new ClaimRequest(0, Set.of(), Set.of(), 10, RUNNER, LEASE, Duration.ofSeconds(2))),
        Map.of(), 10, at(now.plusSeconds(5)))).claimed();
    assertThat(next).extracting(ClaimedJob::id).containsExactly(late.id());
    assertThat(get(s, early.id()).state()).isEqualTo(JobState.SUCCEEDED);
  }

  @Test
  void aRoundWritesItsCompletionsAndHonoursItsTotalAndTheQueueCapsAcrossPartitions() {
    JobStore s = store(2);
    Job first = submit(s, NewJob.of("free", "{}").withPartitionKey("z"), T0.minusSeconds(1));
    ClaimedJob running = claim(s, s.partitionOf("z", null), 1, T0).get(0);
    assertThat(running.id()).isEqualTo(first.id());
    for (int i = 0; i < 6; i++) {
      submit(s, NewJob.of("one", "{}").withPartitionKey("a" + i), T0);
      submit(s, NewJob.of("free", "{}").withPartitionKey("a" + i), T0);
    }
    List<ClaimRequest> claims = List.of(
        new ClaimRequest(0, Set.of("one", "free"), Set.of(), 100, RUNNER, LEASE),
        new ClaimRequest(1, Set.of("one", "free"), Set.of(), 100, RUNNER, LEASE));
    Reconciled r = join(s.round(List.of(Completion.succeeded(running, "w-1", T0.plusSeconds(1))), claims,
        Map.of("one", 2), 5, at(T0.plusSeconds(1))));
    assertThat(r.results()).singleElement().satisfies(c -> assertThat(c.accepted()).isTrue());
    assertThat(r.claimed()).hasSize(5);
    assertThat(r.claimed()).filteredOn(j -> j.queue().equals("one")).hasSizeLessThanOrEqualTo(2);
    // Nothing more of "one" while the cap is spent; the rest of "free" comes with a new total.
    Reconciled more = join(s.round(List.of(), claims, Map.of("one", 0), 100, at(T0.plusSeconds(2))));
    assertThat(more.claimed()).allMatch(j -> j.queue().equals("free"));
    assertThat(r.claimed().size() + more.claimed().size())
        .isEqualTo(7 + (int) r.claimed().stream().filter(j -> j.queue().equals("one")).count() - 1);
  }

  @Test
  void aRoundThatCannotTakeEverythingTakesTheHighestPrioritiesFirstAcrossPartitions() {
    JobStore s = store(2);
    List<Job> low = new ArrayList<>();
    Job high = null;
    for (int i = 0; i < 40 && high == null; i++) {
      String key = "k" + i;
      if (s.partitionOf(key, null) == 0) {
        low.add(submit(s, NewJob.of("q", "{}").withPartitionKey(key), T0));
      } else {
        high = submit(s, NewJob.of("q", "{}").withPartitionKey(key).withPriority(10), T0.plusSeconds(1));
      }
    }
    assertThat(high).isNotNull();
    List<ClaimRequest> claims = List.of(
        new ClaimRequest(0, Set.of("q"), Set.of(), 100, RUNNER, LEASE),
        new ClaimRequest(1, Set.of("q"), Set.of(), 100, RUNNER, LEASE));
    Reconciled r = join(s.round(List.of(), claims, Map.of(), 1, at(T0.plusSeconds(2))));
    assertThat(r.claimed()).extracting(ClaimedJob::id).containsExactly(high.id());
    assertThat(r.claimed().get(0).priority()).isEqualTo(10);
  }

  @Test
  void requeueResetsTheCountAndKeepsTheHistory() {
    JobStore s = store();
    Job j = submit(s, NewJob.of("q", "{}").withMaxAttempts(2).withRetry(new RetryPolicy.Immediate()), T0);
    fail(s, claim(s, 1, T0).get(0), true, T0);
    fail(s, claim(s, 1, T0).get(0), true, T0);
    assertThat(get(s, j.id()).state()).isEqualTo(JobState.DEAD);

    Job requeued = join(s.requeue(j.id(), at(T0.plusSeconds(5))));
    assertThat(requeued.state()).isEqualTo(JobState.READY);
    assertThat(requeued.attemptCount()).isZero();
    assertThat(requeued.finishedAt()).isNull();
    assertThat(requeued.attempts()).hasSize(2);
    ClaimedJob again = claim(s, 1, T0.plusSeconds(5)).get(0);
    assertThat(again.attempt()).as("attempt numbers keep counting").isEqualTo(3);
    // Two attempts are allowed again after the requeue.
    assertThat(fail(s, again, true, T0.plusSeconds(6)).newState()).isEqualTo(JobState.READY);
    assertThat(succeed(s, claim(s, 1, T0.plusSeconds(6)).get(0), T0.plusSeconds(7)).newState()).isEqualTo(JobState.SUCCEEDED);
    Job done = get(s, j.id());
    assertThat(done.attempts()).extracting(Attempt::number).containsExactly(1, 2, 3, 4);
    assertThat(done.attemptCount()).isEqualTo(2);

    assertThat(failure(s.requeue(j.id(), at(T0)))).isInstanceOf(JobConflictException.class);
    assertThat(failure(s.requeue("987654", at(T0)))).isInstanceOf(JobNotFoundException.class);
    Map<String, QueueCounts> n = counts(s, T0);
    assertThat(n.get("q").succeeded()).isEqualTo(1);
    assertThat(n.get("q").dead()).isZero();
  }

  // ---- cancel ---------------------------------------------------------------------------------------

  @Test
  void cancelStopsReadyScheduledAndRunningJobs() {
    JobStore s = store();
    Job ready = submit(s, NewJob.of("q", "{}").withPriority(-1), T0);
    Job scheduled = submit(s, NewJob.of("q", "{}").withRunAt(T0.plusSeconds(100)), T0);
    Job running = submit(s, NewJob.of("q", "{}").withPriority(5), T0);
    ClaimedJob c = claim(s, 1, T0).get(0);
    assertThat(c.id()).isEqualTo(running.id());

    Instant at = T0.plusSeconds(2);
    assertThat(join(s.cancel(ready.id(), at(at))).state()).isEqualTo(JobState.CANCELLED);
    assertThat(join(s.cancel(scheduled.id(), at(at))).finishedAt()).isEqualTo(at);
    Job cancelled = join(s.cancel(running.id(), at(at)));
    assertThat(cancelled.state()).isEqualTo(JobState.CANCELLED);
    assertThat(cancelled.attempts()).singleElement().satisfies(a -> {
      assertThat(a.outcome()).isEqualTo(AttemptOutcome.CANCELLED);
      assertThat(a.endedAt()).isEqualTo(at);
    });
    // The runner loses the lease: renewal reports it, its completion is refused.
    assertThat(join(s.renewLeases(RUNNER, List.of(new Lease(c.id(), c.leaseToken())), LEASE, at(at)))).containsExactly(c.id());
    assertThat(succeed(s, c, at).accepted()).isFalse();
    assertThat(join(s.reapExpired(0, at(at.plus(Duration.ofDays(1)))))).isEmpty();
    assertThat(claim(s, 10, at.plus(Duration.ofDays(1)))).isEmpty();

    Throwable t = failure(s.cancel(running.id(), at(at)));
    assertThat(t).isInstanceOf(JobConflictException.class);
    assertThat(((JobConflictException) t).state()).isEqualTo(JobState.CANCELLED);
    assertThat(failure(s.cancel("31337", at(at)))).isInstanceOf(JobNotFoundException.class);
    assertThat(counts(s, at).get("q").cancelled()).isEqualTo(3);
  }

  // ---- purge ----------------------------------------------------------------------------------------

  @Test
  void purgeDeletesFinishedJobsPastTheirRetention() {
    JobStore s = store();
    Job old = submit(s, NewJob.of("q", "{}"), T0);
    succeed(s, claim(s, 1, T0).get(0), T0.plusSeconds(1));
    Job deadJob = submit(s, NewJob.of("q", "{}").withMaxAttempts(1), T0);
    fail(s, claim(s, 1, T0).get(0), true, T0.plusSeconds(1));
    Job cancelled = submit(s, NewJob.of("q", "{}").withRunAt(T0.plusSeconds(50)), T0);
    join(s.cancel(cancelled.id(), at(T0.plusSeconds(1))));
    Job recent = submit(s, NewJob.of("q", "{}"), T0);
    succeed(s, claim(s, 1, T0).get(0), T0.plusSeconds(100));
    Job live = submit(s, NewJob.of("q", "{}"), T0);
    Job running = submit(s, NewJob.of("q", "{}"), T0);
    assertThat(claim(s, 1, T0)).hasSize(1);

    // Succeeded/cancelled before T0+50s go; dead ones are kept until their own (earlier) cut-off.
    assertThat(join(s.purge(T0.plusSeconds(50), T0, 1))).isEqualTo(1);
    assertThat(join(s.purge(T0.plusSeconds(50), T0, 100))).isEqualTo(1);
    assertThat(join(s.get(old.id()))).isEmpty();
    assertThat(join(s.get(cancelled.id()))).isEmpty();
    assertThat(join(s.get(deadJob.id()))).isPresent();
    assertThat(join(s.purge(T0.plusSeconds(50), T0.plusSeconds(2), 100))).isEqualTo(1);
    assertThat(join(s.get(deadJob.id()))).isEmpty();
    assertThat(join(s.purge(T0.plusSeconds(50), T0.plusSeconds(2), 100))).isZero();
    Set<String> left = allJobs(s).stream().map(Job::id).collect(Collectors.toSet());
    assertThat(left).containsExactlyInAnyOrder(recent.id(), live.id(), running.id());
    Map<String, QueueCounts> n = counts(s, T0);
    assertThat(n.get("q").succeeded()).isEqualTo(1);
    assertThat(n.get("q").dead()).isZero();
    assertThat(n.get("q").cancelled()).isZero();
  }

  // ---- reads ----------------------------------------------------------------------------------------

  @Test
  void listPagesNewestFirstWithoutDuplicatesOrGaps() {
    JobStore s = store(4);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      ids.add(submit(s, NewJob.of(i % 2 == 0 ? "even" : "odd", "{\"i\":" + i + "}"), T0.plusMillis(i)).id());
    }
    List<String> seen = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      Page<Job> page = join(s.list(new JobQuery(null, null, 10, cursor)));
      page.items().forEach(j -> seen.add(j.id()));
      cursor = page.nextCursor();
      pages++;
    } while (cursor != null);
    assertThat(pages).isEqualTo(3);
    List<String> newestFirst = new ArrayList<>(ids);
    java.util.Collections.reverse(newestFirst);
    assertThat(seen).containsExactlyElementsOf(newestFirst);

    Page<Job> exact = join(s.list(new JobQuery("odd", null, 12, null)));
    assertThat(exact.items()).hasSize(12).allMatch(j -> j.queue().equals("odd"));
    assertThat(exact.nextCursor()).isNull();

    claim(s, 0, 100, T0.plusSeconds(1));
    List<Job> ready = join(s.list(new JobQuery("even", JobState.READY, 100, null))).items();
    assertThat(ready).allMatch(j -> j.state() == JobState.READY && j.queue().equals("even"));
    List<Job> running = join(s.list(new JobQuery(null, JobState.RUNNING, 100, null))).items();
    assertThat(running).isNotEmpty().allMatch(j -> j.state() == JobState.RUNNING && j.attempts().size() == 1);
    assertThat(ready.size() + join(s.list(new JobQuery("even", JobState.RUNNING, 100, null))).items().size()).isEqualTo(13);

    assertThat(failure(s.list(new JobQuery(null, null, 10, "bogus")))).isInstanceOf(ValidationException.class);
  }

  @Test
  void queueCountsFollowEveryTransition() {
    JobStore s = store();
    Instant now = T0.plusSeconds(10);
    submit(s, NewJob.of("a", "{}").withRunAt(T0.plusSeconds(3600)), T0);
    for (int i = 0; i < 4; i++) {
      submit(s, NewJob.of("a", "{}").withMaxAttempts(1), T0.plusSeconds(i));
    }
    submit(s, NewJob.of("b", "{}"), T0.plusSeconds(7));
    List<ClaimedJob> c = join(s.claim(new ClaimRequest(0, Set.of("a"), Set.of(), 3, RUNNER, LEASE), at(now)));
    succeed(s, c.get(0), now);
    fail(s, c.get(1), false, now);
    join(s.cancel(c.get(2).id(), at(now)));
    Map<String, QueueCounts> n = counts(s, now);
    assertThat(n.get("a")).isEqualTo(new QueueCounts("a", 1, 1, 0, 1, 1, 1, 7000));
    assertThat(n.get("b")).isEqualTo(new QueueCounts("b", 0, 1, 0, 0, 0, 0, 3000));
    claim(s, 10, now);
    assertThat(counts(s, now).get("b")).isEqualTo(new QueueCounts("b", 0, 0, 1, 0, 0, 0, 0));
  }

  @Test
  void partitionsWithDueWorkSeesReadyAndDueScheduledJobs() {
    JobStore s = store(8);
    Job a = submit(s, NewJob.of("q", "{}").withPartitionKey("a"), T0);
    Job b = submit(s, NewJob.of("q", "{}").withPartitionKey("b").withRunAt(T0.plusSeconds(10)), T0);
    List<Integer> all = IntStream.range(0, 8).boxed().toList();
    assertThat(join(s.partitionsWithDueWork(all, T0))).containsExactly(a.partition());
    Set<Integer> later = join(s.partitionsWithDueWork(all, T0.plusSeconds(10)));
    assertThat(later).contains(a.partition(), b.partition());
    assertThat(join(s.partitionsWithDueWork(List.of(), T0))).isEmpty();
    claim(s, a.partition(), 10, T0);
    assertThat(join(s.partitionsWithDueWork(List.of(a.partition()), T0))).isEmpty();
  }

  // ---- runners and leader ---------------------------------------------------------------------------

  @Test
  void runnersHeartbeatExpireAndDeregister() {
    JobStore s = store();
    Duration ttl = Duration.ofSeconds(5);
    join(s.heartbeat("r-b", "{\"n\":1}", ttl, at(T0)));
    join(s.heartbeat("r-a", "{}", ttl, at(T0.plusSeconds(1))));
    join(s.heartbeat("r-b", "{\"n\":2}", ttl, at(T0.plusSeconds(3))));
    List<RunnerRow> rows = join(s.runners(T0.plusSeconds(6)));
    assertThat(rows).extracting(RunnerRow::id).containsExactly("r-a", "r-b");
    assertThat(rows.get(0).alive()).isFalse();
    RunnerRow b = rows.get(1);
    assertThat(b.alive()).isTrue();
    assertThat(b.startedAt()).isEqualTo(T0);
    assertThat(b.heartbeatAt()).isEqualTo(T0.plusSeconds(3));
    assertThat(b.expiresAt()).isEqualTo(T0.plusSeconds(8));
    assertThat(b.statusJson()).isEqualTo("{\"n\":2}");
    join(s.deregister("r-b"));
    assertThat(join(s.runners(T0))).extracting(RunnerRow::id).containsExactly("r-a");
  }

  @Test
  void oneLeaderAtATime() {
    JobStore s = store();
    Duration ttl = Duration.ofSeconds(10);
    assertThat(join(s.tryLead("r-a", ttl, at(T0)))).isTrue();
    assertThat(join(s.tryLead("r-b", ttl, at(T0.plusSeconds(5))))).isFalse();
    assertThat(join(s.tryLead("r-a", ttl, at(T0.plusSeconds(6))))).isTrue();
    assertThat(join(s.tryLead("r-b", ttl, at(T0.plusSeconds(15))))).as("r-a renewed until 16s").isFalse();
    assertThat(join(s.tryLead("r-b", ttl, at(T0.plusSeconds(16))))).isTrue();
    assertThat(join(s.tryLead("r-a", ttl, at(T0.plusSeconds(17))))).isFalse();
    join(s.deregister("r-b"));
    assertThat(join(s.tryLead("r-a", ttl, at(T0.plusSeconds(18))))).as("a deregistered leader resigns").isTrue();
  }

  // ---- a whole lifecycle through the group-commit path --------------------------------------------

  @Test
  void everyJobOfABusyPartitionEndsExactlyOnce() {
    JobStore s = store(2);
    List<NewJob> batch = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      batch.add(NewJob.of("q", "{}").withPriority(i % 7).withRetry(new RetryPolicy.Immediate()));
    }
    join(s.submitBatch(batch, at(T0)));
    Set<String> succeeded = new HashSet<>();
    Instant now = T0;
    int rounds = 0;
    while (succeeded.size() < 500 && rounds++ < 1000) {
      for (int p = 0; p < 2; p++) {
        List<ClaimedJob> c = claim(s, p, 37, now);
        List<Completion> done = new ArrayList<>();
        for (ClaimedJob j : c) {
          // Every third first attempt fails, to exercise retries in the same group commit.
          boolean failIt = j.attempt() == 1 && Long.parseLong(j.id()) % 3 == 0;
          done.add(failIt
              ? Completion.failed(j, true, "x", 1, null, "w", now)
              : Completion.succeeded(j, "w", now));
        }
        for (CompletionResult r : join(s.complete(done, at(now)))) {
          assertThat(r.accepted()).isTrue();
          if (r.newState() == JobState.SUCCEEDED) {
            assertThat(succeeded.add(r.jobId())).as("completed twice: " + r.jobId()).isTrue();
          }
        }
      }
      now = now.plusMillis(1);
    }
    assertThat(succeeded).hasSize(500);
    assertThat(counts(s, now).get("q")).isEqualTo(new QueueCounts("q", 0, 0, 0, 500, 0, 0, 0));
    Collection<Job> sample = allJobs(s);
    assertThat(sample).allSatisfy(j -> assertThat(j.attempts()).hasSize(Long.parseLong(j.id()) % 3 == 0 ? 2 : 1));
  }
}
