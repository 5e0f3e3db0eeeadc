package dev.slotted.orchestrator.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.slotted.orchestrator.store.Submitted;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.NewJob;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9, item 1: a write that fails half-way through binding a batch must not leave rows queued
 * on the cached statement for the next write to insert (and to misreport ids for).
 */
class StatementResetTest {
  @TempDir Path dir;

  @Test
  void aCachedStatementHandedOutAgainHasNoPendingBatchOrParameters() throws Exception {
    try (Conn c = new Conn(DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("t.db")))) {
      c.exec("CREATE TABLE t (x INTEGER)");
      var first = c.prepare("INSERT INTO t (x) VALUES (?)");
      first.setInt(1, 1);
      first.addBatch();
      // ... the caller fails here, before executeBatch.
      var again = c.prepare("INSERT INTO t (x) VALUES (?)");
      again.setInt(1, 2);
      again.addBatch();
      assertThat(again.executeBatch()).hasSize(1);
      try (ResultSet rs = c.jdbc().createStatement().executeQuery("SELECT group_concat(x) FROM t")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("2");
      }
    }
  }

  @Test
  void afterAFailedBatchTheNextBatchGetsTheIdsOfExactlyTheJobsItStored() throws Exception {
    SqliteStoreSettings settings = SqliteStoreSettings.defaults(dir.resolve("jobs.db"));
    Instant now = Instant.parse("2026-11-22T03:00:00Z");
    try (Conn c = openMigrated(settings)) {
      List<Submitted> first = tx(c, List.of(NewJob.of("noop", "1").withIdempotencyKey("k1")), now);
      String k1 = first.get(0).job().id();
      // Bypasses validation on purpose: the store must survive any failure inside a batch.
      NewJob rejected = NewJob.of("demo", "{\"from\":\"REJECTED\"}").withRunAt(now.plusSeconds(3600));
      NewJob unstorable = NewJob.of("demo", "2").withRunAt(Instant.MAX);
      assertThatThrownBy(() -> tx(c, List.of(rejected, unstorable), now)).isInstanceOf(ArithmeticException.class);

      List<Submitted> next = tx(c, List.of(
          NewJob.of("demo", "{\"from\":\"innocent\"}").withRunAt(now.plusSeconds(3600)),
          NewJob.of("noop", "1").withIdempotencyKey("k1")), now);

      assertThat(next.get(0).created()).isTrue();
      assertThat(next.get(1).created()).as("k1 repeats: the first job").isFalse();
      assertThat(next.get(1).job().id()).isEqualTo(k1);
      Job innocent = JobRows.load(c, Long.parseLong(next.get(0).job().id())).orElseThrow();
      assertThat(innocent.payload()).isEqualTo("{\"from\":\"innocent\"}");
      try (ResultSet rs = c.jdbc().createStatement().executeQuery(
          "SELECT count(*), sum(payload LIKE '%REJECTED%') FROM jobs")) {
        rs.next();
        assertThat(rs.getInt(1)).as("k1 and innocent, nothing else").isEqualTo(2);
        assertThat(rs.getInt(2)).isZero();
      }
    }
  }

  private static List<Submitted> tx(Conn c, List<NewJob> jobs, Instant now) throws Exception {
    return SqliteDb.inTransaction(c, "BEGIN IMMEDIATE", w -> Submissions.insert(w, jobs, now, 16));
  }

  private static Conn openMigrated(SqliteStoreSettings settings) throws Exception {
    Conn c = new Conn(DriverManager.getConnection("jdbc:sqlite:" + settings.path()));
    Migrations.migrate(c, Migrations.load(StatementResetTest.class.getClassLoader()), settings.path().toString());
    return c;
  }
}
