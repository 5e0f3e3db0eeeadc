package dev.slotted.orchestrator.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScheduleJournalTest {

  @TempDir Path dir;

  private static List<String> columns(Connection c, String table) throws SQLException {
    List<String> out = new ArrayList<>();
    try (ResultSet rs = c.createStatement().executeQuery("PRAGMA table_info(" + table + ")")) {
      while (rs.next()) {
        out.add(rs.getString("name"));
      }
    }
    return out;
  }

  @Test
  void schemaHasEveryColumnThePluginIsConfiguredWith() throws Exception {
    Path file = dir.resolve("nested/dir/journal.db");
    ScheduleJournal.ensureSchema(file);
    ScheduleJournal.ensureSchema(file);  // idempotent
    assertThat(Files.exists(file)).isTrue();
    Config plugin = ConfigFactory.load();
    try (Connection c = DriverManager.getConnection(ScheduleJournal.jdbcUrl(file))) {
      assertThat(columns(c, "event_journal")).containsExactlyInAnyOrderElementsOf(
          plugin.getConfig("jdbc-journal.tables.event_journal.columnNames").root().unwrapped().values()
              .stream().map(String::valueOf).toList());
      assertThat(columns(c, "event_tag")).containsExactlyInAnyOrderElementsOf(
          plugin.getConfig("jdbc-journal.tables.event_tag.columnNames").root().unwrapped().values()
              .stream().map(String::valueOf).toList());
      assertThat(columns(c, "snapshot")).containsExactlyInAnyOrderElementsOf(
          plugin.getConfig("jdbc-snapshot-store.tables.snapshot.columnNames").root().unwrapped().values()
              .stream().map(String::valueOf).toList());
      try (ResultSet rs = c.createStatement().executeQuery("PRAGMA journal_mode")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualToIgnoringCase("wal");
      }
      try (ResultSet rs = c.createStatement().executeQuery("PRAGMA busy_timeout")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(5000);
      }
      // Transactions take the write lock at BEGIN (no SQLITE_BUSY_SNAPSHOT half-way through).
      assertThat(c.unwrap(org.sqlite.SQLiteConnection.class).getConnectionConfig().getTransactionMode())
          .isEqualTo(org.sqlite.SQLiteConfig.TransactionMode.IMMEDIATE);
      // AUTOINCREMENT ordering, unique per (persistence_id, sequence_number).
      c.createStatement().executeUpdate("INSERT INTO event_journal (persistence_id, sequence_number, writer,"
          + " event_ser_id, event_ser_manifest, event_payload) VALUES ('a', 1, 'w', 1, 'm', x'00')");
      boolean refused = false;
      try {
        c.createStatement().executeUpdate("INSERT INTO event_journal (persistence_id, sequence_number, writer,"
            + " event_ser_id, event_ser_manifest, event_payload) VALUES ('a', 1, 'w', 1, 'm', x'00')");
      } catch (SQLException e) {
        refused = true;
      }
      assertThat(refused).isTrue();
    }
  }

  @Test
  void configurePointsThePluginAtTheConfiguredPath() {
    Config app = ConfigFactory.parseString("slotted.schedules.journal-path = \"/srv/slotted/j.db\"")
        .withFallback(ConfigFactory.load());
    Config configured = ScheduleJournal.configure(app);
    assertThat(configured.getString(ScheduleJournal.URL_KEY)).startsWith("jdbc:sqlite:/srv/slotted/j.db?");
    assertThat(configured.getString("pekko.persistence.journal.plugin")).isEqualTo("jdbc-journal");
    assertThat(configured.getString("jdbc-journal.use-shared-db")).isEqualTo(ScheduleJournal.DATABASE);
    ScheduleSettings settings = ScheduleSettings.fromConfig(configured);
    assertThat(settings.maxCatchUp()).isEqualTo(10);
    assertThat(settings.misfireThreshold()).hasSeconds(60);
    assertThat(settings.journalPath()).isEqualTo(Path.of("/srv/slotted/j.db"));
  }
}
