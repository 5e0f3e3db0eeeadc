package dev.slotted.orchestrator.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.slotted.protocol.FieldError;
import dev.slotted.protocol.ValidationException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Schedule entities on a real SQLite journal file, across ActorSystem restarts. */
class ScheduleEntityTest {

  private static final Instant T0 = Instant.parse("2026-06-01T10:00:00.250Z");
  private static final JobTemplate JOB = JobTemplate.of("reports", "{\"day\":\"today\"}");

  @TempDir Path dir;
  private Path journal;
  private ActorTestKit kit;
  private ScheduleSettings settings;

  @BeforeEach
  void start() {
    journal = dir.resolve("data/journal.db");
    ScheduleJournal.ensureSchema(journal);
    kit = startSystem();
  }

  @AfterEach
  void stop() {
    if (kit != null) {
      kit.shutdownTestKit();
    }
  }

  private ActorTestKit startSystem() {
    Config config = ScheduleJournal.configFor(journal, ConfigFactory.parseString("pekko.loglevel = WARNING"));
    settings = ScheduleSettings.fromConfig(config);
    return ActorTestKit.create("schedules", config);
  }

  private void restartSystem() {
    kit.shutdownTestKit();
    kit = startSystem();
  }

  private ActorRef<ScheduleEntity.Command> entity(String name) {
    return kit.spawn(ScheduleEntity.create(name, settings));
  }

  private ScheduleState ok(ActorRef<ScheduleEntity.Command> e,
      java.util.function.Function<ActorRef<StatusReply<ScheduleState>>, ScheduleEntity.Command> msg) {
    TestProbe<StatusReply<ScheduleState>> probe = kit.createTestProbe();
    e.tell(msg.apply(probe.ref()));
    StatusReply<ScheduleState> reply = probe.receiveMessage(Duration.ofSeconds(10));
    assertThat(reply.isSuccess()).as("reply %s", reply).isTrue();
    return reply.getValue();
  }

  private Throwable refused(ActorRef<ScheduleEntity.Command> e,
      java.util.function.Function<ActorRef<StatusReply<ScheduleState>>, ScheduleEntity.Command> msg) {
    TestProbe<StatusReply<ScheduleState>> probe = kit.createTestProbe();
    e.tell(msg.apply(probe.ref()));
    StatusReply<ScheduleState> reply = probe.receiveMessage(Duration.ofSeconds(10));
    assertThat(reply.isError()).as("reply %s", reply).isTrue();
    return reply.getError();
  }

