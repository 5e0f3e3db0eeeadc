package dev.slotted.orchestrator.store.postgres;

import dev.slotted.orchestrator.store.StoreException;
import dev.slotted.orchestrator.store.sqlite.SqliteJobStore;
import dev.slotted.orchestrator.store.sqlite.SqliteStoreSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * {@code slotted store copy}: every job (with its latest attempt on the row), every archived
 * attempt and the partition count of a SQLite store, into an empty PostgreSQL store, in one
 * PostgreSQL transaction. Ids are kept (they name log files and appear in other systems) and the
 * id sequence continues after the largest. The per-partition counters are rebuilt from the copied
 * rows. A target that holds any job is refused. At the end the counts by table, and by queue and
 * state, are compared between source and target; a difference rolls the copy back.
 *
 * <p>The schedules' journal, a second SQLite file beside the store, goes into the same PostgreSQL
 * schema (pekko-persistence-jdbc's tables: events, tags, snapshots, with their ordering numbers),
 * in the same transaction and under the same checks, when a journal file is given.
 */
public final class StoreCopy {
  private static final List<String> TABLES = List.of("jobs", "attempts");
  private static final List<String> JOURNAL_TABLES = List.of("event_journal", "event_tag", "snapshot");
  private static final String COUNTS = "SELECT queue, state, count(*) FROM jobs GROUP BY queue, state ORDER BY queue, state";
  private static final String REBUILD_STATS = "INSERT INTO queue_stats (queue, state, part, n)"
      + " SELECT queue, state, part, count(*) FROM jobs GROUP BY queue, state, part";

  /** What was copied: rows per table, and jobs by "queue/state". */
  public record Report(Map<String, Long> rows, Map<String, Long> jobsByQueueAndState) {}

  private StoreCopy() {}

  public static Report copy(Path sqliteFile, PostgresStoreSettings target) {
    return copy(sqliteFile, null, target);
  }

  /** As {@link #copy(Path, PostgresStoreSettings)}, with the schedules' journal file (or null). */
  public static Report copy(Path sqliteFile, Path journalFile, PostgresStoreSettings target) {
    if (!Files.isRegularFile(sqliteFile)) {
      throw new StoreException("no SQLite store at " + sqliteFile);
    }
    // Opening the source migrates it to this version's schema first (a newer one is refused).
    SqliteJobStore.open(SqliteStoreSettings.defaults(sqliteFile)).close();
    int sourcePartitions;
    try (Connection src = DriverManager.getConnection("jdbc:sqlite:" + sqliteFile.toAbsolutePath() + "?open_mode=1")) {
      try (Statement st = src.createStatement();
           ResultSet rs = st.executeQuery("SELECT value FROM meta WHERE key = 'partitions'")) {
        rs.next();
        sourcePartitions = Integer.parseInt(rs.getString(1));
      }
      // Creates and migrates the target schema, with the source's partition count.
      PostgresJobStore.open(target.withPartitions(sourcePartitions)).close();
      PostgresJournal.ensureSchema(target);
      try (Connection dst = connect(target)) {
        dst.setAutoCommit(false);
        try {
          checkEmpty(dst, sourcePartitions);
          Map<String, Long> rows = new LinkedHashMap<>();
          for (String table : TABLES) {
            rows.put(table, copyTable(src, dst, table));
          }
          if (journalFile != null) {
            copyJournal(journalFile, dst, rows);
          }
          try (Statement st = dst.createStatement()) {
            st.execute("DELETE FROM queue_stats");
            st.execute(REBUILD_STATS);
            st.execute("SELECT setval('jobs_id_seq', greatest((SELECT max(id) FROM jobs), 1))");
          }
          Map<String, Long> before = counts(src);
          Map<String, Long> after = counts(dst);
          for (String table : TABLES) {
            long s = count(src, table);
            long d = count(dst, table);
            if (s != d || d != rows.get(table)) {
              throw new StoreException("copy check failed: " + table + " has " + s + " rows in the source, " + d
                  + " in the target");
            }
          }
          if (!before.equals(after)) {
            throw new StoreException("copy check failed: jobs by queue and state differ: source " + before
                + ", target " + after);
          }
          dst.commit();
          return new Report(rows, after);
        } catch (SQLException | RuntimeException e) {
          dst.rollback();
          throw e;
        }
      }
    } catch (SQLException e) {
      throw new StoreException("store copy failed: " + e.getMessage(), e);
    }
  }

  private static void copyJournal(Path journalFile, Connection dst, Map<String, Long> rows) throws SQLException {
    if (!Files.isRegularFile(journalFile)) {
      throw new StoreException("no schedule journal at " + journalFile);
    }
    try (Connection j = DriverManager.getConnection("jdbc:sqlite:" + journalFile.toAbsolutePath() + "?open_mode=1")) {
      for (String table : JOURNAL_TABLES) {
        long n = count(dst, table);
        if (n > 0) {
          throw new StoreException("the target is not empty: its " + table + " table holds " + n + " rows");
        }
      }
      for (String table : JOURNAL_TABLES) {
        long copied = copyTable(j, dst, table);
        if (copied != count(j, table) || copied != count(dst, table)) {
          throw new StoreException("copy check failed: " + table + " has " + count(j, table) + " rows in the source, "
              + count(dst, table) + " in the target");
        }
        rows.put(table, copied);
      }
      try (Statement st = dst.createStatement()) {
        st.execute("SELECT setval(pg_get_serial_sequence('event_journal', 'ordering'),"
            + " greatest((SELECT max(ordering) FROM event_journal), 1))");
      }
    }
  }

  private static Connection connect(PostgresStoreSettings s) throws SQLException {
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

  private static void checkEmpty(Connection dst, int sourcePartitions) throws SQLException {
    for (String table : TABLES) {
      long n = count(dst, table);
      if (n > 0) {
        throw new StoreException("the target is not empty: its " + table + " table holds " + n
            + " rows; copy into an empty schema (slotted.store.postgres.schema)");
      }
    }
    try (Statement st = dst.createStatement();
         ResultSet rs = st.executeQuery("SELECT value FROM meta WHERE key = 'partitions'")) {
      if (rs.next() && Integer.parseInt(rs.getString(1)) != sourcePartitions) {
        throw new StoreException("the target was created with " + rs.getString(1) + " partitions, the source has "
            + sourcePartitions + ": copy into a new schema");
      }
    }
  }

  private static long copyTable(Connection src, Connection dst, String table) throws SQLException {
    long n = 0;
    try (Statement st = src.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM " + table)) {
      ResultSetMetaData md = rs.getMetaData();
      List<String> columns = new ArrayList<>();
      for (int i = 1; i <= md.getColumnCount(); i++) {
        columns.add(md.getColumnName(i));
      }
      String sql = "INSERT INTO " + table + " (" + String.join(", ", columns) + ") VALUES ("
          + String.join(", ", columns.stream().map(c -> "?").toList()) + ")";
      try (PreparedStatement ins = dst.prepareStatement(sql)) {
        while (rs.next()) {
          for (int i = 1; i <= columns.size(); i++) {
            Object v = rs.getObject(i);
            if (v != null && columns.get(i - 1).equalsIgnoreCase("deleted") && v instanceof Number num) {
              v = num.intValue() != 0; // SQLite keeps the journal's BOOLEAN as 0/1
            }
            if (v == null) {
              ins.setNull(i, java.sql.Types.NULL);
            } else {
              ins.setObject(i, v);
            }
          }
          ins.addBatch();
          if (++n % 1000 == 0) {
            ins.executeBatch();
          }
        }
        ins.executeBatch();
      }
    }
    return n;
  }

  private static long count(Connection c, String table) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static Map<String, Long> counts(Connection c) throws SQLException {
    Map<String, Long> out = new LinkedHashMap<>();
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(COUNTS)) {
      while (rs.next()) {
        out.put(rs.getString(1) + "/" + rs.getString(2), rs.getLong(3));
      }
    }
    return out;
  }
}
