package dev.slotted.orchestrator.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.slotted.orchestrator.app.SlottedApp;
import dev.slotted.orchestrator.store.postgres.TestPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TDMA across hosts whose clocks disagree: two whole runners in this JVM on one real PostgreSQL,
 * one of them on a host clock 4.5 s behind (half a cycle off the 1 s cycle, so that without
 * alignment its window would fall exactly on the other's). Triggers in the database record, in the
 * database's time ({@code clock_timestamp()}), every write statement of each runner (told apart by
 * their connections' {@code application_name}) and every lease written. With the runtime's clock
 * aligned to the database's: each runner writes only inside its own slot of the cycle, no lease is
 * written already expired (each is the visibility timeout ahead of the database's time), attempt
 * times are the database's, no two attempts of a job overlap, and every job succeeds exactly once.
 */
class PostgresClockSkewIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final long CYCLE_MS = 1000;
  private static final long LEASE_MS = 3000;
  private static final long SKEW_MS = -4500;
  private static final int JOBS = 300;
  /** What the alignment may be off by: a few round trips to the database under load. */
  private static final long TOLERANCE_MS = 100;

  @TempDir Path dir;

  @Test
  void aRunnerWhoseHostClockIsSecondsOffStillWritesOnlyInItsOwnSlotInDatabaseTime() throws Exception {
    String url = TestPostgres.url();
    String schema = TestPostgres.freshSchema("skew");
    try (SlottedApp a = SlottedApp.start(config(url, schema, "skew-a"), Clock.systemUTC())) {
      try (Connection db = DriverManager.getConnection(url)) {
        recordWrites(db, schema);
        try (SlottedApp b = SlottedApp.start(config(url, schema, "skew-b"),
            Clock.offset(Clock.systemUTC(), Duration.ofMillis(SKEW_MS)))) {
          Map<String, Integer> index = awaitTwoMembers(db, schema, Duration.ofSeconds(60));
          long from = dbMillis(db) + CYCLE_MS; // a whole cycle after both were admitted
          Thread.sleep(CYCLE_MS);

          StringBuilder body = new StringBuilder("{\"jobs\":[");
          for (int i = 0; i < JOBS; i++) {
            body.append(i == 0 ? "" : ",").append("{\"queue\":\"flaky\",\"partitionKey\":\"k").append(i)
                .append("\",\"payload\":{\"ms\":100,\"failFirst\":1}}");
          }
          body.append("]}");
          post(a, "/api/v1/jobs/batch", body.toString());
          awaitAllSucceeded(db, schema, Duration.ofSeconds(120));
          long to = dbMillis(db);

          boolean shown = false;
          for (JsonNode r : get(b, "/api/v1/runners").get("items")) {
            if (r.get("id").asText().equals(b.runnerId())) {
              shown = true;
              assertThat(r.get("clockOffsetMs").asLong()).as("B's measured offset, shown in the slot table")
                  .isBetween(-SKEW_MS - 100, -SKEW_MS + 100);
            }
          }
          assertThat(shown).as("B in the slot table").isTrue();
          assertThat(awaitTwoMembers(db, schema, Duration.ofSeconds(5))).as("membership unchanged").isEqualTo(index);

          checkWindows(db, schema, index, Map.of("skew-a", a.runnerId(), "skew-b", b.runnerId()), from, to);
          checkLeases(db, schema);
          checkAttempts(db, schema);
        }
      }
    }
  }

  private Config config(String url, String schema, String node) {
    Path home = dir.resolve(node);
    return ConfigFactory.parseString(String.join("\n",
            "slotted {",
            "  node-id = " + node,
            "  store.kind = postgres",
            "  store.postgres { url = \"" + url + "&ApplicationName=" + node + "\", user = \"\", password = \"\","
                + " schema = " + schema + " }",
            "  store.sqlite.path = \"" + home.resolve("slotted.db") + "\"",
            "  schedules.journal-path = \"" + home.resolve("journal.db") + "\"",
            "  http.port = 0",
            "  workers.log-dir = \"" + home.resolve("logs") + "\"",
            "  workers.pid-dir = \"" + home.resolve("pids") + "\"",
            "  workers.capacity = 8",
            "  tdma { enabled = true, cycle = " + CYCLE_MS + "ms, guard = 20ms }",
            "  queues { flaky { handler = sleep, max-attempts = 3, visibility-timeout = " + LEASE_MS + "ms,"
                + " retry { policy = immediate } } }",
            "}",
            "pekko.management.http.port = 0"))
        .withFallback(ConfigFactory.load());
  }

  /** Database-side observers: each write statement, and each lease written, in the database's time. */
  private static void recordWrites(Connection db, String schema) throws Exception {
    String s = schema;
    try (Statement st = db.createStatement()) {
      st.execute("CREATE TABLE " + s + ".test_writes (app TEXT, tx_ms BIGINT, at_ms BIGINT, tbl TEXT)");
      st.execute("CREATE TABLE " + s + ".test_leases (app TEXT, at_ms BIGINT, job_id BIGINT, attempt INT,"
          + " expires_ms BIGINT)");
      st.execute("CREATE TABLE " + s + ".test_ends (at_ms BIGINT, job_id BIGINT, attempt INT)");
      st.execute("CREATE FUNCTION " + s + ".test_log_write() RETURNS trigger AS $$ BEGIN INSERT INTO " + s
          + ".test_writes VALUES (current_setting('application_name'), (extract(epoch FROM now()) * 1000)::bigint,"
          + " (extract(epoch FROM clock_timestamp()) * 1000)::bigint, TG_TABLE_NAME); RETURN NULL; END $$"
          + " LANGUAGE plpgsql");
      st.execute("CREATE FUNCTION " + s + ".test_log_lease() RETURNS trigger AS $$ BEGIN"
          + " IF NEW.lease_token IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.lease_token IS DISTINCT FROM OLD.lease_token"
          + " OR NEW.visible_at <> OLD.visible_at) THEN INSERT INTO " + s + ".test_leases VALUES"
          + " (current_setting('application_name'), (extract(epoch FROM clock_timestamp()) * 1000)::bigint, NEW.id,"
          + " NEW.attempt_no, NEW.visible_at); END IF;"
          + " IF TG_OP = 'UPDATE' AND OLD.lease_token IS NOT NULL AND NEW.lease_token IS NULL THEN INSERT INTO " + s
          + ".test_ends VALUES ((extract(epoch FROM clock_timestamp()) * 1000)::bigint, OLD.id, OLD.attempt_no);"
          + " END IF; RETURN NULL; END $$ LANGUAGE plpgsql");
      for (String table : List.of("jobs", "attempts", "runners")) {
        st.execute("CREATE TRIGGER test_log_write AFTER INSERT OR UPDATE OR DELETE ON " + s + "." + table
            + " FOR EACH STATEMENT EXECUTE FUNCTION " + s + ".test_log_write()");
      }
      st.execute("CREATE TRIGGER test_log_lease AFTER INSERT OR UPDATE ON " + s + ".jobs"
          + " FOR EACH ROW EXECUTE FUNCTION " + s + ".test_log_lease()");
    }
  }

  /**
   * Every write transaction of each runner between {@code from} and {@code to} (database time)
   * starts in its own slot: offsets [index * C/2, (index + 1) * C/2) of the cycle. (A round that
   * starts near its window's end may run past it: an overrun, which the runner counts; the
   * statements that ran past their slot are printed, not asserted.)
   */
  private static void checkWindows(Connection db, String schema, Map<String, Integer> index,
      Map<String, String> runnerOfApp, long from, long to) throws Exception {
    Map<String, long[]> counts = new HashMap<>(); // app -> {transactions, starting outside its slot, statements, outside}
    List<String> outside = new ArrayList<>();
    try (Statement st = db.createStatement();
         ResultSet rs = st.executeQuery("SELECT app, tx_ms, at_ms, tbl FROM " + schema + ".test_writes WHERE tx_ms BETWEEN "
             + from + " AND " + to + " AND app IN ('skew-a', 'skew-b') ORDER BY at_ms")) {
      Map<String, Long> lastTx = new HashMap<>();
      while (rs.next()) {
        String app = rs.getString(1);
        long tx = rs.getLong(2);
        long at = rs.getLong(3);
        int own = index.get(runnerOfApp.get(app));
        long[] c = counts.computeIfAbsent(app, k -> new long[4]);
        c[2]++;
        if (slotOf(at) != own) {
          c[3]++;
        }
        if (Long.valueOf(tx).equals(lastTx.put(app, tx))) {
          continue; // another statement of the same transaction
        }
        c[0]++;
        if (slotOf(tx) != own) {
          c[1]++;
          if (outside.size() < 10) {
            outside.add(app + " " + rs.getString(4) + " at cycle offset " + Math.floorMod(tx, CYCLE_MS) + " ms");
          }
        }
      }
    }
    counts.forEach((app, c) -> System.out.printf("%s: %d write transactions, %d starting outside its slot;"
        + " %d write statements, %d ending outside its slot (overruns)%n", app, c[0], c[1], c[2], c[3]));
    assertThat(counts.keySet()).as("both runners wrote").containsExactlyInAnyOrder("skew-a", "skew-b");
    for (var e : counts.entrySet()) {
      assertThat(e.getValue()[0]).as("write transactions of %s", e.getKey()).isGreaterThan(10);
      assertThat(e.getValue()[1]).as("write transactions of %s (of %d) starting outside its slot %d, e.g. %s", e.getKey(),
          e.getValue()[0], index.get(runnerOfApp.get(e.getKey())), outside).isZero();
    }
  }

  private static int slotOf(long dbMillis) {
    return (int) (Math.floorMod(dbMillis, CYCLE_MS) / (CYCLE_MS / 2));
  }

  /** Each lease written is the visibility timeout ahead of the database's time when written. */
  private static void checkLeases(Connection db, String schema) throws Exception {
    try (Statement st = db.createStatement();
         ResultSet rs = st.executeQuery("SELECT count(*), min(expires_ms - at_ms), max(expires_ms - at_ms) FROM "
             + schema + ".test_leases WHERE app IN ('skew-a', 'skew-b')")) {
      rs.next();
      assertThat(rs.getLong(1)).as("leases written").isGreaterThanOrEqualTo(2L * JOBS);
      assertThat(rs.getLong(2)).as("shortest lease ahead of the database's time when written, ms")
          .isBetween(LEASE_MS - 1000, LEASE_MS + 1000);
      assertThat(rs.getLong(3)).as("longest lease ahead of the database's time when written, ms")
          .isBetween(LEASE_MS - 1000, LEASE_MS + 1000);
    }
  }

  /**
   * Every job: two attempts (the first fails by design), exactly one success, the second starting
   * after the first ended, and each attempt's start the database's time of its claim.
   */
  private static void checkAttempts(Connection db, String schema) throws Exception {
    Map<Long, List<long[]>> byJob = new HashMap<>();
    Map<Long, Integer> successes = new HashMap<>();
    try (Statement st = db.createStatement();
         // Ended attempts are archived in attempts; a finished job's last one stays on its row.
         ResultSet rs = st.executeQuery("SELECT job_id, number, started_at, ended_at, outcome FROM (SELECT job_id,"
             + " number, started_at, ended_at, outcome FROM " + schema + ".attempts UNION ALL SELECT id, attempt_no,"
             + " att_started_at, att_ended_at, att_outcome FROM " + schema + ".jobs WHERE att_started_at IS NOT NULL)"
             + " a ORDER BY job_id, number")) {
      while (rs.next()) {
        byJob.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(new long[] {rs.getLong(3), rs.getLong(4)});
        if (rs.getString(5).equals("succeeded")) {
          successes.merge(rs.getLong(1), 1, Integer::sum);
        }
      }
    }
    assertThat(byJob).hasSize(JOBS);
    assertThat(successes).hasSize(JOBS).allSatisfy((id, n) -> assertThat(n).as("successes of job %d", id).isOne());
    byJob.forEach((id, attempts) -> {
      assertThat(attempts).as("attempts of job %d", id).hasSize(2);
      assertThat(attempts.get(1)[0]).as("job %d: attempt 2 starts after attempt 1 ended", id)
          .isGreaterThanOrEqualTo(attempts.get(0)[1]);
    });
    // In the database's time, an attempt starts after its claim was written and ends before its
    // end was written (a runner's clock off by seconds would put them seconds off).
    String attempts = "(SELECT job_id, number, started_at, ended_at FROM " + schema + ".attempts UNION ALL SELECT id,"
        + " attempt_no, att_started_at, att_ended_at FROM " + schema + ".jobs WHERE att_started_at IS NOT NULL) a";
    try (Statement st = db.createStatement();
         ResultSet rs = st.executeQuery("SELECT count(*), max(l.at_ms - a.started_at), max(a.ended_at - e.at_ms) FROM "
             + attempts + " JOIN (SELECT job_id, attempt, min(at_ms) AS at_ms FROM " + schema + ".test_leases GROUP BY"
             + " job_id, attempt) l ON l.job_id = a.job_id AND l.attempt = a.number JOIN " + schema + ".test_ends e"
             + " ON e.job_id = a.job_id AND e.attempt = a.number")) {
      rs.next();
      assertThat(rs.getLong(1)).as("attempts matched with their claim and end writes").isEqualTo(2L * JOBS);
      assertThat(rs.getLong(2)).as("most an attempt's recorded start precedes its claim, database time, ms")
          .isLessThan(TOLERANCE_MS);
      assertThat(rs.getLong(3)).as("most an attempt's recorded end follows the write that ended it, ms")
          .isLessThan(TOLERANCE_MS);
    }
  }

  /** Waits until both runners' rows say two members with distinct indexes; runner id -> index. */
  private static Map<String, Integer> awaitTwoMembers(Connection db, String schema, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    Map<String, Integer> index = new HashMap<>();
    while (System.nanoTime() < deadline) {
      index.clear();
      boolean two = true;
      try (Statement st = db.createStatement();
           ResultSet rs = st.executeQuery("SELECT id, status_json FROM " + schema + ".runners")) {
        while (rs.next()) {
          JsonNode s = JSON.readTree(rs.getString(2) == null ? "{}" : rs.getString(2));
          two &= s.path("count").asInt() == 2;
          index.put(rs.getString(1), s.path("index").asInt(-1));
        }
      }
      if (two && index.size() == 2 && index.containsValue(0) && index.containsValue(1)) {
        return Map.copyOf(index);
      }
      Thread.sleep(200);
    }
    throw new AssertionError("the two runners did not both become members: " + index);
  }

  private static void awaitAllSucceeded(Connection db, String schema, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    long done = 0;
    while (System.nanoTime() < deadline) {
      try (Statement st = db.createStatement();
           ResultSet rs = st.executeQuery("SELECT count(*) FILTER (WHERE state = 'succeeded'), count(*) FROM "
               + schema + ".jobs")) {
        rs.next();
        done = rs.getLong(1);
        if (done == JOBS && rs.getLong(2) == JOBS) {
          return;
        }
      }
      Thread.sleep(200);
    }
    throw new AssertionError("only " + done + " of " + JOBS + " jobs succeeded");
  }

  private static long dbMillis(Connection db) throws Exception {
    try (Statement st = db.createStatement();
         ResultSet rs = st.executeQuery("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static JsonNode get(SlottedApp app, String path) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri(app, path)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET %s: %s", path, r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private static void post(SlottedApp app, String path, String body) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri(app, path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("POST %s: %s", path, r.body()).isEqualTo(201);
  }

  private static URI uri(SlottedApp app, String path) {
    return URI.create("http://127.0.0.1:" + app.port() + path);
  }
}
