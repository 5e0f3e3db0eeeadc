package dev.slotted.orchestrator.store.sqlite;

import dev.slotted.orchestrator.store.JdbcJournal;
import dev.slotted.orchestrator.store.JournalStore;
import dev.slotted.orchestrator.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The schedules' event journal in its own SQLite file, so schedule writes never take the job
 * store's write lock (DESIGN §6, §11): its URL, its tables (pekko-persistence-jdbc ships no SQLite
 * DDL; ours is applied before the ActorSystem that uses it starts) and the runtime's reads and fence.
 */
public final class SqliteJournal {
  private static final Logger LOG = LoggerFactory.getLogger(SqliteJournal.class);

  private static final int SCHEMA_VERSION = 1;
  private static final String SCHEMA_RESOURCE = "/db/journal/V001__sqlite_journal.sql";

  // WAL so reads never block the writer; busy_timeout because two runner processes may share the
  // file; IMMEDIATE so a transaction takes the write lock up front instead of failing mid-way with
  // SQLITE_BUSY_SNAPSHOT, which busy_timeout does not retry.
  private static final String PARAMS =
      "?journal_mode=WAL&synchronous=NORMAL&busy_timeout=5000&transaction_mode=IMMEDIATE";

  private SqliteJournal() {}

  /** The JDBC URL of a journal file. */
  public static String jdbcUrl(Path file) {
    return "jdbc:sqlite:" + file.toAbsolutePath() + PARAMS;
  }

  /** Opens the journal file (whose tables must exist: {@link #ensureSchema}). */
  public static JournalStore open(Path file) {
    try {
      return new JdbcJournal(DriverManager.getConnection(jdbcUrl(file)), JdbcJournal.Dialect.SQLITE);
    } catch (SQLException e) {
      throw new StoreException("cannot open the schedule journal " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Creates the journal file and its tables when absent (idempotent; blocking, so call it at start,
   * never on an actor's dispatcher).
   */
  public static void ensureSchema(Path file) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the directory of the schedule journal " + file, e);
    }
    try (Connection c = DriverManager.getConnection(jdbcUrl(file));
         Statement st = c.createStatement()) {
      int version;
      try (ResultSet rs = st.executeQuery("PRAGMA user_version")) {
        version = rs.next() ? rs.getInt(1) : 0;
      }
      if (version >= SCHEMA_VERSION) {
        return;
      }
      c.setAutoCommit(false);
      for (String sql : statements()) {
        st.executeUpdate(sql);
      }
      st.executeUpdate("PRAGMA user_version = " + SCHEMA_VERSION);
      c.commit();
      LOG.info("Created the schedule journal schema in [{}]", file.toAbsolutePath());
    } catch (SQLException e) {
      throw new IllegalStateException("cannot prepare the schedule journal " + file + ": " + e.getMessage(), e);
    }
  }

  private static String[] statements() {
    try (InputStream in = SqliteJournal.class.getResourceAsStream(SCHEMA_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + SCHEMA_RESOURCE);
      }
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).replaceAll("(?m)^--.*$", "");
      return Arrays.stream(text.split(";"))
          .map(String::strip).filter(s -> !s.isEmpty()).toArray(String[]::new);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
