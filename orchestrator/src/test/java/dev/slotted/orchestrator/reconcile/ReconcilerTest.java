package dev.slotted.orchestrator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.orchestrator.metrics.Metrics;
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
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Reconciler against a real SQLite store and a probe in place of the WorkerSupervisor: it claims
 * only inside its window and within the capacity it reserved, answers every reservation with one
 * Dispatch, and writes the completions of its jobs as a group.
 */
class ReconcilerTest {
  private static final ActorTestKit KIT = ActorTestKit.create();
  private static final Clock CLOCK = Clock.systemUTC();

  @TempDir Path dir;

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  private static ReconcilerSettings settings() {
    return new ReconcilerSettings("r-1", Set.of("q"), Set.of(), 100, Duration.ofSeconds(30),
        Duration.ofMillis(20), Duration.ofSeconds(2), Duration.ofSeconds(5));
  }

  @Test
  void claimsOnlyInsideItsWindowAndWithinTheReservedCapacity() throws Exception {
    try (SqliteJobStore store = SqliteJobStore.open(SqliteStoreSettings.defaults(dir.resolve("a.db")).withPartitions(1))) {
      List<NewJob> jobs = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        jobs.add(NewJob.of("q", "{}"));
      }
      store.submitBatch(jobs, CLOCK.instant()).toCompletableFuture().get();
      TestProbe<WorkerProtocol.Command> workers = KIT.createTestProbe();
      List<Long> windows = new ArrayList<>();
      ActorRef<Reconciler.Command> r = KIT.spawn(Reconciler.create(0, store, workers.ref(), settings(), CLOCK,
          Metrics.noop(), (cycle, work, endedAt) -> windows.add(cycle)));

      r.tell(Reconciler.Wake.INSTANCE);
      workers.expectNoMessage(Duration.ofMillis(300)); // window closed: not even a reservation

      r.tell(new Reconciler.WindowOpened(1, Instant.MAX, true));
      WorkerProtocol.Reserve reserve = workers.expectMessageClass(WorkerProtocol.Reserve.class);
      reserve.replyTo().tell(new WorkerProtocol.Reservation(7, 12, Map.of()));
      WorkerProtocol.Dispatch d = workers.expectMessageClass(WorkerProtocol.Dispatch.class);
      assertThat(d.jobs()).hasSize(12);
      assertThat(d.reservationId()).isEqualTo(7);

      // It goes on claiming (a full claim means more may wait); nothing free now.
      WorkerProtocol.Reserve again = workers.expectMessageClass(WorkerProtocol.Reserve.class);
      r.tell(Reconciler.WindowClosed.INSTANCE);
      again.replyTo().tell(new WorkerProtocol.Reservation(8, 10, Map.of()));
      WorkerProtocol.Dispatch empty = workers.expectMessageClass(WorkerProtocol.Dispatch.class);
      assertThat(empty.jobs()).as("a reservation granted after the window closed is given back").isEmpty();
      assertThat(empty.reservationId()).isEqualTo(8);
      workers.expectNoMessage(Duration.ofMillis(200));
      assertThat(count(store, JobState.RUNNING)).isEqualTo(12);

      // Completions reported while closed are written in the next window, as one group.
      for (ClaimedJob j : d.jobs()) {
        d.replyTo().tell(new WorkerProtocol.Finished(j, Completion.succeeded(j, "w-1", CLOCK.instant()), CLOCK.instant()));
      }
      Thread.sleep(200);
      assertThat(count(store, JobState.SUCCEEDED)).as("no write outside the window").isZero();
      r.tell(new Reconciler.WindowOpened(2, Instant.MAX, true));
      WorkerProtocol.Reserve third = workers.expectMessageClass(WorkerProtocol.Reserve.class, Duration.ofSeconds(5));
      third.replyTo().tell(new WorkerProtocol.Reservation(9, 100, Map.of()));
      assertThat(workers.expectMessageClass(WorkerProtocol.Dispatch.class).jobs()).hasSize(18);
      // The completions rode in the same transaction as that claim.
      assertThat(count(store, JobState.SUCCEEDED)).isEqualTo(12);
      assertThat(windows).contains(1L);
    }
  }

  @Test
  void aQueueAtItsConcurrencyLimitIsLeftOutOfTheClaim() throws Exception {
    try (SqliteJobStore store = SqliteJobStore.open(SqliteStoreSettings.defaults(dir.resolve("b.db")).withPartitions(1))) {
      store.submitBatch(List.of(NewJob.of("q", "{}"), NewJob.of("q", "{}")), CLOCK.instant()).toCompletableFuture().get();
      TestProbe<WorkerProtocol.Command> workers = KIT.createTestProbe();
      ActorRef<Reconciler.Command> r = KIT.spawn(Reconciler.create(0, store, workers.ref(), settings(), CLOCK,
          Metrics.noop(), (cycle, work, endedAt) -> { }));
      r.tell(new Reconciler.WindowOpened(1, Instant.MAX, true));
      WorkerProtocol.Reserve reserve = workers.expectMessageClass(WorkerProtocol.Reserve.class);
      reserve.replyTo().tell(new WorkerProtocol.Reservation(1, 10, Map.of("q", 0)));
      assertThat(workers.expectMessageClass(WorkerProtocol.Dispatch.class).jobs()).isEmpty();
      assertThat(count(store, JobState.READY)).isEqualTo(2);
    }
  }

  private static long count(SqliteJobStore store, JobState state) throws Exception {
    return store.list(new dev.slotted.orchestrator.store.JobQuery("q", state, 500, null))
        .toCompletableFuture().get().items().size();
  }
}
