package dev.slotted.orchestrator.runtime;

import static dev.slotted.orchestrator.store.JobStoreContractTest.at;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.orchestrator.metrics.Metrics;
import dev.slotted.orchestrator.reconcile.ReconcilerSettings;
import dev.slotted.orchestrator.store.JobQuery;
import dev.slotted.orchestrator.store.sqlite.SqliteJobStore;
import dev.slotted.orchestrator.store.sqlite.SqliteStoreSettings;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.NewJob;
import dev.slotted.protocol.WorkerProtocol;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The window owner against a real SQLite store, with a probe in place of the WorkerSupervisor: it
 * writes only inside the window, sizes claims from the capacity pushed to it, never claims a limited
 * queue beyond its room, and writes the completions of its jobs as a group.
 */
class WindowOwnerTest {
  private static final ActorTestKit KIT = ActorTestKit.create();
  private static final Clock CLOCK = Clock.systemUTC();
  private static final Duration WAIT = Duration.ofSeconds(5);

  @TempDir Path dir;

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  private static ReconcilerSettings settings(Set<String> queues) {
    return new ReconcilerSettings("r-1", queues, Set.of(), 100, Duration.ofSeconds(30), Duration.ofSeconds(2),
        Duration.ofSeconds(5));
  }

  private record Owner(ActorRef<WindowOwner.Command> ref, ActorRef<WorkerProtocol.CapacityReport> capacity) {}

  private static Owner owner(SqliteJobStore store, TestProbe<WorkerProtocol.Command> workers, Set<String> queues,
      int claimAhead, List<Long> windows) {
    ActorRef<WindowOwner.Command> ref = KIT.spawn(WindowOwner.create(store, workers.ref(), settings(queues),
        Duration.ofSeconds(1), Duration.ofMillis(20), claimAhead, CLOCK, Metrics.noop(),
        (cycle, work, endedAt) -> windows.add(cycle)));
    WorkerProtocol.Subscribe sub = workers.expectMessageClass(WorkerProtocol.Subscribe.class, WAIT);
    return new Owner(ref, sub.subscriber());
  }

  private static WorkerProtocol.CapacityReport idle(int capacity, long received) {
    return new WorkerProtocol.CapacityReport(capacity, 0, 0, received, Map.of(), Map.of(), true);
  }

