package dev.slotted.orchestrator.store.sqlite;

import static dev.slotted.orchestrator.store.JobStoreContractTest.at;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.protocol.NewJob;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hot statements use the partial indexes the schema was designed for (EXPLAIN QUERY PLAN). */
class QueryPlanTest {
  @TempDir Path dir;

  private List<String> plan(Connection c, String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("EXPLAIN QUERY PLAN " + sql)) {
      while (rs.next()) {
        out.add(rs.getString(4));
      }
    }
    return out;
  }

  @Test
  void claimPromoteReapRenewAndPurgeUseTheirIndexes() throws Exception {
    Path db = dir.resolve("plan.db");
    try (SqliteJobStore store = SqliteJobStore.open(SqliteStoreSettings.defaults(db))) {
      // Some rows, so the planner has statistics-free but realistic choices.
      List<NewJob> jobs = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        jobs.add(NewJob.of("q", "{}"));
      }
      store.submitBatch(jobs, at(Instant.now())).toCompletableFuture().join();
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
      String claim = Leases.claimSqlForPlan(false, false).replaceAll("\\?\\d", "1");
      List<String> p = plan(c, claim);
      System.out.println("claim: " + p);
      assertThat(String.join("\n", p)).contains("USING INDEX jobs_ready").doesNotContain("TEMP B-TREE");
      String claimQ = Leases.claimSqlForPlan(true, true).replaceAll("\\?\\d", "'[\"q\"]'");
      System.out.println("claim(queues,tags): " + plan(c, claimQ));
      String promote = "UPDATE jobs SET state = 'ready' WHERE id IN (SELECT id FROM jobs WHERE part = 1 AND state = 'scheduled' AND visible_at <= 5 ORDER BY visible_at LIMIT 10)";
      p = plan(c, promote);
      System.out.println("promote: " + p);
      assertThat(String.join("\n", p)).contains("jobs_scheduled").doesNotContain("TEMP B-TREE");
      String reap = "SELECT EXISTS (SELECT 1 FROM jobs WHERE part = 1 AND lease_token IS NOT NULL AND visible_at <= 5)";
      p = plan(c, reap);
      System.out.println("reap: " + p);
      assertThat(String.join("\n", p)).contains("jobs_leased");
      String renew = "UPDATE jobs SET visible_at = 1 FROM json_each('[[1,\"a\"]]') AS h WHERE jobs.id = h.value ->> 0 AND jobs.lease_token = h.value ->> 1 AND jobs.att_runner = 'r'";
      p = plan(c, renew);
      System.out.println("renew: " + p);
      assertThat(String.join("\n", p)).contains("INTEGER PRIMARY KEY");
      String purge = "SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < max(1, 2) AND lease_token IS NULL AND ((state IN ('succeeded', 'cancelled') AND finished_at < 1) OR (state = 'dead' AND finished_at < 2)) LIMIT 3";
      p = plan(c, purge);
      System.out.println("purge: " + p);
      assertThat(String.join("\n", p)).contains("jobs_finished");
      String due = "SELECT p.value FROM json_each('[0,1]') AS p WHERE EXISTS (SELECT 1 FROM jobs WHERE part = p.value AND state = 'ready') OR EXISTS (SELECT 1 FROM jobs WHERE part = p.value AND state = 'scheduled' AND visible_at <= 5)";
      System.out.println("due: " + plan(c, due));
      System.out.println("rows: " + plan(c, "SELECT id FROM jobs WHERE id IN (SELECT value FROM json_each('[1,2]'))"));
      System.out.println("oldest: " + plan(c, "SELECT queue, min(visible_at) FROM jobs WHERE state = 'ready' GROUP BY queue"));
      System.out.println("list: " + plan(c, "SELECT id FROM jobs WHERE id < 5 AND queue = 'q' AND +state = 'ready' ORDER BY id DESC LIMIT 5"));
      System.out.println("listdead: " + plan(c, "SELECT id FROM jobs WHERE id < 5 AND queue = 'q' AND state = 'dead' ORDER BY id DESC LIMIT 5"));
    }
  }
}
