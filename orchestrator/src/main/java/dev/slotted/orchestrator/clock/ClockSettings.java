package dev.slotted.orchestrator.clock;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The SlotClock's part of {@code slotted.tdma}. The runner count and index are not here: they come
 * from the membership (static keys or runner rows) and can change at run time.
 *
 * @param enabled false is continuous mode: one window, always open
 * @param cycle the length of one TDMA cycle ({@code slotted.tdma.cycle})
 * @param guard the band left unused at each end of a window ({@code slotted.tdma.guard})
 */
public record ClockSettings(boolean enabled, Duration cycle, Duration guard) {

  public ClockSettings {
    // A single runner is the most lenient case; SlotMath checks the guard again against each N.
    SlotMath.of(cycle, 1, 0, guard);
  }

  /** Reads {@code slotted.tdma.enabled}, {@code .cycle} and {@code .guard} from the root config. */
  public static ClockSettings fromConfig(Config config) {
    Config tdma = config.getConfig("slotted.tdma");
    return new ClockSettings(
        tdma.getBoolean("enabled"), tdma.getDuration("cycle"), tdma.getDuration("guard"));
  }
}