  private static SqliteJobStore storeWith(Path file, int n, String queue) throws Exception {
    SqliteJobStore store = SqliteJobStore.open(SqliteStoreSettings.defaults(file).withPartitions(1));
    List<NewJob> jobs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      jobs.add(NewJob.of(queue, "{}"));
    }
    store.submitBatch(jobs, at(CLOCK.instant())).toCompletableFuture().get();
    return store;
  }

  @Test
  void writesWaitForTheWindowAndClaimsFollowThePushedCapacity() throws Exception {
    try (SqliteJobStore store = storeWith(dir.resolve("a.db"), 30, "q")) {
      TestProbe<WorkerProtocol.Command> workers = KIT.createTestProbe();
      List<Long> windows = new ArrayList<>();
      Owner o = owner(store, workers, Set.of("q"), 0, windows);
      o.capacity().tell(idle(12, 0));

      o.ref().tell(new WindowOwner.Backlog(0, false));
      CompletableFuture<String> write = new CompletableFuture<>();
      o.ref().tell(new WindowOwner.Write<>("probe", () -> CompletableFuture.completedFuture("ran"), write));
      workers.expectNoMessage(Duration.ofMillis(300)); // window closed: no claim
      assertThat(write).isNotDone();

      // A submit asked for while the window is closed: the time it stores is read when it runs.
      CompletableFuture<dev.slotted.orchestrator.store.Submitted> submitted = new WindowedStore(store, o.ref())
          .submit(NewJob.of("other", "{}"), CLOCK).toCompletableFuture();
      Thread.sleep(100);
      Instant opened = CLOCK.instant();
      o.ref().tell(new WindowOwner.Opened(1, opened.plusSeconds(10)));
      assertThat(write.get(5, TimeUnit.SECONDS)).isEqualTo("ran");
      WorkerProtocol.Dispatch d = workers.expectMessageClass(WorkerProtocol.Dispatch.class, WAIT);
      assertThat(d.jobs()).as("claim-ahead 0: exactly the idle workers").hasSize(12);
      // Decided 400 ms before the window: the claim's time (and lease) come from when it ran.
      assertThat(d.jobs()).allSatisfy(j -> assertThat(j.claimedAt()).isAfterOrEqualTo(opened));
      assertThat(submitted.get(5, TimeUnit.SECONDS).job().createdAt()).isAfterOrEqualTo(opened);
      workers.expectNoMessage(Duration.ofMillis(200)); // the jobs it sent are on their way: nothing more
      assertThat(count(store, JobState.RUNNING)).isEqualTo(12);

      o.ref().tell(WindowOwner.Closed.INSTANCE);
      // Completions reported while closed are written in the next window, as one group.
      for (ClaimedJob j : d.jobs()) {
        d.replyTo().tell(new WorkerProtocol.Finished(j, Completion.succeeded(j, "w-1", CLOCK.instant()), CLOCK.instant()));
      }
      o.capacity().tell(idle(12, 12));
      Thread.sleep(200);
      assertThat(count(store, JobState.SUCCEEDED)).as("no write outside the window").isZero();
      o.ref().tell(new WindowOwner.Opened(2, CLOCK.instant().plusSeconds(10)));
      WorkerProtocol.Dispatch next = workers.expectMessageClass(WorkerProtocol.Dispatch.class, WAIT);
      assertThat(count(store, JobState.SUCCEEDED)).isEqualTo(12);
      assertThat(next.jobs()).isNotEmpty();
      assertThat(windows).contains(1L);
    }
  }

  @Test
  void noWriteStartsInTheLastGuardOfTheWindow() throws Exception {
    try (SqliteJobStore store = storeWith(dir.resolve("g.db"), 5, "q")) {
      TestProbe<WorkerProtocol.Command> workers = KIT.createTestProbe();
      Owner o = owner(store, workers, Set.of("q"), 0, new ArrayList<>());
      o.capacity().tell(idle(5, 0));
      o.ref().tell(new WindowOwner.Opened(1, CLOCK.instant().plusMillis(10))); // inside the 20 ms guard
      o.ref().tell(new WindowOwner.Backlog(0, false));
      workers.expectNoMessage(Duration.ofMillis(300));
      assertThat(count(store, JobState.READY)).isEqualTo(5);
    }
  }

  @Test
  void afterSlowWritesNoWriteStartsWithLessOfTheWindowLeftThanTheyTook() throws Exception {
    try (SqliteJobStore store = storeWith(dir.resolve("s.db"), 1, "q")) {
      TestProbe<WorkerProtocol.Command> workers = KIT.createTestProbe();
      Owner o = owner(store, workers, Set.of("q"), 0, new ArrayList<>());
      o.ref().tell(new WindowOwner.Opened(1, CLOCK.instant().plusSeconds(10)));
      // A write that takes 150 ms, as on a starved machine: the margin grows to it, capped at a
      // tenth of the 1 s cycle.
      CompletableFuture<String> slow = new CompletableFuture<>();
      o.ref().tell(new WindowOwner.Write<>("slow", () -> CompletableFuture.supplyAsync(() -> "slow",
          CompletableFuture.delayedExecutor(150, TimeUnit.MILLISECONDS)), slow));
      assertThat(slow.get(5, TimeUnit.SECONDS)).isEqualTo("slow");
      o.ref().tell(WindowOwner.Closed.INSTANCE);

      o.ref().tell(new WindowOwner.Opened(2, CLOCK.instant().plusMillis(400)));
      Thread.sleep(320);
      // About 80 ms left: beyond the 20 ms guard, but less than recent writes took.
      CompletableFuture<String> late = new CompletableFuture<>();
      o.ref().tell(new WindowOwner.Write<>("late", () -> CompletableFuture.completedFuture("ran"), late));
      Thread.sleep(200);
      assertThat(late).as("not started with less window left than writes take").isNotDone();
      o.ref().tell(WindowOwner.Closed.INSTANCE);
      o.ref().tell(new WindowOwner.Opened(3, CLOCK.instant().plusSeconds(10)));
      assertThat(late.get(5, TimeUnit.SECONDS)).isEqualTo("ran");
    }
  }

  @Test
  void aLimitedQueueIsNeverClaimedBeyondItsRoom() throws Exception {
    try (SqliteJobStore store = storeWith(dir.resolve("b.db"), 8, "one")) {
      store.submitBatch(List.of(NewJob.of("free", "{}"), NewJob.of("free", "{}")), at(CLOCK.instant()))
          .toCompletableFuture().get();
      TestProbe<WorkerProtocol.Command> workers = KIT.createTestProbe();
      Owner o = owner(store, workers, Set.of("one", "free"), 100, new ArrayList<>());
      o.capacity().tell(new WorkerProtocol.CapacityReport(8, 0, 0, 0, Map.of("one", 1), Map.of("one", 0L), true));
      o.ref().tell(new WindowOwner.Opened(1, Instant.MAX));
      o.ref().tell(new WindowOwner.Backlog(0, false));
      WorkerProtocol.Dispatch d = workers.expectMessageClass(WorkerProtocol.Dispatch.class, WAIT);
      assertThat(d.jobs()).filteredOn(j -> j.queue().equals("one")).hasSize(1);
      assertThat(d.jobs()).filteredOn(j -> j.queue().equals("free")).hasSize(2);
      // Until the supervisor has the job and reports room again, no more of that queue.
      o.ref().tell(new WindowOwner.Backlog(0, false));
      workers.expectNoMessage(Duration.ofMillis(300));
      o.capacity().tell(new WorkerProtocol.CapacityReport(8, 1, 0, 3, Map.of("one", 0), Map.of("one", 1L), true));
      o.ref().tell(new WindowOwner.Backlog(0, false));
      workers.expectNoMessage(Duration.ofMillis(300));
      o.capacity().tell(new WorkerProtocol.CapacityReport(8, 0, 0, 3, Map.of("one", 1), Map.of("one", 1L), true));
      o.ref().tell(new WindowOwner.Backlog(0, false));
      assertThat(workers.expectMessageClass(WorkerProtocol.Dispatch.class, WAIT).jobs())
          .hasSize(1).allMatch(j -> j.queue().equals("one"));
    }
  }

  @Test
  void claimsAheadForTheRunTimeUntilItsNextWindowWithinClaimAhead() throws Exception {
    try (SqliteJobStore store = storeWith(dir.resolve("c.db"), 400, "q")) {
      TestProbe<WorkerProtocol.Command> workers = KIT.createTestProbe();
      Owner o = owner(store, workers, Set.of("q"), 100, new ArrayList<>());
      o.capacity().tell(idle(4, 0));
      o.ref().tell(new WindowOwner.Opened(1, CLOCK.instant().plusSeconds(10)));
      o.ref().tell(new WindowOwner.Backlog(0, false));
      WorkerProtocol.Dispatch d = workers.expectMessageClass(WorkerProtocol.Dispatch.class, WAIT);
      assertThat(d.jobs()).as("the idle workers and, run time unknown, one pool's worth ahead").hasSize(8);
      // Jobs of 100 ms: four workers run ~48 of them in the 1.2 s until the next window.
      Instant t = CLOCK.instant();
      for (ClaimedJob j : d.jobs()) {
        d.replyTo().tell(new WorkerProtocol.Finished(j, Completion.succeeded(j, "w-1", t.plusMillis(100)), t));
      }
      o.capacity().tell(idle(4, 8));
      o.ref().tell(new WindowOwner.Backlog(0, false));
      WorkerProtocol.Dispatch ahead = workers.expectMessageClass(WorkerProtocol.Dispatch.class, WAIT);
      assertThat(ahead.jobs().size()).isBetween(40, 60);

      // A huge horizon is bounded by claim-ahead (plus the idle workers).
      for (ClaimedJob j : ahead.jobs()) {
        d.replyTo().tell(new WorkerProtocol.Finished(j, Completion.succeeded(j, "w-1", t.plusNanos(2_000)), t));
      }
      o.capacity().tell(idle(4, 8 + ahead.jobs().size()));
      o.ref().tell(new WindowOwner.Backlog(0, false));
      int total = 0;
      while (total < 104) {
        total += workers.expectMessageClass(WorkerProtocol.Dispatch.class, WAIT).jobs().size();
      }
      assertThat(total).isEqualTo(104);
      workers.expectNoMessage(Duration.ofMillis(300));
    }
  }

  private static long count(SqliteJobStore store, JobState state) throws Exception {
    return store.list(new JobQuery(null, state, 500, null)).toCompletableFuture().get().items().size();
  }
}
