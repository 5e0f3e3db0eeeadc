package dev.slotted.orchestrator.http;

import dev.slotted.orchestrator.config.Settings;
import dev.slotted.orchestrator.store.JobStore;

/** The store the API tests run on. */
public final class TestStores {
  private TestStores() {}

  public static JobStore open(Settings settings) {
    return new InMemoryJobStore();
  }
}
