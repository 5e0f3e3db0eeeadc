package dev.slotted.orchestrator.schedule;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.slotted.orchestrator.store.sqlite.SqliteJournal;
import java.nio.file.Path;
import java.util.Map;

/**
 * The schedules' event journal: its own SQLite file, so schedule writes never take the job store's
 * write lock (DESIGN §6, §11), or with PostgreSQL the job store's schema. pekko-persistence-jdbc
 * ships no SQLite DDL; ours is applied by the store ({@link SqliteJournal}) before the ActorSystem
 * that uses it starts. This class points the plugin at the journal.
 *
 * <p>Startup order: {@link #ensureSchema(Path)}, then build the ActorSystem with {@link
 * #configure(Config)} (which points the plugin at {@code slotted.schedules.journal-path}).
 */
public final class ScheduleJournal {

  /** The shared Slick database that the journal, snapshot store and read journal use. */
  public static final String DATABASE = "slotted-journal";

  static final String URL_KEY = "pekko-persistence-jdbc.shared-databases." + DATABASE + ".db.url";

  private ScheduleJournal() {}

  /** The JDBC URL of a journal file. */
  public static String jdbcUrl(Path file) {
    return SqliteJournal.jdbcUrl(file);
  }

  /**
   * {@code config} with the journal plugin pointed at its {@code slotted.schedules.journal-path}.
   * Needed because a substitution inside {@code reference.conf} is resolved before the application's
   * settings are seen.
   */
  public static Config configure(Config config) {
    dev.slotted.orchestrator.store.postgres.PostgresStoreSettings pg = postgres(config);
    Config c = pg == null ? config.withValue(URL_KEY, ConfigValueFactory.fromAnyRef(jdbcUrl(journalPath(config))))
        : configurePostgres(config, pg);
    // Keys of other libraries are set here rather than in our reference.conf: the fat jar
    // concatenates every module's reference.conf, and a library's own default that comes later
    // in the file would win (e.g. pekko.persistence.journal.plugin = "").
    for (Map.Entry<String, Object> e : PLUGIN_SETTINGS.entrySet()) {
      c = c.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
    }
    return c;
  }

  /**
   * With {@code slotted.store.kind = postgres}, the job store's PostgreSQL settings: the journal
   * then lives in the same database and schema (pekko-persistence-jdbc's PostgreSQL schema), so
   * every orchestrator sees every schedule. Null for the SQLite file.
   */
  public static dev.slotted.orchestrator.store.postgres.PostgresStoreSettings postgres(Config config) {
    if (!config.getString("slotted.store.kind").equals("postgres")) {
      return null;
    }
    return dev.slotted.orchestrator.store.postgres.PostgresStoreSettings.fromConfig(config);
  }

  private static Config configurePostgres(Config config, dev.slotted.orchestrator.store.postgres.PostgresStoreSettings pg) {
    String db = "pekko-persistence-jdbc.shared-databases." + DATABASE;
    Config c = config
        .withValue(db + ".profile", ConfigValueFactory.fromAnyRef("slick.jdbc.PostgresProfile$"))
        .withValue(db + ".db.url", ConfigValueFactory.fromAnyRef(
            dev.slotted.orchestrator.store.postgres.PostgresJournal.url(pg)))
        .withValue(db + ".db.driver", ConfigValueFactory.fromAnyRef("org.postgresql.Driver"))
        // A server, unlike the file: a few connections, recycled as Hikari does by default.
        .withValue(db + ".db.numThreads", ConfigValueFactory.fromAnyRef(2))
        .withValue(db + ".db.maxConnections", ConfigValueFactory.fromAnyRef(2))
        .withValue(db + ".db.maxLifetime", ConfigValueFactory.fromAnyRef(1_800_000));
    if (!pg.user().isEmpty()) {
      c = c.withValue(db + ".db.user", ConfigValueFactory.fromAnyRef(pg.user()));
    }
    if (!pg.password().isEmpty()) {
      c = c.withValue(db + ".db.password", ConfigValueFactory.fromAnyRef(pg.password()));
    }
    return c;
  }

  /** Creates the journal's tables when absent: in the SQLite file, or in the PostgreSQL schema. */
  public static void ensureSchema(ScheduleSettings settings) {
    if (settings.journalPostgres() != null) {
      dev.slotted.orchestrator.store.postgres.PostgresJournal.ensureSchema(settings.journalPostgres());
    } else {
      ensureSchema(settings.journalPath());
    }
  }

  private static final Map<String, Object> PLUGIN_SETTINGS = Map.of(
      "pekko.persistence.journal.plugin", "jdbc-journal",
      "pekko.persistence.snapshot-store.plugin", "jdbc-snapshot-store",
      "jdbc-journal.use-shared-db", DATABASE,
      // One connection: more concurrent batch inserts would only queue.
      "jdbc-journal.parallelism", 1,
      "jdbc-snapshot-store.use-shared-db", DATABASE,
      "jdbc-read-journal.use-shared-db", DATABASE);

  /**
   * {@code slotted.schedules.journal-path}, or when it is empty {@code journal.db} beside the job
   * store's file ({@code slotted.store.sqlite.path}), so a runner pointed at another database
   * directory keeps its journal there too.
   */
  public static Path journalPath(Config config) {
    String configured = config.getString("slotted.schedules.journal-path");
    if (!configured.isBlank()) {
      return Path.of(configured);
    }
    return Path.of(config.getString("slotted.store.sqlite.path")).resolveSibling("journal.db");
  }

  /** Application settings over the defaults, with the journal at {@code file}; for tests and tools. */
  public static Config configFor(Path file, Config overrides) {
    Config merged = overrides.withFallback(ConfigFactory.load());
    return configure(merged.withValue("slotted.schedules.journal-path",
        ConfigValueFactory.fromAnyRef(file.toString())));
  }

  /**
   * Creates the journal file and its tables when absent (idempotent; blocking, so call it at start,
   * never on an actor's dispatcher).
   */
  public static void ensureSchema(Path file) {
    SqliteJournal.ensureSchema(file);
  }
}
