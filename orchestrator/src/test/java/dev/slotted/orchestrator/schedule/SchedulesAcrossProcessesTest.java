package dev.slotted.orchestrator.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.slotted.orchestrator.config.Settings;
import dev.slotted.orchestrator.store.JobQuery;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.StoreException;
import dev.slotted.orchestrator.store.Submitted;
import dev.slotted.orchestrator.store.sqlite.SqliteJobStore;
import dev.slotted.orchestrator.store.sqlite.SqliteStoreSettings;
import dev.slotted.protocol.Job;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two "processes" (two ActorSystems, each with its own entities) on one journal file and one job
 * store, as two runners have: an entity made stale by the other process never fires what the other
 * process paused, concurrent fires of one schedule never duplicate a job, and the fence holds off
 * the other process's append while a fire submits.
 */
class SchedulesAcrossProcessesTest {

  private static final Instant T0 = Instant.parse("2026-06-01T10:00:00Z");
  private static final String QUEUES = "slotted.queues { reports { handler = noop, max-attempts = 3 } }";

  @TempDir Path dir;
  private JobStore store;
  private ActorTestKit kitA;
  private ActorTestKit kitB;
  private Schedules a;
  private Schedules b;
  private final ManualClock clock = new ManualClock(T0.plusMillis(250));

  @BeforeEach
  void start() {
    Path journal = dir.resolve("journal.db");
    ScheduleJournal.ensureSchema(journal);
    Config config = ScheduleJournal.configFor(journal, ConfigFactory.parseString(QUEUES + "\npekko.loglevel = WARNING"));
    Settings settings = Settings.fromConfig(config);
    ScheduleSettings ss = ScheduleSettings.fromConfig(config);
    store = SqliteJobStore.open(SqliteStoreSettings.defaults(dir.resolve("slotted.db")));
    kitA = ActorTestKit.create("process-a", config);
    kitB = ActorTestKit.create("process-b", config);
    a = Schedules.start(kitA.system(), ss, settings, clock);
    b = Schedules.start(kitB.system(), ss, settings, clock);
  }

