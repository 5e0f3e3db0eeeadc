package dev.slotted.orchestrator.store.postgres;

import static dev.slotted.orchestrator.store.JobStoreContractTest.at;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.slotted.orchestrator.store.ClaimRequest;
import dev.slotted.orchestrator.store.JobQuery;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.Page;
import dev.slotted.orchestrator.store.StoreException;
import dev.slotted.orchestrator.store.sqlite.SqliteJobStore;
import dev.slotted.orchestrator.store.sqlite.SqliteStoreSettings;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.NewJob;
import dev.slotted.protocol.RetryPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code slotted store copy}: a SQLite store with succeeded, retried, dead, cancelled, scheduled and
 * running jobs is copied into PostgreSQL, and the copy answers every read exactly as the original:
 * each job (attempts included), every page of the list, the dead-letter list, the queue counts.
 */
class StoreCopyTest {
  private static final Instant T0 = Instant.parse("2026-12-01T06:00:00Z");
  private static final Duration LEASE = Duration.ofSeconds(30);

  @TempDir Path dir;

  private static <T> T join(CompletionStage<T> s) {
    return s.toCompletableFuture().join();
  }

  @Test
  void aCopyAnswersEveryReadAsTheOriginalAndANonEmptyTargetIsRefused() {
    Path file = dir.resolve("slotted.db");
    try (SqliteJobStore src = SqliteJobStore.open(SqliteStoreSettings.defaults(file).withPartitions(4))) {
      List<NewJob> batch = new ArrayList<>();
      for (int i = 0; i < 120; i++) {
        NewJob j = NewJob.of(i % 3 == 0 ? "reports" : "mail", "{\"i\":" + i + "}").withPartitionKey("k" + (i % 7))
            .withMaxAttempts(2).withRetry(new RetryPolicy.Immediate());
        if (i % 10 == 0) {
          j = j.withIdempotencyKey("key-" + i);
        }
        if (i % 11 == 0) {
          j = j.withTags(List.of("gpu"));
        }
        batch.add(j);
      }
      join(src.submitBatch(batch, at(T0)));
      join(src.submit(NewJob.of("mail", "{}").withRunAt(T0.plusSeconds(3600)), at(T0)));
      Instant t = T0.plusSeconds(1);
      for (int round = 0; round < 3; round++) {
        for (int p = 0; p < 4; p++) {
          List<ClaimedJob> got = join(src.claim(new ClaimRequest(p, Set.of(), Set.of("gpu"), 100, "r#1", LEASE), at(t)));
          List<Completion> done = new ArrayList<>();
          for (ClaimedJob j : got) {
            int i = Integer.parseInt(j.payload().replaceAll("\\D", ""));
            if (i % 5 == 0 && round < 2) {
              done.add(Completion.failed(j, true, "boom", 1, "log tail " + i, "w-1", t.plusMillis(5)));
            } else if (i % 13 == 0) {
              continue; // stays running
            } else {
              done.add(Completion.succeeded(j, "w-1", t.plusMillis(5)));
            }
          }
          join(src.complete(done, at(t.plusMillis(5))));
        }
        t = t.plusSeconds(1);
      }
      Job toCancel = join(src.submit(NewJob.of("reports", "{}").withRunAt(T0.plusSeconds(7200)), at(t))).job();
      join(src.cancel(toCancel.id(), at(t)));
    }

    String schema = TestPostgres.freshSchema("copy");
    PostgresStoreSettings target = PostgresStoreSettings.defaults(TestPostgres.url(), schema);
    StoreCopy.Report report = StoreCopy.copy(file, target);
    assertThat(report.rows().get("jobs")).isEqualTo(122);
    assertThat(report.rows().get("attempts")).isPositive();

    try (SqliteJobStore src = SqliteJobStore.open(SqliteStoreSettings.defaults(file));
         PostgresJobStore dst = PostgresJobStore.open(target)) {
      assertThat(dst.partitions()).isEqualTo(4);
      List<Job> all = pages(src, new JobQuery(null, null, 25, null));
      assertThat(all).hasSize(122);
      assertThat(pages(dst, new JobQuery(null, null, 25, null))).isEqualTo(all);
      assertThat(all.stream().map(Job::state).distinct()).contains(JobState.SUCCEEDED, JobState.DEAD,
          JobState.RUNNING, JobState.SCHEDULED, JobState.CANCELLED);
      for (Job j : all) {
        assertThat(join(dst.get(j.id()))).contains(j);
      }
      assertThat(pages(dst, new JobQuery("mail", JobState.DEAD, 10, null)))
          .isEqualTo(pages(src, new JobQuery("mail", JobState.DEAD, 10, null))).isNotEmpty();
      assertThat(join(dst.queueCounts(T0.plusSeconds(60)))).isEqualTo(join(src.queueCounts(T0.plusSeconds(60))));
      // New ids continue after the copied ones.
      long max = all.stream().mapToLong(j -> Long.parseLong(j.id())).max().orElseThrow();
      assertThat(Long.parseLong(join(dst.submit(NewJob.of("mail", "{}"), at(T0))).job().id())).isGreaterThan(max);
    }
    assertThatThrownBy(() -> StoreCopy.copy(file, target))
        .isInstanceOf(StoreException.class).hasMessageContaining("not empty");
  }

