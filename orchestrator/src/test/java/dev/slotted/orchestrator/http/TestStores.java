package dev.slotted.orchestrator.http;

import dev.slotted.orchestrator.config.Settings;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.sqlite.SqliteJobStore;
import dev.slotted.orchestrator.store.sqlite.SqliteStoreSettings;
import java.nio.file.Path;
import java.util.function.Function;

/** The store the API tests run on: a real SQLite file. */
public final class TestStores {
  private TestStores() {}

  /** A SQLite store in {@code dir}, with the server's partitions and payload limit. */
  public static Function<Settings, JobStore> sqlite(Path dir) {
    return settings -> SqliteJobStore.open(SqliteStoreSettings.defaults(dir.resolve("slotted.db"))
        .withPartitions(settings.partitions())
        .withMaxPayloadBytes(settings.maxPayload()));
  }
}
