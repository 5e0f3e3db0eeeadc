package dev.slotted.orchestrator.store.postgres;

import dev.slotted.orchestrator.store.StoreException;
import dev.slotted.orchestrator.store.sqlite.Migrations;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The same versioned, checksummed migrations as the SQLite store ({@link Migrations}: files {@code
 * V<n>__<description>.sql}, a {@code schema_migrations} table, an edited applied file refused, a
 * newer database refused), from {@code db/postgres}. All pending files run in one transaction under
 * a transaction-scoped advisory lock, so orchestrators starting together on an empty database
 * serialize and the later ones find the work done. PostgreSQL's DDL is transactional: a failed
 * migration leaves nothing behind.
 */
final class PgMigrations {
  private static final Logger LOG = LoggerFactory.getLogger(PgMigrations.class);
  static final String LOCATION = "db/postgres";
  /** Any fixed number: the advisory lock that serializes migrating orchestrators. */
  private static final long LOCK = 0x536c6f7474656dL;

  private static final String CREATE_TABLE = """
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version     INTEGER PRIMARY KEY,
        description TEXT    NOT NULL,
        checksum    TEXT    NOT NULL,
        applied_at  BIGINT  NOT NULL
      )""";

  private PgMigrations() {}

  static List<Integer> migrate(Connection c, String dbName) throws SQLException {
    List<Migrations.Migration> known = Migrations.load(PgMigrations.class.getClassLoader(), LOCATION);
    try (Statement st = c.createStatement()) {
      st.execute("SELECT pg_advisory_xact_lock(" + LOCK + ")");
      st.execute(CREATE_TABLE);
    }
    Map<Integer, String> existing = new HashMap<>();
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT version, checksum FROM schema_migrations")) {
      while (rs.next()) {
        existing.put(rs.getInt(1), rs.getString(2));
      }
    }
    int newestKnown = known.get(known.size() - 1).version();
    int newestApplied = existing.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
    if (newestApplied > newestKnown) {
      throw new StoreException("the database " + dbName + " has schema version " + newestApplied
          + ", newer than this version of Slotted knows (up to " + newestKnown + "): it was created"
          + " or upgraded by a newer Slotted. Run that version, or point slotted.store.postgres at"
          + " another schema.");
    }
    List<Integer> applied = new ArrayList<>();
    for (Migrations.Migration m : known) {
      String sum = existing.get(m.version());
      if (sum == null) {
        try (Statement st = c.createStatement()) {
          st.execute(m.sql());
        }
        try (PreparedStatement ins = c.prepareStatement(
            "INSERT INTO schema_migrations(version, description, checksum, applied_at) VALUES (?, ?, ?, ?)")) {
          ins.setInt(1, m.version());
          ins.setString(2, m.description());
          ins.setString(3, m.checksum());
          ins.setLong(4, System.currentTimeMillis());
          ins.executeUpdate();
        }
        applied.add(m.version());
      } else if (!sum.equals(m.checksum())) {
        throw new StoreException("migration V" + m.version() + " (" + m.description() + ") was changed"
            + " after it was applied to " + dbName + ": applied migrations must never be edited;"
            + " add a new one instead");
      }
    }
    if (!applied.isEmpty()) {
      LOG.info("Applied schema migrations {} to [{}]", applied, dbName);
    }
    return applied;
  }
}
