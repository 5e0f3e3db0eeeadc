package dev.slotted.orchestrator.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.orchestrator.clock.SlotClock;
import dev.slotted.orchestrator.store.ClaimRequest;
import dev.slotted.orchestrator.store.sqlite.SqliteJobStore;
import dev.slotted.orchestrator.store.sqlite.SqliteStoreSettings;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.NewJob;
import dev.slotted.protocol.WorkerProtocol;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lease keeper against a real SQLite store, with a probe in place of the workers. */
class LeaseKeeperTest {
  private static final ActorTestKit KIT = ActorTestKit.create();
  private static final Clock CLOCK = Clock.systemUTC();

  @TempDir Path dir;

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  /**
   * A worker node that was unreachable past a lease still runs the stale attempt while another node
   * runs the job's next one: the job is held twice. Only the stale attempt may be stopped.
   */
  @Test
  void aJobHeldTwiceStopsOnlyTheAttemptWhoseLeaseIsGone() throws Exception {
    try (SqliteJobStore store = SqliteJobStore.open(SqliteStoreSettings.defaults(dir.resolve("l.db")).withPartitions(1))) {
      store.submitBatch(List.of(NewJob.of("q", "{}")), CLOCK).toCompletableFuture().get();
      ClaimedJob stale = store.claim(new ClaimRequest(0, Set.of("q"), Set.of(), 1, "r-1", Duration.ofMillis(50)), CLOCK)
          .toCompletableFuture().get().get(0);
      Thread.sleep(200);
      assertThat(store.reapExpired(0, CLOCK).toCompletableFuture().get()).containsExactly(stale.id());
      ClaimedJob current = store.claim(new ClaimRequest(0, Set.of("q"), Set.of(), 1, "r-1", Duration.ofSeconds(30)),
          CLOCK).toCompletableFuture().get().get(0);
      assertThat(current.leaseToken()).isNotEqualTo(stale.leaseToken());

      TestProbe<WorkerProtocol.Command> workers = KIT.createTestProbe();
      TestProbe<SlotClock.Command> slotClock = KIT.createTestProbe();
      var keeper = KIT.spawn(LeaseKeeper.create(store, workers.ref(), "r-1", Duration.ofSeconds(30),
          Duration.ofSeconds(5), false, CLOCK, () -> CompletableFuture.completedFuture("{}"), slotClock.ref()));
      keeper.tell(new LeaseKeeper.WindowOpened(1));
      WorkerProtocol.GetRunning ask = workers.expectMessageClass(WorkerProtocol.GetRunning.class);
      ask.replyTo().tell(new WorkerProtocol.Running(List.of(
          new WorkerProtocol.RunningJob(stale.id(), stale.leaseToken(), "q", "paused/w-1", null),
          new WorkerProtocol.RunningJob(current.id(), current.leaseToken(), "q", "steady/w-1", null))));
      WorkerProtocol.Stop stop = workers.expectMessageClass(WorkerProtocol.Stop.class, Duration.ofSeconds(5));
      assertThat(stop.leases()).isEqualTo(Map.of(stale.id(), stale.leaseToken()));
    }
  }
}
