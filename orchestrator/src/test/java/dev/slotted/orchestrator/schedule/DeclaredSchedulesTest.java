package dev.slotted.orchestrator.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeclaredSchedulesTest {

  private static List<ScheduleSpec> parse(String hocon) {
    return DeclaredSchedules.fromConfig(ConfigFactory.parseString(hocon), 4096);
  }

  @Test
  void parsesTheApiFieldsWithHoconDurationsAndPayloadObjects() {
    List<ScheduleSpec> specs = parse("""
        slotted.schedules.declared = [
          { name = nightly-report, cron = "0 3 * * *", timezone = Europe/Berlin, misfire = catch-up,
            overlap = skip, job { queue = reports, payload { kind = daily, n = [1, 2] }, priority = 5,
            maxAttempts = 3, tags = [gpu], timeout = 1h } }
          { name = heartbeat, every = 30s, anchor = "2026-01-01T00:00:00Z", paused = true,
            job { queue = demo, payload = "{\\"ms\\": 10}" } }
          { name = iso, every = PT2M, job { queue = demo } }
        ]""");
    assertThat(specs).hasSize(3);
    ScheduleSpec nightly = specs.get(0);
    assertThat(nightly.cron()).isEqualTo("0 3 * * *");
    assertThat(nightly.timezone()).isEqualTo("Europe/Berlin");
    assertThat(nightly.misfire()).isEqualTo(MisfirePolicy.CATCH_UP);
    assertThat(nightly.overlap()).isEqualTo(OverlapPolicy.SKIP);
    assertThat(nightly.job()).isEqualTo(new JobTemplate("reports", "{\"kind\":\"daily\",\"n\":[1,2]}", 5, 3,
        List.of("gpu"), Duration.ofHours(1)));
    ScheduleSpec heartbeat = specs.get(1);
    assertThat(heartbeat.every()).isEqualTo(Duration.ofSeconds(30));
    assertThat(heartbeat.anchor()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
    assertThat(heartbeat.paused()).isTrue();
    assertThat(heartbeat.job().payload()).isEqualTo("{\"ms\": 10}");
    assertThat(heartbeat.misfire()).isEqualTo(MisfirePolicy.FIRE_ONCE);
    assertThat(specs.get(2).every()).isEqualTo(Duration.ofMinutes(2));
    assertThat(specs.get(2).job().payload()).isEqualTo("null");
    assertThat(parse("slotted.schedules.declared = []")).isEmpty();
  }

  @Test
  void aBadEntryNamesTheKeyAndTheValue() {
    assertThatThrownBy(() -> parse("""
        slotted.schedules.declared = [
          { name = a, cron = "0 25 * * *", job { queue = q } }
          { name = b, every = soon, job { queue = q } }
          { name = a, cron = "0 3 * * *", timezone = Mars/Base, job { queue = q, retries = 3 } }
          { name = c, cron = "0 3 * * *", misfire = later, job { queue = q } }
          { name = d, cron = "0 3 * * *", job { queue = q }, colour = blue }
        ]"""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("slotted.schedules.declared[0].cron: invalid cron expression '0 25 * * *'")
        .hasMessageContaining("slotted.schedules.declared[1].every: not a duration: 'soon'")
        .hasMessageContaining("slotted.schedules.declared[2].job.retries: unknown field")
        .hasMessageContaining("slotted.schedules.declared[3].misfire: unknown misfire policy 'later'")
        .hasMessageContaining("slotted.schedules.declared[4].colour: unknown field");
    assertThatThrownBy(() -> parse("""
        slotted.schedules.declared = [
          { name = a, cron = "0 3 * * *", timezone = Mars/Base, job { queue = q } }
          { name = a, cron = "0 3 * * *", job { queue = q } }
        ]"""))
        .hasMessageContaining("declared[0].timezone: unknown time zone 'Mars/Base'")
        .hasMessageContaining("declared[1].name: 'a' is declared twice");
  }
}
