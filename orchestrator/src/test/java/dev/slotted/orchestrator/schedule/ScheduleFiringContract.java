package dev.slotted.orchestrator.schedule;

import static dev.slotted.orchestrator.store.JobStoreContractTest.at;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.slotted.orchestrator.store.JobQuery;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.NewJob;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Firing against a {@link JobStore} and a real schedule entity on a SQLite journal: submit, then
 * record, with the crash between the two replayed. Runs against every store implementation.
 */
abstract class ScheduleFiringContract {

  private static final JobTemplate JOB =
      new JobTemplate("reports", "{\"day\":\"today\"}", 7, 3, List.of("gpu"), Duration.ofMinutes(5));
  private static final Duration ASK = Duration.ofSeconds(10);

  @TempDir Path dir;
  private JobStore store;
  private ActorTestKit kit;
  private ScheduleSettings settings;

  /** A fresh store in {@code dir}. */
  protected abstract JobStore newStore(Path dir);

  @BeforeEach
  void start() {
    store = newStore(dir);
    ScheduleJournal.ensureSchema(dir.resolve("journal.db"));
    kit = startSystem();
  }

  @AfterEach
  void stop() {
    if (kit != null) {
      kit.shutdownTestKit();
    }
    if (store != null) {
      store.close();
    }
  }

  private ActorTestKit startSystem() {
    Config config = ScheduleJournal.configFor(dir.resolve("journal.db"),
        ConfigFactory.parseString("pekko.loglevel = WARNING\nslotted.schedules.misfire-threshold = 60s"));
    settings = ScheduleSettings.fromConfig(config);
    return ActorTestKit.create("firing", config);
  }

  private ActorRef<ScheduleEntity.Command> entity(String name) {
    return kit.spawn(ScheduleEntity.create(name, settings));
  }

  private ScheduleFiring.FireRecorder recorder(ActorRef<ScheduleEntity.Command> e) {
    return ScheduleFiring.recorder(e, kit.system().scheduler(), ASK);
  }

  private ScheduleState create(ActorRef<ScheduleEntity.Command> e, ScheduleSpec spec, Instant at) {
    TestProbe<StatusReply<ScheduleState>> probe = kit.createTestProbe();
    e.tell(new ScheduleEntity.Create(spec, at, probe.ref()));
    return probe.receiveMessage(ASK).getValue();
  }

