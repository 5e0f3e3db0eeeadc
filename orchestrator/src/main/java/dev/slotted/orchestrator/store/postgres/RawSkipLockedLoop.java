package dev.slotted.orchestrator.store.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The physical limit of PERF-NOTES.md on the same server: a minimal queue table, and {@code
 * connections} loops that each claim {@code batch} ready rows with {@code FOR UPDATE SKIP LOCKED}
 * in one transaction, then ack them in a second, until the table is drained. No leases, no
 * attempts, no counters: what any PostgreSQL queue costs at least.
 */
public final class RawSkipLockedLoop {
  private static final String CLAIM = """
      WITH c AS (SELECT id FROM raw_q WHERE status = 0 ORDER BY priority DESC, visible_at, id
                 LIMIT ? FOR UPDATE SKIP LOCKED)
      UPDATE raw_q q SET status = 1, visible_at = ? FROM c WHERE q.id = c.id RETURNING q.id""";
  private static final String ACK = "UPDATE raw_q SET status = 2 WHERE id = ANY(?)";

  private RawSkipLockedLoop() {}

  private static Connection connect(PostgresStoreSettings s) throws Exception {
    Properties p = new Properties();
    if (!s.user().isEmpty()) {
      p.setProperty("user", s.user());
    }
    if (!s.password().isEmpty()) {
      p.setProperty("password", s.password());
    }
    p.setProperty("currentSchema", s.schema());
    return DriverManager.getConnection(s.url(), p);
  }

  /** Drains {@code jobs} rows with {@code connections} claim+ack loops; returns jobs per second. */
  public static double drain(PostgresStoreSettings s, int jobs, int batch, int connections) throws Exception {
    try (Connection c = connect(s); Statement st = c.createStatement()) {
      st.execute("CREATE SCHEMA IF NOT EXISTS " + s.schema());
      st.execute("DROP TABLE IF EXISTS raw_q");
      st.execute("CREATE TABLE raw_q (id BIGSERIAL PRIMARY KEY, status INT NOT NULL, priority INT NOT NULL,"
          + " visible_at BIGINT NOT NULL, payload TEXT NOT NULL)");
      st.execute("CREATE INDEX raw_q_ready ON raw_q (priority DESC, visible_at, id) WHERE status = 0");
      st.execute("INSERT INTO raw_q (status, priority, visible_at, payload) SELECT 0, 0, g, '{}'"
          + " FROM generate_series(1, " + jobs + ") g");
      st.execute("ANALYZE raw_q");
    }
    ExecutorService pool = Executors.newFixedThreadPool(connections);
    try {
      long start = System.nanoTime();
      List<Future<Long>> loops = new ArrayList<>();
      for (int i = 0; i < connections; i++) {
        loops.add(pool.submit(() -> loop(s, batch)));
      }
      long done = 0;
      for (Future<Long> f : loops) {
        done += f.get();
      }
      return done / ((System.nanoTime() - start) / 1e9);
    } finally {
      pool.shutdownNow();
      try (Connection c = connect(s); Statement st = c.createStatement()) {
        st.execute("DROP TABLE IF EXISTS raw_q");
      }
    }
  }

  private static long loop(PostgresStoreSettings s, int batch) throws Exception {
    long done = 0;
    try (Connection c = connect(s);
         PreparedStatement claim = c.prepareStatement(CLAIM);
         PreparedStatement ack = c.prepareStatement(ACK)) {
      c.setAutoCommit(false);
      while (true) {
        claim.setInt(1, batch);
        claim.setLong(2, System.currentTimeMillis() + 30_000);
        List<Long> ids = new ArrayList<>(batch);
        try (ResultSet rs = claim.executeQuery()) {
          while (rs.next()) {
            ids.add(rs.getLong(1));
          }
        }
        c.commit();
        if (ids.isEmpty()) {
          return done;
        }
        ack.setArray(1, c.createArrayOf("bigint", ids.toArray()));
        ack.executeUpdate();
        c.commit();
        done += ids.size();
      }
    }
  }
}
