package dev.slotted.orchestrator.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.slotted.orchestrator.clock.Membership;
import dev.slotted.orchestrator.config.Settings;
import dev.slotted.orchestrator.metrics.Metrics;
import dev.slotted.orchestrator.schedule.JobTemplate;
import dev.slotted.orchestrator.schedule.ScheduleJournal;
import dev.slotted.orchestrator.schedule.ScheduleSettings;
import dev.slotted.orchestrator.schedule.ScheduleSpec;
import dev.slotted.orchestrator.schedule.Schedules;
import dev.slotted.orchestrator.store.JobQuery;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.sqlite.SqliteJobStore;
import dev.slotted.orchestrator.store.sqlite.SqliteStoreSettings;
import dev.slotted.protocol.Job;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The firer fires only in an open window, only what its runner owns, and wakes and counts. */
class ScheduleFirerTest {

  @TempDir Path dir;
  private JobStore store;
  private ActorTestKit kit;
  private Schedules schedules;
  private final List<String> counted = new CopyOnWriteArrayList<>();
  private final List<String> submitted = new CopyOnWriteArrayList<>();
  private final Metrics metrics = new dev.slotted.orchestrator.metrics.NoopMetrics() {
    @Override
    public void scheduleFired(String schedule) {
      counted.add(schedule);
    }

    @Override
    public void jobsSubmitted(String queue, int n) {
      submitted.add(queue + ":" + n);
    }
  };

  @BeforeEach
  void start() {
    Path journal = dir.resolve("journal.db");
    ScheduleJournal.ensureSchema(journal);
    Config config = ScheduleJournal.configFor(journal, ConfigFactory.parseString(
        "slotted.queues { ticks { handler = noop } }\npekko.loglevel = WARNING"));
    store = SqliteJobStore.open(SqliteStoreSettings.defaults(dir.resolve("slotted.db")));
    kit = ActorTestKit.create("firer", config);
    schedules = Schedules.start(kit.system(), ScheduleSettings.fromConfig(config), Settings.fromConfig(config),
        Clock.systemUTC());
  }

  @AfterEach
  void stop() {
    kit.shutdownTestKit();
    schedules.close();
    store.close();
  }

  private List<Job> jobs() throws Exception {
    return store.list(new JobQuery("ticks", null, 500, null)).toCompletableFuture().get(10, TimeUnit.SECONDS).items();
  }

  @Test
  void firesTheOwnedSchedulesInsideTheWindowThenWakesTheirPartitionAndCounts() throws Exception {
    String name = "owned";
    int partition = store.partitionOf(Schedules.partitionKey(name), null);
    schedules.create(ScheduleSpec.every(name, Duration.ofSeconds(1), JobTemplate.of("ticks", "1")), Instant.now())
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    TestProbe<Set<Integer>> woken = kit.createTestProbe();
    Membership.Assignment notOwner = new Membership.Assignment((partition + 1) % 2, 2);
    Membership.Assignment owner = new Membership.Assignment(partition % 2, 2);
    ActorRef<ScheduleFirer.Command> firer = kit.spawn(ScheduleFirer.create(
        schedules, store, Clock.systemUTC(), metrics, woken.ref()::tell, notOwner));

    // A window of a runner that does not own the schedule, and a window that already closed.
    firer.tell(new ScheduleFirer.WindowOpened(1, Instant.now().plusSeconds(3), notOwner));
    firer.tell(new ScheduleFirer.WindowOpened(2, Instant.now().minusMillis(1), owner));
    woken.expectNoMessage(Duration.ofMillis(1_500));
    assertThat(jobs()).isEmpty();

    // The owner's open window fires what is due, and keeps firing while it stays open.
    firer.tell(new ScheduleFirer.WindowOpened(3, Instant.MAX, owner));
    assertThat(woken.receiveMessage(Duration.ofSeconds(10))).containsExactly(partition);
    assertThat(woken.receiveMessage(Duration.ofSeconds(10))).containsExactly(partition);
    assertThat(jobs()).hasSizeGreaterThanOrEqualTo(2);
    assertThat(job(0).partition()).isEqualTo(partition);
    assertThat(counted).contains(name);
    assertThat(submitted).as("a fired job is a submitted job (issue 9)").contains("ticks:1");

    // Closed: no more fires, however much is due.
    firer.tell(ScheduleFirer.WindowClosed.INSTANCE);
    Thread.sleep(500);  // a pass in flight when the window closed ends
    int fired = jobs().size();
    Thread.sleep(1_500);
    assertThat(jobs()).hasSize(fired);
  }

  private Job job(int i) throws Exception {
    List<Job> all = jobs();
    return all.get(all.size() - 1 - i);
  }
}
