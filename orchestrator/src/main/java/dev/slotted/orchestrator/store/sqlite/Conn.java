package dev.slotted.orchestrator.store.sqlite;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

/**
 * One SQLite connection and its prepared statements, reused for the life of the connection
 * (preparing a statement costs about as much as running a small one). Used by one thread at a
 * time: the writer lane, or the reader that took it from the pool.
 */
final class Conn implements AutoCloseable {
  private final Connection jdbc;
  private final Map<String, PreparedStatement> statements = new HashMap<>();

  Conn(Connection jdbc) {
    this.jdbc = jdbc;
  }

  Connection jdbc() {
    return jdbc;
  }

  /**
   * The cached statement for this SQL, reset: no parameters and no pending batch. The reset happens
   * here, on every hand-out, because the previous user may have failed half-way through binding or
   * batching (an exception between {@code addBatch} and {@code executeBatch} leaves rows queued that
   * the next {@code executeBatch} would insert along with its own).
   */
  PreparedStatement prepare(String sql) throws SQLException {
    PreparedStatement ps = statements.get(sql);
    if (ps == null) {
      ps = jdbc.prepareStatement(sql);
      statements.put(sql, ps);
    } else {
      reset(ps);
    }
    return ps;
  }

  /** Resets every cached statement; the transaction helper calls it after a rollback. */
  void resetAll() throws SQLException {
    for (PreparedStatement ps : statements.values()) {
      reset(ps);
    }
  }

  private static void reset(PreparedStatement ps) throws SQLException {
    ps.clearBatch();
    ps.clearParameters();
  }

  /** Runs a statement without parameters through the statement cache (BEGIN, COMMIT, ...). */
  void run(String sql) throws SQLException {
    prepare(sql).execute();
  }

  void exec(String sql) throws SQLException {
    try (Statement s = jdbc.createStatement()) {
      s.executeUpdate(sql);
    }
  }

  @Override
  public void close() {
    for (PreparedStatement ps : statements.values()) {
      try {
        ps.close();
      } catch (SQLException ignored) {
        // closing anyway; the connection close below releases everything
      }
    }
    statements.clear();
    try {
      jdbc.close();
    } catch (SQLException ignored) {
      // nothing useful to do at close
    }
  }
}
