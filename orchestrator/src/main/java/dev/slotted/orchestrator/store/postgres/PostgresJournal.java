package dev.slotted.orchestrator.store.postgres;

import dev.slotted.orchestrator.store.JdbcJournal;
import dev.slotted.orchestrator.store.JournalStore;
import dev.slotted.orchestrator.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Properties;

/**
 * The schedules' event journal in the job store's PostgreSQL database and schema: its tables
 * (pekko-persistence-jdbc's PostgreSQL schema) and the connection settings its users need.
 */
public final class PostgresJournal {
  private static final String DDL = "/db/journal/postgres_journal.sql";
  /** Serializes orchestrators creating the journal tables at once. */
  private static final long LOCK = 0x536c6f74744a6eL;

  private PostgresJournal() {}

  /** The JDBC URL with the store's schema as the connection's search path. */
  public static String url(PostgresStoreSettings s) {
    return s.url() + (s.url().contains("?") ? "&" : "?") + "currentSchema=" + s.schema();
  }

  /** The runtime's reads and fence of the journal in this schema (whose tables must exist). */
  public static JournalStore open(PostgresStoreSettings s) {
    try {
      return new JdbcJournal(connect(s), JdbcJournal.Dialect.POSTGRES);
    } catch (SQLException e) {
      throw new StoreException("cannot open the schedule journal in PostgreSQL: " + e.getMessage(), e);
    }
  }

  /** A plain connection to the journal's schema (autocommit on). */
  public static Connection connect(PostgresStoreSettings s) throws SQLException {
    Properties p = new Properties();
    if (!s.user().isEmpty()) {
      p.setProperty("user", s.user());
    }
    if (!s.password().isEmpty()) {
      p.setProperty("password", s.password());
    }
    return DriverManager.getConnection(url(s), p);
  }

  /**
   * Creates the schema and the journal tables when absent (idempotent). Waits for an unreachable
   * server like the store does; refused settings name their key.
   */
  public static void ensureSchema(PostgresStoreSettings s) {
    PgDb.awaitServer(s);
    try (Connection c = connect(s); Statement st = c.createStatement()) {
      c.setAutoCommit(false);
      st.execute("SELECT pg_advisory_xact_lock(" + LOCK + ")");
      for (String sql : statements()) {
        st.execute(sql);
      }
      c.commit();
    } catch (SQLException e) {
      throw new StoreException("cannot prepare the schedule journal in schema " + s.schema() + ": " + e.getMessage(), e);
    }
  }

  private static String[] statements() {
    try (InputStream in = PostgresJournal.class.getResourceAsStream(DDL)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + DDL);
      }
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).replaceAll("(?m)^--.*$", "");
      return Arrays.stream(text.split(";")).map(String::strip).filter(x -> !x.isEmpty()).toArray(String[]::new);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + DDL, e);
    }
  }
}
