package dev.slotted.orchestrator.store.postgres;

import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.JobStoreContractTest;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The same contract suite as SQLite, against a real PostgreSQL server: each store is an empty schema
 * of its own, migrated at open. Skipped locally, failed under CI, when no server is configured.
 */
class PostgresJobStoreContractTest extends JobStoreContractTest {
  private final ExecutorService pool = Executors.newFixedThreadPool(4);

  @Override
  protected JobStore newStore(int partitions, int maxPayloadBytes) {
    PostgresStoreSettings settings = PostgresStoreSettings.defaults(TestPostgres.url(), TestPostgres.freshSchema("contract"))
        .withPartitions(partitions)
        .withMaxPayloadBytes(maxPayloadBytes);
    return new PostgresJobStore(settings, pool);
  }

  @Override
  protected void afterStoresClosed() {
    pool.shutdownNow();
  }
}