  /** The schedules' journal (events, tags, snapshots) goes along, ordering numbers and payload bytes kept. */
  @Test
  void theSchedulesJournalIsCopiedIntoTheSameSchema() throws Exception {
    Path file = dir.resolve("slotted.db");
    Path journal = dir.resolve("journal.db");
    SqliteJobStore.open(SqliteStoreSettings.defaults(file)).close();
    dev.slotted.orchestrator.schedule.ScheduleJournal.ensureSchema(journal);
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + journal)) {
      try (java.sql.Statement st = c.createStatement()) {
        st.execute("INSERT INTO event_journal (ordering, persistence_id, sequence_number, deleted, writer,"
            + " write_timestamp, event_ser_id, event_ser_manifest, event_payload) VALUES"
            + " (7, 'schedule|a', 1, 0, 'w', 1, 33, 'Created', x'7b2261223a317d'),"
            + " (9, 'schedule|a', 2, 0, 'w', 2, 33, 'Paused', x'7b7d')");
        st.execute("INSERT INTO event_tag (event_id, tag) VALUES (7, 'schedule')");
        st.execute("INSERT INTO snapshot (persistence_id, sequence_number, created, snapshot_ser_id,"
            + " snapshot_ser_manifest, snapshot_payload) VALUES ('schedule|a', 2, 3, 33, 'S', x'00ff')");
      }
    }
    PostgresStoreSettings target = PostgresStoreSettings.defaults(TestPostgres.url(), TestPostgres.freshSchema("copyj"));
    StoreCopy.Report report = StoreCopy.copy(file, journal, target);
    assertThat(report.rows()).containsEntry("event_journal", 2L).containsEntry("event_tag", 1L)
        .containsEntry("snapshot", 1L);
    try (java.sql.Connection c = PostgresJournal.connect(target); java.sql.Statement st = c.createStatement()) {
      try (java.sql.ResultSet rs = st.executeQuery(
          "SELECT ordering, sequence_number, deleted, event_payload FROM event_journal ORDER BY ordering")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getLong(1)).isEqualTo(7);
        assertThat(rs.getBoolean(3)).isFalse();
        assertThat(new String(rs.getBytes(4), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
        assertThat(rs.next()).isTrue();
        assertThat(rs.getLong(1)).isEqualTo(9);
      }
      st.execute("INSERT INTO event_journal (persistence_id, sequence_number, writer, event_ser_id, event_ser_manifest,"
          + " event_payload) VALUES ('schedule|b', 1, 'w', 33, 'Created', '\\x00')");
      try (java.sql.ResultSet rs = st.executeQuery("SELECT max(ordering) FROM event_journal")) {
        rs.next();
        assertThat(rs.getLong(1)).as("new events continue after the copied ordering").isGreaterThan(9);
      }
    }
  }

  private static List<Job> pages(JobStore s, JobQuery first) {
    List<Job> out = new ArrayList<>();
    JobQuery q = first;
    while (true) {
      Page<Job> p = join(s.list(q));
      out.addAll(p.items());
      if (p.nextCursor() == null) {
        return out;
      }
      q = new JobQuery(first.queue(), first.state(), first.limit(), p.nextCursor());
    }
  }
}