  @AfterEach
  void stop() {
    for (ActorTestKit k : new ActorTestKit[] {kitA, kitB}) {
      if (k != null) {
        k.shutdownTestKit();
      }
    }
    if (a != null) {
      a.close();
    }
    if (b != null) {
      b.close();
    }
    if (store != null) {
      store.close();
    }
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private FirePass.PassResult pass(Schedules s) throws Exception {
    return await(s.firePass(p -> true, store, clock, Instant.MAX));
  }

  private List<Job> jobs() throws Exception {
    return await(store.list(new JobQuery("reports", null, 500, null))).items();
  }

  private static List<String> keys(FirePass.PassResult r) {
    return r.results().stream().flatMap(x -> x.submitted().stream()).map(s -> s.job().idempotencyKey()).toList();
  }

  @Test
  void aPauseInOneProcessStopsTheFiresOfTheOther() throws Exception {
    await(a.create(ScheduleSpec.every("tick", Duration.ofSeconds(1), JobTemplate.of("reports", "1")), clock.instant()));
    clock.set(T0.plusMillis(2_400));

    FirePass.PassResult first = pass(b);

    assertThat(keys(first)).containsExactly("schedule:tick:2026-06-01T10:00:01Z", "schedule:tick:2026-06-01T10:00:02Z");
    Job job = first.results().get(0).submitted().get(0).job();
    assertThat(job.partitionKey()).isEqualTo("schedule:tick");
    assertThat(job.partition()).isEqualTo(store.partitionOf("schedule:tick", null));
    assertThat(job.maxAttempts()).as("the queue's max-attempts").isEqualTo(3);
    assertThat(first.nextFire()).contains(T0.plusSeconds(3));

    // A's entity has not seen B's fires; its pause must still land, and B must see it.
    ScheduleState paused = await(a.pause("tick", clock.instant()));
    assertThat(paused.paused()).isTrue();
    assertThat(paused.lastFire()).isEqualTo(T0.plusSeconds(2));
    clock.set(T0.plusMillis(6_400));

    FirePass.PassResult whilePaused = pass(b);

    assertThat(keys(whilePaused)).isEmpty();
    assertThat(whilePaused.nextFire()).isEmpty();
    assertThat(jobs()).hasSize(2);

    await(a.resume("tick", clock.instant()));
    clock.set(T0.plusMillis(7_400));
    assertThat(keys(pass(b))).containsExactly("schedule:tick:2026-06-01T10:00:07Z");
    ScheduleState seenByA = await(a.get("tick")).orElseThrow();
    assertThat(seenByA.lastFire()).isEqualTo(T0.plusSeconds(7));
    assertThat(seenByA.recentFires()).extracting(ScheduleState.FireRecord::fireInstant)
        .containsExactly(T0.plusSeconds(1), T0.plusSeconds(2), T0.plusSeconds(7));
  }

  @Test
  void concurrentFiresOfOneScheduleInTwoProcessesMakeOneJobPerFireTime() throws Exception {
    await(a.create(ScheduleSpec.every("both", Duration.ofSeconds(1), JobTemplate.of("reports", "2")), clock.instant()));
    for (int round = 1; round <= 3; round++) {
      clock.set(T0.plusSeconds(round * 3L).plusMillis(100));
      // Both think they own the schedule (as during a membership change).
      CompletableFuture<FirePass.PassResult> fa = a.firePass(p -> true, store, clock, Instant.MAX).toCompletableFuture();
      CompletableFuture<FirePass.PassResult> fb = b.firePass(p -> true, store, clock, Instant.MAX).toCompletableFuture();
      fa.get(20, TimeUnit.SECONDS);
      fb.get(20, TimeUnit.SECONDS);
    }
    // A pass that lost a race is repeated; afterwards everything due is fired exactly once.
    pass(a);
    pass(b);

    List<String> keys = jobs().stream().map(Job::idempotencyKey).sorted().toList();
    assertThat(keys).hasSize(9).doesNotHaveDuplicates();
    assertThat(keys.get(0)).isEqualTo("schedule:both:2026-06-01T10:00:01Z");
    assertThat(keys.get(8)).isEqualTo("schedule:both:2026-06-01T10:00:09Z");
    ScheduleState s = await(b.get("both")).orElseThrow();
    assertThat(s.lastFire()).isEqualTo(T0.plusSeconds(9));
    assertThat(s.recentFires()).extracting(ScheduleState.FireRecord::fireInstant).doesNotHaveDuplicates().hasSize(9);
  }

  @Test
  void theFenceHoldsOffAnotherProcessesAppendAndRefusesAStaleFire() throws Exception {
    await(a.create(ScheduleSpec.every("fenced", Duration.ofSeconds(1), JobTemplate.of("reports", "3")), clock.instant()));
    long seq = await(a.versions()).get("fenced");
    try (JournalIndex index = JournalIndex.open(dir.resolve("journal.db"))) {
      CountDownLatch inside = new CountDownLatch(1);
      CompletableFuture<Submitted> release = new CompletableFuture<>();
      CompletionStage<Submitted> fence = index.fenced("fenced", seq, () -> true, () -> {
        inside.countDown();
        return release;
      });
      assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();

      CompletableFuture<ScheduleState> pause = b.pause("fenced", clock.instant()).toCompletableFuture();
      Thread.sleep(300);
      assertThat(pause).as("the pause waits for the fire's submit").isNotDone();
      release.complete(null);
      await(fence);
      assertThat(await(pause).paused()).isTrue();

      AtomicBoolean ran = new AtomicBoolean();
      assertThatThrownBy(() -> await(index.fenced("fenced", seq, () -> true, () -> {
        ran.set(true);
        return CompletableFuture.completedFuture(null);
      }))).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(JournalIndex.StaleException.class);
      assertThat(ran).isFalse();

      long now = await(a.versions()).get("fenced");
      assertThatThrownBy(() -> await(index.fenced("fenced", now, () -> false, () -> {
        ran.set(true);
        return CompletableFuture.completedFuture(null);
      }))).hasCauseInstanceOf(JournalIndex.WindowClosedException.class);
      assertThat(ran).isFalse();
    }
  }

  @Test
  void nothingIsSubmittedOnceTheWindowHasClosed() throws Exception {
    await(a.create(ScheduleSpec.every("late", Duration.ofSeconds(1), JobTemplate.of("reports", "4")), clock.instant()));
    clock.set(T0.plusMillis(3_100));

    FirePass.PassResult r = await(b.firePass(p -> true, store, clock, T0.plusSeconds(3)));
    FirePass.PassResult notOwned = await(b.firePass(p -> false, store, clock, Instant.MAX));

    assertThat(keys(r)).isEmpty();
    assertThat(keys(notOwned)).isEmpty();
    assertThat(jobs()).isEmpty();
    assertThat(keys(pass(b))).hasSize(3);
  }

  @Test
  void aPlanCutShortIsResumedAsItWasMadeSoItsOnTimeFireTimesAreNotSkipped() throws Exception {
    await(a.create(ScheduleSpec.every("resumed", Duration.ofSeconds(1), JobTemplate.of("reports", "5"))
        .withMisfire(MisfirePolicy.SKIP), clock.instant()));
    Instant x = T0.plusSeconds(10);
    // Planned 59.5s after x: x is on time (threshold 60s), x - 1s is missed and skipped.
    clock.set(x.plusMillis(59_500));
    AtomicBoolean failOnce = new AtomicBoolean(true);
    JobStore flaky = (JobStore) Proxy.newProxyInstance(JobStore.class.getClassLoader(), new Class<?>[] {JobStore.class},
        (proxy, method, args) -> {
          if (method.getName().equals("submit") && failOnce.getAndSet(false)) {
            return CompletableFuture.failedFuture(new StoreException("the disk hiccuped"));
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });

    FirePass.PassResult cut = await(b.firePass(p -> true, flaky, clock, Instant.MAX));

    assertThat(cut.results()).singleElement().satisfies(r -> assertThat(r.error()).isInstanceOf(StoreException.class));
    assertThat(jobs()).isEmpty();
    // The next pass comes when x is more than the threshold late; x was on time when it was planned.
    clock.set(x.plusMillis(60_500));
    FirePass.PassResult resumed = pass(b);
    assertThat(resumed.again()).as("more may be due since the plan was made").isTrue();
    pass(b);

    List<String> keys = jobs().stream().map(Job::idempotencyKey).sorted().toList();
    // x .. x+60s fired; x - 1s (missed when planned) was skipped, as the skip policy says.
    assertThat(keys).hasSize(61).contains("schedule:resumed:2026-06-01T10:00:10Z", "schedule:resumed:2026-06-01T10:01:10Z")
        .doesNotContain("schedule:resumed:2026-06-01T10:00:09Z");
    assertThat(await(a.get("resumed")).orElseThrow().lastFire()).isEqualTo(x.plusSeconds(60));
  }

  /** A UTC clock the test sets. */
  static final class ManualClock extends Clock {
    private final AtomicLong millis;

    ManualClock(Instant start) {
      millis = new AtomicLong(start.toEpochMilli());
    }

    void set(Instant t) {
      millis.set(t.toEpochMilli());
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }
}
