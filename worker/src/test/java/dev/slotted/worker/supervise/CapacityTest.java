package dev.slotted.worker.supervise;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.protocol.WorkerProtocol.CapacityReport;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CapacityTest {
  private final Capacity c =
      new Capacity(WorkerSettings.of(5, Path.of("logs")).withQueue("slow", 2, null).withQueue("any", 0, null));

  @Test
  void busyWorkersAndBufferedJobsAreReported() {
    c.received("any");
    c.started("any");
    c.received("slow");
    c.workerDown();
    CapacityReport r = c.report(true);
    assertThat(r.idle()).isEqualTo(3);
    assertThat(r.buffered()).isEqualTo(1);
    assertThat(r.received()).isEqualTo(2);
    assertThat(r.room()).containsExactly(Map.entry("slow", 1));
    assertThat(r.receivedByQueue()).containsExactly(Map.entry("slow", 1L));
    c.ended("any");
    c.unbuffered("slow");
    c.workerUp();
    r = c.report(true);
    assertThat(r.idle()).isEqualTo(5);
    assertThat(r.buffered()).isZero();
    assertThat(r.room()).containsEntry("slow", 2);
  }

  @Test
  void aLimitedQueueBuffersAtMostOneLimitBesidesWhatRuns() {
    c.received("slow");
    c.started("slow");
    c.received("slow");
    c.started("slow");
    assertThat(c.report(true).room()).containsEntry("slow", 2);
    c.received("slow");
    c.received("slow");
    assertThat(c.report(true).room()).containsEntry("slow", 0);
    c.received("slow"); // over-claimed: room never goes below 0
    assertThat(c.report(true).room()).containsEntry("slow", 0);
    assertThat(c.report(false).accepting()).isFalse();
  }

  @Test
  void aQueueAtItsLimitHasNoRoom() {
    assertThat(c.queueHasRoom("slow")).isTrue();
    c.received("slow");
    c.started("slow");
    c.received("slow");
    c.started("slow");
    assertThat(c.queueHasRoom("slow")).isFalse();
    assertThat(c.queueHasRoom("any")).isTrue();
    assertThat(c.queueHasRoom("unlisted")).isTrue();
    c.ended("slow");
    assertThat(c.queueHasRoom("slow")).isTrue();
  }
}
