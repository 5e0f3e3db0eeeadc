package dev.slotted.orchestrator.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.slotted.orchestrator.http.RunnerView;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.RunnerRow;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The slot table from the runner rows: each runner publishes its figures in its row at every
 * window, so any runner can answer {@code GET /api/v1/runners} for all of them.
 */
final class RunnerViews {
  private static final ObjectMapper JSON = new ObjectMapper();

  private RunnerViews() {}

  static CompletionStage<List<RunnerView>> fromStore(JobStore store, Clock clock) {
    return store.runners(clock.instant()).thenApply(rows -> rows.stream().map(RunnerViews::view).toList());
  }

  static RunnerView view(RunnerRow row) {
    JsonNode s;
    try {
      s = row.statusJson() == null ? JSON.createObjectNode() : JSON.readTree(row.statusJson());
    } catch (Exception e) {
      s = JSON.createObjectNode();
    }
    List<Integer> partitions = new ArrayList<>();
    s.path("partitions").forEach(p -> partitions.add(p.asInt()));
    return new RunnerView(row.id(), s.path("index").asInt(), s.path("count").asInt(1), row.alive(),
        Duration.ofMillis(s.path("cycleMs").asLong()), Duration.ofMillis(s.path("windowStartMs").asLong()),
        Duration.ofMillis(s.path("windowEndMs").asLong()), partitions,
        s.path("lastSlotWorkMs").asLong(), s.path("overruns").asLong(),
        s.has("clockOffsetMs") ? s.get("clockOffsetMs").asLong() : null,
        s.has("clockUncertaintyMs") ? s.get("clockUncertaintyMs").asLong() : null);
  }
}
