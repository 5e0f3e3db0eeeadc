package dev.slotted.orchestrator.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.sqlite.SQLiteConfig;

/**
 * The raw SQLite loops of PERF-NOTES.md (one connection, WAL, BEGIN IMMEDIATE, a minimal queue
 * table with a partial index on ready rows), run beside the store benchmark so the store's figures
 * can be read as a fraction of what the file itself does on the same machine at the same moment.
 */
final class RawSqliteBaseline {
  private RawSqliteBaseline() {}

  private static Connection open(Path db, String synchronous) throws SQLException {
    SQLiteConfig cfg = new SQLiteConfig();
    cfg.setJournalMode(SQLiteConfig.JournalMode.WAL);
    cfg.setSynchronous(SQLiteConfig.SynchronousMode.valueOf(synchronous));
    cfg.setBusyTimeout(0);
    Connection c = cfg.createConnection("jdbc:sqlite:" + db.toAbsolutePath());
    try (Statement s = c.createStatement()) {
      s.executeUpdate("CREATE TABLE IF NOT EXISTS q (id INTEGER PRIMARY KEY, status INTEGER NOT NULL,"
          + " priority INTEGER NOT NULL, visible_at INTEGER NOT NULL, payload TEXT NOT NULL)");
      s.executeUpdate("CREATE INDEX IF NOT EXISTS q_ready ON q (priority DESC, visible_at) WHERE status = 0");
    }
    return c;
  }

  private static void insert(Connection c, int rows) throws SQLException {
    try (Statement s = c.createStatement();
        PreparedStatement ins = c.prepareStatement("INSERT INTO q (status, priority, visible_at, payload) VALUES (0, 0, ?, '{}')")) {
      s.execute("BEGIN IMMEDIATE");
      for (int i = 0; i < rows; i++) {
        ins.setLong(1, System.currentTimeMillis());
        ins.addBatch();
      }
      ins.executeBatch();
      s.execute("COMMIT");
    }
  }

  /** Inserts in transactions of {@code batch} rows; rows per second. */
  static double insert(Path db, String synchronous, int batch, Duration duration) throws SQLException {
    try (Connection c = open(db, synchronous)) {
      long deadline = System.nanoTime() + duration.toNanos();
      long start = System.nanoTime();
      long n = 0;
      while (System.nanoTime() < deadline) {
        insert(c, batch);
        n += batch;
      }
      return n / ((System.nanoTime() - start) / 1e9);
    }
  }

  /** Claims {@code batch} rows with one UPDATE ... RETURNING, then acks them by UPDATE in a second transaction. */
  static double claimAck(Path db, String synchronous, int batch, Duration duration, long prefill) throws SQLException {
    try (Connection c = open(db, synchronous);
        Statement s = c.createStatement();
        PreparedStatement claim = c.prepareStatement("UPDATE q SET status = 1, visible_at = ? WHERE id IN"
            + " (SELECT id FROM q WHERE status = 0 ORDER BY priority DESC, visible_at LIMIT ?) RETURNING id");
        PreparedStatement ack = c.prepareStatement("UPDATE q SET status = 2 WHERE id = ?")) {
      for (long n = 0; n < prefill; n += 1000) {
        insert(c, 1000);
      }
      long deadline = System.nanoTime() + duration.toNanos();
      long start = System.nanoTime();
      long n = 0;
      List<Long> ids = new ArrayList<>(batch);
      while (System.nanoTime() < deadline) {
        ids.clear();
        s.execute("BEGIN IMMEDIATE");
        claim.setLong(1, System.currentTimeMillis() + 30_000);
        claim.setInt(2, batch);
        try (ResultSet rs = claim.executeQuery()) {
          while (rs.next()) {
            ids.add(rs.getLong(1));
          }
        }
        s.execute("COMMIT");
        if (ids.isEmpty()) {
          break;
        }
        s.execute("BEGIN IMMEDIATE");
        for (long id : ids) {
          ack.setLong(1, id);
          ack.addBatch();
        }
        ack.executeBatch();
        s.execute("COMMIT");
        n += ids.size();
      }
      return n / ((System.nanoTime() - start) / 1e9);
    }
  }
}