  private Optional<ScheduleState> get(ActorRef<ScheduleEntity.Command> e) {
    TestProbe<Optional<ScheduleState>> probe = kit.createTestProbe();
    e.tell(new ScheduleEntity.Get(probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(10));
  }

  private long journalRows(String name) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + journal);
         PreparedStatement st = c.prepareStatement(
             "SELECT count(*) FROM event_journal WHERE persistence_id = ?")) {
      st.setString(1, "schedule|" + name);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  @Test
  void recoversItsStateAfterTheActorSystemRestarts() throws Exception {
    ScheduleSpec spec = ScheduleSpec.cron("nightly", "0 3 * * *", JOB)
        .withTimezone("Europe/Berlin").withMisfire(MisfirePolicy.CATCH_UP).withOverlap(OverlapPolicy.SKIP);
    var e = entity("nightly");
    ok(e, r -> new ScheduleEntity.Create(spec, T0, r));
    ok(e, r -> new ScheduleEntity.RecordFire(Instant.parse("2026-06-02T01:00:00Z"), "job-1", false, T0.plusSeconds(60), r));
    ok(e, r -> new ScheduleEntity.RecordFire(T0.plusSeconds(90), "job-2", true, T0.plusSeconds(90), r));
    ok(e, r -> new ScheduleEntity.RecordSkip(Instant.parse("2026-06-03T01:00:00Z"), "overlap", T0.plusSeconds(120), r));
    ScheduleState before = ok(e, r -> new ScheduleEntity.Pause(T0.plusSeconds(150), r));
    // An every schedule round-trips its Duration and anchor too.
    var e2 = entity("heartbeat");
    ScheduleState every = ok(e2, r -> new ScheduleEntity.Create(
        ScheduleSpec.every("heartbeat", Duration.ofMillis(90_500), JOB), T0, r));
    assertThat(every.spec().anchor()).isEqualTo(Instant.parse("2026-06-01T10:00:00Z"));

    restartSystem();

    ScheduleState after = get(entity("nightly")).orElseThrow();
    assertThat(after).isEqualTo(before);
    assertThat(after.paused()).isTrue();
    assertThat(after.spec()).isEqualTo(spec.withPaused(true));
    assertThat(after.lastFire()).isEqualTo(Instant.parse("2026-06-02T01:00:00Z"));
    assertThat(after.cursor()).isEqualTo(Instant.parse("2026-06-03T01:00:00Z"));
    assertThat(after.recentFires()).extracting(ScheduleState.FireRecord::kind).containsExactly(
        ScheduleState.FireRecord.Kind.FIRED, ScheduleState.FireRecord.Kind.TRIGGERED,
        ScheduleState.FireRecord.Kind.SKIPPED);
    assertThat(after.previousJobId()).contains("job-2");
    assertThat(get(entity("heartbeat"))).contains(every);
    assertThat(ScheduleRegistry.names(kit.system()).toCompletableFuture().get(10, TimeUnit.SECONDS))
        .containsExactly("heartbeat", "nightly");
  }

  @Test
  void pauseAndResumeAreIdempotentAndResumeSkipsThePausedTime() throws Exception {
    var e = entity("p");
    ScheduleState created = ok(e, r -> new ScheduleEntity.Create(ScheduleSpec.cron("p", "* * * * *", JOB), T0, r));
    assertThat(created.paused()).isFalse();
    assertThat(created.cursor()).isEqualTo(T0);
    assertThat(ok(e, r -> new ScheduleEntity.Pause(T0.plusSeconds(10), r)).paused()).isTrue();
    assertThat(ok(e, r -> new ScheduleEntity.Pause(T0.plusSeconds(20), r)).paused()).isTrue();
    assertThat(ScheduleFiring.plan(get(e).orElseThrow(), T0.plusSeconds(3600), settings).isEmpty()).isTrue();
    ScheduleState resumed = ok(e, r -> new ScheduleEntity.Resume(T0.plusSeconds(3600), r));
    assertThat(resumed.paused()).isFalse();
    assertThat(resumed.cursor()).isEqualTo(T0.plusSeconds(3600));
    assertThat(ok(e, r -> new ScheduleEntity.Resume(T0.plusSeconds(3700), r)).cursor()).isEqualTo(T0.plusSeconds(3600));
    // Created, Paused, Resumed: the repeats wrote nothing.
    assertThat(journalRows("p")).isEqualTo(3);
    // Nothing of the paused hour is due; the next minute is.
    assertThat(ScheduleFiring.plan(resumed, T0.plusSeconds(3600 + 60), settings).fires())
        .containsExactly(Instant.parse("2026-06-01T11:01:00Z"));
  }

  @Test
  void firesAreRecordedAndADuplicateFireIsIdempotent() throws Exception {
    var e = entity("f");
    ok(e, r -> new ScheduleEntity.Create(ScheduleSpec.cron("f", "* * * * *", JOB), T0, r));
    Instant fire1 = Instant.parse("2026-06-01T10:01:00Z");
    Instant fire2 = Instant.parse("2026-06-01T10:02:00Z");
    ScheduleState s1 = ok(e, r -> new ScheduleEntity.RecordFire(fire1, "j1", false, fire1.plusMillis(5), r));
    ScheduleState dup = ok(e, r -> new ScheduleEntity.RecordFire(fire1, "j1", false, fire1.plusMillis(900), r));
    assertThat(dup).isEqualTo(s1);
    ScheduleState s2 = ok(e, r -> new ScheduleEntity.RecordFire(fire2, "j2", false, fire2.plusMillis(5), r));
    // A late replay of an earlier fire time changes nothing either.
    assertThat(ok(e, r -> new ScheduleEntity.RecordFire(fire1, "j1", false, fire2.plusMillis(9), r))).isEqualTo(s2);
    assertThat(s2.lastFire()).isEqualTo(fire2);
    assertThat(s2.cursor()).isEqualTo(fire2);
    assertThat(s2.recentFires()).extracting(ScheduleState.FireRecord::jobId).containsExactly("j1", "j2");
    assertThat(journalRows("f")).isEqualTo(3);

    restartSystem();
    assertThat(get(entity("f"))).contains(s2);
    assertThat(ScheduleFiring.plan(s2, fire2.plusSeconds(30), settings).isEmpty()).isTrue();
  }

  @Test
  void recentFiresAreBoundedAndSnapshotsRecoverOnSqlite() throws Exception {
    var e = entity("busy");
    ok(e, r -> new ScheduleEntity.Create(ScheduleSpec.cron("busy", "* * * * * *", JOB), T0, r));
    ScheduleState last = null;
    for (int i = 1; i <= 130; i++) {
      Instant t = T0.plusSeconds(i).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
      String id = "j" + i;
      last = ok(e, r -> new ScheduleEntity.RecordFire(t, id, false, t, r));
    }
    assertThat(last.recentFires()).hasSize(ScheduleState.RECENT_FIRES);
    assertThat(last.recentFires().get(ScheduleState.RECENT_FIRES - 1).jobId()).isEqualTo("j130");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + journal);
         ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM snapshot")) {
      rs.next();
      assertThat(rs.getLong(1)).isGreaterThanOrEqualTo(1);
    }
    restartSystem();
    assertThat(get(entity("busy"))).contains(last);
    assertThat(journalRows("busy")).isEqualTo(131);
  }

  @Test
  void refusalsWriteNothing() throws Exception {
    var e = entity("r");
    Throwable missing = refused(e, r -> new ScheduleEntity.Pause(T0, r));
    assertThat(missing).isInstanceOf(ScheduleNotFoundException.class);
    Throwable invalid = refused(e, r -> new ScheduleEntity.Create(
        ScheduleSpec.cron("r", "0 25 * * *", JOB).withTimezone("Nowhere/Land"), T0, r));
    assertThat(((ValidationException) invalid).errors()).extracting(FieldError::field)
        .containsExactly("cron", "timezone");
    Throwable wrongName = refused(e, r -> new ScheduleEntity.Create(ScheduleSpec.cron("other", "0 3 * * *", JOB), T0, r));
    assertThat(((ValidationException) wrongName).errors()).extracting(FieldError::field).containsExactly("name");
    assertThat(journalRows("r")).isZero();

    ok(e, r -> new ScheduleEntity.Create(ScheduleSpec.cron("r", "0 3 * * *", JOB), T0, r));
    assertThat(refused(e, r -> new ScheduleEntity.Create(ScheduleSpec.cron("r", "0 4 * * *", JOB), T0, r)))
        .isInstanceOf(ScheduleExistsException.class);
    assertThat(journalRows("r")).isEqualTo(1);
  }

  @Test
  void updateUpsertAndDelete() throws Exception {
    var e = entity("u");
    assertThat(refused(e, r -> new ScheduleEntity.Update(ScheduleSpec.cron("u", "0 3 * * *", JOB), T0, r)))
        .isInstanceOf(ScheduleNotFoundException.class);
    ScheduleSpec every = ScheduleSpec.every("u", Duration.ofMinutes(5), JOB);
    ScheduleState created = ok(e, r -> new ScheduleEntity.Upsert(every, T0, r));
    // The same declared spec at the next start: no event, anchor kept.
    ScheduleState again = ok(e, r -> new ScheduleEntity.Upsert(every, T0.plusSeconds(3600), r));
    assertThat(again).isEqualTo(created);
    assertThat(journalRows("u")).isEqualTo(1);
    // A new job keeps the cursor; new timing moves it to the change.
    ScheduleState newJob = ok(e, r -> new ScheduleEntity.Update(every.withJob(JobTemplate.of("other", "1")), T0.plusSeconds(60), r));
    assertThat(newJob.cursor()).isEqualTo(T0);
    assertThat(newJob.spec().anchor()).isEqualTo(created.spec().anchor());
    ScheduleState newTiming = ok(e, r -> new ScheduleEntity.Update(ScheduleSpec.cron("u", "0 3 * * *", JOB), T0.plusSeconds(120), r));
    assertThat(newTiming.cursor()).isEqualTo(T0.plusSeconds(120));

    TestProbe<StatusReply<Done>> deleted = kit.createTestProbe();
    e.tell(new ScheduleEntity.Delete(T0.plusSeconds(180), deleted.ref()));
    assertThat(deleted.receiveMessage(Duration.ofSeconds(10)).isSuccess()).isTrue();
    assertThat(get(e)).isEmpty();
    assertThat(refused(e, r -> new ScheduleEntity.RecordFire(T0, "j", false, T0, r)))
        .isInstanceOf(ScheduleNotFoundException.class);
    // The name can be used again; the new schedule starts from scratch.
    ScheduleState reborn = ok(e, r -> new ScheduleEntity.Create(ScheduleSpec.cron("u", "0 5 * * *", JOB), T0.plusSeconds(240), r));
    assertThat(reborn.recentFires()).isEmpty();
    assertThat(reborn.cursor()).isEqualTo(T0.plusSeconds(240));
    restartSystem();
    assertThat(get(entity("u"))).contains(reborn);
  }

  @Test
  void aStaleWriterInAnotherSystemRecoversFromTheConflict() throws Exception {
    // Two processes' entities for one schedule: the one that did not see the other's write fails to
    // append (same sequence number), restarts, replays, and then sees the other's event.
    var mine = entity("shared");
    ok(mine, r -> new ScheduleEntity.Create(ScheduleSpec.cron("shared", "* * * * *", JOB), T0, r));
    ActorTestKit other = startSystem();
    try {
      var theirs = other.spawn(ScheduleEntity.create("shared", settings));
      TestProbe<StatusReply<ScheduleState>> p = other.createTestProbe();
      theirs.tell(new ScheduleEntity.Pause(T0.plusSeconds(5), p.ref()));
      assertThat(p.receiveMessage(Duration.ofSeconds(10)).getValue().paused()).isTrue();
    } finally {
      other.shutdownTestKit();
    }
    // Ours still thinks it is running; its next write conflicts, and once the entity has restarted
    // (replaying the journal) the command is refused as a conflict, so the caller can retry at once.
    TestProbe<StatusReply<ScheduleState>> probe = kit.createTestProbe();
    mine.tell(new ScheduleEntity.RecordFire(Instant.parse("2026-06-01T10:01:00Z"), "j1", false, T0.plusSeconds(60), probe.ref()));
    StatusReply<ScheduleState> refused = probe.receiveMessage(Duration.ofSeconds(10));
    assertThat(refused.isError()).as("reply %s", refused).isTrue();
    assertThat(refused.getError()).isInstanceOf(ScheduleConflictException.class);
    // After the backoff restart it has replayed the other system's Paused event.
    TestProbe<Optional<ScheduleState>> state = kit.createTestProbe();
    state.awaitAssert(Duration.ofSeconds(10), () -> {
      mine.tell(new ScheduleEntity.Get(state.ref()));
      assertThat(state.receiveMessage(Duration.ofSeconds(2)).orElseThrow().paused()).isTrue();
      return null;
    });
    assertThat(journalRows("shared")).isEqualTo(2);
  }
}