  private ScheduleState state(ActorRef<ScheduleEntity.Command> e) {
    TestProbe<Optional<ScheduleState>> probe = kit.createTestProbe();
    e.tell(new ScheduleEntity.Get(probe.ref()));
    return probe.receiveMessage(ASK).orElseThrow();
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private List<Job> jobs() throws Exception {
    return await(store.list(new JobQuery("reports", null, 500, null))).items();
  }

  @Test
  void aFireSubmitsTheTemplatedJobUnderItsKeyThenRecordsIt() throws Exception {
    var e = entity("nightly");
    ScheduleSpec spec = ScheduleSpec.cron("nightly", "0 3 * * *", JOB).withTimezone("Europe/Berlin");
    Instant created = Instant.parse("2026-06-01T12:00:00Z");
    ScheduleState s = create(e, spec, created);
    Instant now = Instant.parse("2026-06-02T01:00:00.400Z");

    List<ScheduleFiring.Outcome> outcomes =
        await(ScheduleFiring.fireDue(ScheduleFiring.Jobs.of(store, at(now)), recorder(e), s, now, settings, 5));

    Instant fire = Instant.parse("2026-06-02T01:00:00Z");  // 03:00 CEST
    assertThat(outcomes).hasSize(1);
    Job job = outcomes.get(0).job().orElseThrow();
    assertThat(outcomes.get(0).created()).isTrue();
    assertThat(job.idempotencyKey()).isEqualTo("schedule:nightly:2026-06-02T01:00:00Z");
    assertThat(job.queue()).isEqualTo("reports");
    assertThat(job.payload()).isEqualToIgnoringWhitespace("{\"day\":\"today\"}");
    assertThat(job.priority()).isEqualTo(7);
    assertThat(job.maxAttempts()).isEqualTo(3);
    assertThat(job.tags()).containsExactly("gpu");
    assertThat(job.timeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(job.runAt()).isEqualTo(fire);
    ScheduleState after = state(e);
    assertThat(after.lastFire()).isEqualTo(fire);
    assertThat(after.recentFires()).singleElement().satisfies(r -> {
      assertThat(r.jobId()).isEqualTo(job.id());
      assertThat(r.fireInstant()).isEqualTo(fire);
    });
    // Nothing more is due until the next day.
    assertThat(await(ScheduleFiring.fireDue(ScheduleFiring.Jobs.of(store, at(now.plusSeconds(3600))), recorder(e), after, now.plusSeconds(3600), settings, 5))).isEmpty();
  }

  @Test
  void aCrashBetweenSubmitAndRecordNeitherDuplicatesNorLosesTheFire() throws Exception {
    var e = entity("every");
    Instant created = Instant.parse("2026-06-01T12:00:00Z");
    ScheduleState s = create(e, ScheduleSpec.every("every", Duration.ofSeconds(10), JOB), created);
    Instant now = created.plusSeconds(10).plusMillis(200);
    Instant fire = created.plusSeconds(10);

    // The runner submits, then dies before the entity records the fire.
    ScheduleFiring.FireRecorder crashing = new ScheduleFiring.FireRecorder() {
      @Override
      public CompletionStage<ScheduleState> fired(Instant f, String jobId, boolean manual, Instant at) {
        return CompletableFuture.failedFuture(new IllegalStateException("runner died"));
      }

      @Override
      public CompletionStage<ScheduleState> skipped(Instant f, String reason, Instant at) {
        return CompletableFuture.failedFuture(new IllegalStateException("runner died"));
      }
    };
    assertThatThrownBy(() -> await(ScheduleFiring.fireDue(ScheduleFiring.Jobs.of(store, at(now)), crashing, s, now, settings, 5)))
        .isInstanceOf(ExecutionException.class).hasMessageContaining("runner died");
    List<Job> afterCrash = jobs();
    assertThat(afterCrash).hasSize(1);

    // A new life: the actor system restarts, the entity replays its journal without the fire.
    kit.shutdownTestKit();
    kit = startSystem();
    var revived = entity("every");
    ScheduleState recovered = state(revived);
    assertThat(recovered.lastFire()).isNull();
    Instant later = now.plusSeconds(3);
    List<ScheduleFiring.Outcome> replay =
        await(ScheduleFiring.fireDue(ScheduleFiring.Jobs.of(store, at(later)), recorder(revived), recovered, later, settings, 5));

    assertThat(replay).singleElement().satisfies(o -> {
      assertThat(o.fireInstant()).isEqualTo(fire);
      assertThat(o.created()).isFalse();
      assertThat(o.job().orElseThrow().id()).isEqualTo(afterCrash.get(0).id());
    });
    assertThat(jobs()).hasSize(1);
    ScheduleState done = state(revived);
    assertThat(done.lastFire()).isEqualTo(fire);
    assertThat(done.recentFires()).singleElement().extracting(ScheduleState.FireRecord::jobId)
        .isEqualTo(afterCrash.get(0).id());
    // Recording the same fire again (a second replay) writes nothing new.
    assertThat(await(recorder(revived).fired(fire, afterCrash.get(0).id(), false, later))).isEqualTo(done);
  }

  @Test
  void overlapSkipWaitsForThePreviousJobToFinish() throws Exception {
    var e = entity("ov");
    Instant created = Instant.parse("2026-06-01T12:00:00Z");
    ScheduleState s = create(e, ScheduleSpec.every("ov", Duration.ofMinutes(1), JOB)
        .withOverlap(OverlapPolicy.SKIP), created);

    List<ScheduleFiring.Outcome> first =
        await(ScheduleFiring.fireDue(ScheduleFiring.Jobs.of(store, at(created.plusSeconds(61))), recorder(e), s, created.plusSeconds(61), settings, 5));
    assertThat(first).singleElement().satisfies(o -> assertThat(o.created()).isTrue());
    String firstJob = first.get(0).job().orElseThrow().id();

    // The first job is still ready: the next fire time is skipped, and recorded as such.
    List<ScheduleFiring.Outcome> second =
        await(ScheduleFiring.fireDue(ScheduleFiring.Jobs.of(store, at(created.plusSeconds(121))), recorder(e), state(e), created.plusSeconds(121), settings, 5));
    assertThat(second).singleElement().satisfies(o -> assertThat(o.skipped()).isEqualTo("overlap"));
    assertThat(state(e).cursor()).isEqualTo(created.plusSeconds(120));

    await(store.cancel(firstJob, at(created.plusSeconds(150))));
    List<ScheduleFiring.Outcome> third =
        await(ScheduleFiring.fireDue(ScheduleFiring.Jobs.of(store, at(created.plusSeconds(181))), recorder(e), state(e), created.plusSeconds(181), settings, 5));
    assertThat(third).singleElement().satisfies(o -> {
      assertThat(o.fireInstant()).isEqualTo(created.plusSeconds(180));
      assertThat(o.created()).isTrue();
    });
    assertThat(jobs()).hasSize(2);
  }

  @Test
  void eachMisfirePolicyAfterAnOutage() throws Exception {
    Instant created = Instant.parse("2026-06-01T12:00:00Z");
    // Every runner was down from 12:00:30 until 13:00:20: 12:01 .. 12:59 missed, 13:00 on time.
    Instant back = Instant.parse("2026-06-01T13:00:20Z");
    for (MisfirePolicy policy : MisfirePolicy.values()) {
      String name = "m-" + policy.wire();
      var e = entity(name);
      ScheduleState s = create(e, ScheduleSpec.cron(name, "* * * * *", JobTemplate.of("reports", "{}"))
          .withMisfire(policy), created);
      List<ScheduleFiring.Outcome> outcomes =
          await(ScheduleFiring.fireDue(ScheduleFiring.Jobs.of(store, at(back)), recorder(e), s, back, settings, 5));
      List<Instant> fired = outcomes.stream().filter(o -> o.job().isPresent())
          .map(ScheduleFiring.Outcome::fireInstant).toList();
      switch (policy) {
        case FIRE_ONCE -> assertThat(fired).containsExactly(
            Instant.parse("2026-06-01T12:59:00Z"), Instant.parse("2026-06-01T13:00:00Z"));
        case SKIP -> {
          assertThat(fired).containsExactly(Instant.parse("2026-06-01T13:00:00Z"));
          assertThat(state(e).recentFires()).extracting(ScheduleState.FireRecord::kind)
              .containsExactly(ScheduleState.FireRecord.Kind.SKIPPED, ScheduleState.FireRecord.Kind.FIRED);
        }
        case CATCH_UP -> assertThat(fired).hasSize(settings.maxCatchUp() + 1)
            .startsWith(Instant.parse("2026-06-01T12:50:00Z"))
            .endsWith(Instant.parse("2026-06-01T13:00:00Z"));
      }
      assertThat(state(e).cursor()).isEqualTo(Instant.parse("2026-06-01T13:00:00Z"));
      // Firing the same plan again (a replay) creates no job.
      List<ScheduleFiring.Outcome> again = await(ScheduleFiring.fireDue(ScheduleFiring.Jobs.of(store, at(back)), recorder(e), s, back, settings, 5));
      assertThat(again).filteredOn(o -> o.job().isPresent()).allSatisfy(o -> assertThat(o.created()).isFalse());
    }
  }

  @Test
  void triggerKeysNeverCollideWithFireKeys() {
    Instant t = Instant.parse("2026-06-01T12:00:00Z");
    assertThat(ScheduleFiring.idempotencyKey("a", t)).isEqualTo("schedule:a:2026-06-01T12:00:00Z");
    assertThat(ScheduleFiring.triggerKey("a", t)).isEqualTo("schedule:a:trigger:2026-06-01T12:00:00Z");
    NewJob job = ScheduleFiring.jobFor(ScheduleSpec.cron("a", "* * * * *", JobTemplate.of("q", "1")), t, 4);
    assertThat(job.maxAttempts()).isEqualTo(4);
    assertThat(job.idempotencyKey()).hasSizeLessThanOrEqualTo(NewJob.MAX_KEY_LENGTH);
    assertThat(job.validate(1024, "")).isEmpty();
    assertThat(JobState.READY.isFinished()).isFalse();
  }
}
