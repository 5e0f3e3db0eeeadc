package dev.slotted.orchestrator.schedule;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.slotted.orchestrator.store.JobStore;
import java.nio.file.Path;

/**
 * Firing against the SQLite job store. Built on a branch before that store was merged, so it finds
 * the store by name and is skipped where the class is absent.
 */
class ScheduleFiringSqliteTest extends ScheduleFiringContract {
  private static final String STORE = "dev.slotted.orchestrator.store.sqlite.SqliteJobStore";
  private static final String SETTINGS = "dev.slotted.orchestrator.store.sqlite.SqliteStoreSettings";

  @Override
  protected JobStore newStore(Path dir) {
    Class<?> store;
    Class<?> settings;
    try {
      store = Class.forName(STORE);
      settings = Class.forName(SETTINGS);
    } catch (ClassNotFoundException e) {
      assumeTrue(false, "no SQLite job store on this branch");
      throw new AssertionError(e);
    }
    try {
      Object s = settings.getMethod("defaults", Path.class).invoke(null, dir.resolve("slotted.db"));
      return (JobStore) store.getMethod("open", settings).invoke(null, s);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("cannot open " + STORE, e);
    }
  }
}
