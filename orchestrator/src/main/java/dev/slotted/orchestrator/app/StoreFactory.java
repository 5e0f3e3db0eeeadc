package dev.slotted.orchestrator.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.slotted.orchestrator.config.ConfigError;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.StoreSettingsException;
import dev.slotted.orchestrator.store.postgres.PostgresJobStore;
import dev.slotted.orchestrator.store.postgres.PostgresStoreSettings;
import dev.slotted.orchestrator.store.sqlite.SqliteJobStore;
import dev.slotted.orchestrator.store.sqlite.SqliteStoreSettings;
import java.time.Clock;
import java.util.concurrent.Executor;

/**
 * The job store {@code slotted.store.kind} names, with its settings read and checked before
 * anything starts. A setting the store cannot use becomes a {@link ConfigError} (exit 2, naming the
 * key), whether it is caught while reading the config or when the server refuses it at open.
 */
final class StoreFactory {
  private final SqliteStoreSettings sqlite;
  private final PostgresStoreSettings postgres;

  private StoreFactory(SqliteStoreSettings sqlite, PostgresStoreSettings postgres) {
    this.sqlite = sqlite;
    this.postgres = postgres;
  }

  static StoreFactory fromConfig(Config config, String kind) {
    try {
      return kind.equals("postgres")
          ? new StoreFactory(null, PostgresStoreSettings.fromConfig(config))
          : new StoreFactory(SqliteStoreSettings.fromConfig(config), null);
    } catch (ConfigException e) {
      throw new ConfigError("invalid setting " + e.getMessage(), e);
    }
  }

  /**
   * Opens (and migrates) the store; JDBC runs on {@code jdbc}. A server's clock is measured against
   * {@code host}.
   */
  JobStore open(Executor jdbc, Clock host) {
    if (postgres == null) {
      return new SqliteJobStore(sqlite, jdbc);
    }
    try {
      return new PostgresJobStore(postgres, jdbc, host);
    } catch (StoreSettingsException e) {
      throw new ConfigError("invalid setting " + e.key() + ": " + e.getMessage(), e);
    }
  }

  /** Where the jobs live, for the start line of the log. */
  String describe() {
    return postgres == null ? sqlite.path().toString()
        : "postgres " + postgres.url().replaceAll("\\?.*", "") + " schema " + postgres.schema();
  }
}
