package dev.slotted.orchestrator.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.slotted.orchestrator.http.RunnerView;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.RunnerRow;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
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

  /**
   * How long a runner whose lease expired stays in the table, shown with {@code alive=false} and no
   * partitions (what it owned has moved to the live runners); after that it is left out. Its row
   * stays in the store: membership, not this view, decides what happens to it.
   */
  static final Duration DEAD_SHOWN_FOR = Duration.ofMinutes(10);

  static CompletionStage<List<RunnerView>> fromStore(JobStore store, Clock clock) {
    Instant now = clock.instant();
    return store.runners(now).thenApply(rows -> views(rows, now));
  }

  static List<RunnerView> views(List<RunnerRow> rows, Instant now) {
    return rows.stream()
        .filter(r -> r.alive() || !r.expiresAt().plus(DEAD_SHOWN_FOR).isBefore(now))
        .map(RunnerViews::view)
        .toList();
  }

  static RunnerView view(RunnerRow row) {
    JsonNode s;
    try {
      s = row.statusJson() == null ? JSON.createObjectNode() : JSON.readTree(row.statusJson());
    } catch (Exception e) {
      s = JSON.createObjectNode();
    }
    List<Integer> partitions = new ArrayList<>();
    if (row.alive()) {
      s.path("partitions").forEach(p -> partitions.add(p.asInt()));
    }
    return new RunnerView(row.id(), s.path("index").asInt(), s.path("count").asInt(1), row.alive(),
        Duration.ofMillis(s.path("cycleMs").asLong()), Duration.ofMillis(s.path("windowStartMs").asLong()),
        Duration.ofMillis(s.path("windowEndMs").asLong()), partitions,
        s.path("lastSlotWorkMs").asLong(), s.path("overruns").asLong(),
        row.alive() ? s.path("buffered").asInt() : 0, row.alive() ? s.path("running").asInt() : 0,
        s.has("clockOffsetMs") ? s.get("clockOffsetMs").asLong() : null,
        s.has("clockUncertaintyMs") ? s.get("clockUncertaintyMs").asLong() : null);
  }
}
