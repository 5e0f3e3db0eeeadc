package dev.slotted.orchestrator.store.sqlite;

import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.JobStoreContractTest;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;

/** The contract suite against real SQLite files, on an executor the test owns (as the runtime does). */
class SqliteJobStoreTest extends JobStoreContractTest {
  @TempDir Path dir;
  private final AtomicInteger n = new AtomicInteger();
  private final ExecutorService pool = Executors.newFixedThreadPool(3);

  @Override
  protected JobStore newStore(int partitions, int maxPayloadBytes) {
    SqliteStoreSettings settings = SqliteStoreSettings.defaults(dir.resolve("store-" + n.incrementAndGet() + ".db"))
        .withPartitions(partitions)
        .withMaxPayloadBytes(maxPayloadBytes);
    return new SqliteJobStore(settings, pool);
  }

  @Override
  protected void afterStoresClosed() {
    pool.shutdownNow();
  }
}
