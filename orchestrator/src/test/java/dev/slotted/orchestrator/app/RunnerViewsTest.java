package dev.slotted.orchestrator.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.orchestrator.http.Json;
import dev.slotted.orchestrator.http.RunnerView;
import dev.slotted.orchestrator.store.RunnerRow;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The slot table as {@code /api/v1/runners} shows it: a dead runner shows as not alive, owns nothing,
 * and leaves the table after a while; a live one shows what it published (its buffer, and its
 * measured database clock offset when it has one).
 */
class RunnerViewsTest {
  private static final Instant NOW = Instant.parse("2026-12-01T06:00:00Z");
  private static final String STATUS =
      "{\"index\":1,\"count\":2,\"partitions\":[1,3],\"cycleMs\":1000,\"buffered\":40,\"running\":7}";

  private static RunnerRow row(String id, Instant expiresAt, String status) {
    return new RunnerRow(id, NOW.minusSeconds(3600), expiresAt.minusSeconds(5), expiresAt, status,
        expiresAt.isAfter(NOW));
  }

  private static RunnerRow row(String id, Instant expiresAt) {
    return row(id, expiresAt, STATUS);
  }

  @Test
  void aLiveRunnerShowsWhatItPublished() {
    RunnerView v = RunnerViews.views(List.of(row("live", NOW.plusSeconds(5))), NOW).get(0);
    assertThat(v.alive()).isTrue();
    assertThat(v.partitions()).containsExactly(1, 3);
    assertThat(v.buffered()).isEqualTo(40);
    assertThat(v.running()).isEqualTo(7);
  }

  @Test
  void aDeadRunnerShowsAsNotAliveWithoutPartitionsThenIsDropped() {
    List<RunnerView> recent = RunnerViews.views(List.of(row("dead", NOW.minusSeconds(60))), NOW);
    assertThat(recent).singleElement().satisfies(v -> {
      assertThat(v.alive()).isFalse();
      assertThat(v.partitions()).isEmpty();
      assertThat(v.buffered()).isZero();
    });
    Instant longAgo = NOW.minus(RunnerViews.DEAD_SHOWN_FOR).minus(Duration.ofMillis(1));
    assertThat(RunnerViews.views(List.of(row("dead", longAgo), row("live", NOW.plusSeconds(5))), NOW))
        .extracting(RunnerView::id).containsExactly("live");
  }

  @Test
  void theClockOffsetAndItsUncertaintyReachTheApiWhenMeasured() {
    RunnerView pg = RunnerViews.view(row("r-1", NOW.plusSeconds(5),
        "{\"index\":0,\"count\":1,\"clockOffsetMs\":-1234,\"clockUncertaintyMs\":2}"));
    assertThat(pg.clockOffsetMs()).isEqualTo(-1234L);
    assertThat(pg.clockUncertaintyMs()).isEqualTo(2L);
    assertThat(Json.runner(pg).get("clockOffsetMs").asLong()).isEqualTo(-1234L);
    assertThat(Json.runner(pg).get("clockUncertaintyMs").asLong()).isEqualTo(2L);

    RunnerView sqlite = RunnerViews.view(row("r-1", NOW.plusSeconds(5), "{\"index\":0,\"count\":1}"));
    assertThat(sqlite.clockOffsetMs()).isNull();
    assertThat(Json.runner(sqlite).has("clockOffsetMs")).isFalse();
  }
}
