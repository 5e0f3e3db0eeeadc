package dev.slotted.orchestrator.schedule;

import dev.slotted.orchestrator.store.JobStore;
import java.nio.file.Path;

/** Firing against the in-memory store. */
class ScheduleFiringTest extends ScheduleFiringContract {
  @Override
  protected JobStore newStore(Path dir) {
    return new FakeJobStore();
  }
}
