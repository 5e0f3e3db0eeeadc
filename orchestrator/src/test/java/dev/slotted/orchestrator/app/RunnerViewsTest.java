package dev.slotted.orchestrator.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.orchestrator.http.RunnerView;
import dev.slotted.orchestrator.store.RunnerRow;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 9: a dead runner shows as not alive, owns nothing, and leaves the table after a while. */
class RunnerViewsTest {
  private static final Instant NOW = Instant.parse("2026-12-01T06:00:00Z");
  private static final String STATUS = "{\"index\":1,\"count\":2,\"partitions\":[1,3],\"cycleMs\":1000}";

  private static RunnerRow row(String id, Instant expiresAt) {
    return new RunnerRow(id, NOW.minusSeconds(3600), expiresAt.minusSeconds(5), expiresAt, STATUS,
        expiresAt.isAfter(NOW));
  }

  @Test
  void aLiveRunnerShowsWhatItPublished() {
    RunnerView v = RunnerViews.views(List.of(row("live", NOW.plusSeconds(5))), NOW).get(0);
    assertThat(v.alive()).isTrue();
    assertThat(v.partitions()).containsExactly(1, 3);
  }

  @Test
  void aDeadRunnerShowsAsNotAliveWithoutPartitionsThenIsDropped() {
    List<RunnerView> recent = RunnerViews.views(List.of(row("dead", NOW.minusSeconds(60))), NOW);
    assertThat(recent).singleElement().satisfies(v -> {
      assertThat(v.alive()).isFalse();
      assertThat(v.partitions()).isEmpty();
    });
    Instant longAgo = NOW.minus(RunnerViews.DEAD_SHOWN_FOR).minus(Duration.ofMillis(1));
    assertThat(RunnerViews.views(List.of(row("dead", longAgo), row("live", NOW.plusSeconds(5))), NOW))
        .extracting(RunnerView::id).containsExactly("live");
  }
}
