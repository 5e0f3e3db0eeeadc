package dev.slotted.orchestrator.clock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ClockSettingsTest {

  @Test
  void readsTheDefaultsFromReferenceConf() {
    ClockSettings settings = ClockSettings.fromConfig(ConfigFactory.defaultReference());
    assertThat(settings)
        .isEqualTo(new ClockSettings(true, Duration.ofSeconds(1), Duration.ofMillis(20)));
  }

  @Test
  void readsOverrides() {
    ClockSettings settings =
        ClockSettings.fromConfig(
            ConfigFactory.parseString("slotted.tdma { enabled = false, cycle = 2s, guard = 0ms }"));
    assertThat(settings).isEqualTo(new ClockSettings(false, Duration.ofSeconds(2), Duration.ZERO));
  }

  @Test
  void aGuardThatLeavesNoWindowIsRejectedNamingTheKey() {
    assertThatThrownBy(
            () ->
                ClockSettings.fromConfig(
                    ConfigFactory.parseString(
                        "slotted.tdma { enabled = true, cycle = 500ms, guard = 250ms }")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("slotted.tdma.guard = 250ms");
    assertThatThrownBy(() -> new ClockSettings(true, Duration.ZERO, Duration.ZERO))
        .hasMessageStartingWith("slotted.tdma.cycle");
  }
}
