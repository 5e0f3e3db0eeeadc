package dev.slotted.orchestrator.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.orchestrator.http.Json;
import dev.slotted.orchestrator.http.RunnerView;
import dev.slotted.orchestrator.store.RunnerRow;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** {@code /api/v1/runners} shows each runner's measured database clock offset when it has one. */
class RunnerViewsTest {
  private static RunnerRow row(String status) {
    Instant t = Instant.parse("2026-12-01T06:00:00Z");
    return new RunnerRow("r-1", t, t, t.plusSeconds(5), status, true);
  }

  @Test
  void theClockOffsetAndItsUncertaintyReachTheApiWhenMeasured() {
    RunnerView pg = RunnerViews.view(row("{\"index\":0,\"count\":1,\"clockOffsetMs\":-1234,\"clockUncertaintyMs\":2}"));
    assertThat(pg.clockOffsetMs()).isEqualTo(-1234L);
    assertThat(pg.clockUncertaintyMs()).isEqualTo(2L);
    assertThat(Json.runner(pg).get("clockOffsetMs").asLong()).isEqualTo(-1234L);
    assertThat(Json.runner(pg).get("clockUncertaintyMs").asLong()).isEqualTo(2L);

    RunnerView sqlite = RunnerViews.view(row("{\"index\":0,\"count\":1}"));
    assertThat(sqlite.clockOffsetMs()).isNull();
    assertThat(Json.runner(sqlite).has("clockOffsetMs")).isFalse();
  }
}
