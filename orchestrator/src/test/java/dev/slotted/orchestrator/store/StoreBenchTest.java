package dev.slotted.orchestrator.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The benchmark runs end to end, reports every figure, and leaves nothing behind. */
class StoreBenchTest {
  @TempDir Path dir;

  @Test
  void reportsEveryFigureAsTableAndJson() throws Exception {
    StoreBench.Options o = new StoreBench.Options(Duration.ofMillis(150), 1, List.of(10), List.of(100), 4, "NORMAL", false);
    StoreBench.Result r = StoreBench.run(dir, o);
    assertThat(r.measurements()).extracting(StoreBench.Measurement::operation, StoreBench.Measurement::batch)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("claim+complete", 10),
            org.assertj.core.groups.Tuple.tuple("submit", 100));
    assertThat(r.measurements()).allSatisfy(m -> assertThat(m.median()).isPositive());
    assertThat(r.table()).contains("claim+complete").contains("submit");
    assertThat(r.json()).startsWith("{\"date\":").contains("\"operation\":\"submit\",\"batch\":100");
    try (var left = Files.list(dir)) {
      assertThat(left).as("fresh databases are removed").isEmpty();
    }
    assertThat(StoreBench.median(List.of(3.0, 1.0, 2.0))).isEqualTo(2.0);
    assertThat(StoreBench.median(List.of(4.0, 1.0))).isEqualTo(2.5);
  }
}
