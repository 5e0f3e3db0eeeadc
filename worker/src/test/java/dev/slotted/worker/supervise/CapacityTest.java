package dev.slotted.worker.supervise;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.protocol.WorkerProtocol.Reservation;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CapacityTest {
  private final Capacity c =
      new Capacity(WorkerSettings.of(5, Path.of("logs")).withQueue("slow", 2, null).withQueue("any", 0, null));

  @Test
  void everyUseOfASlotCountsAgainstTheCapacity() {
    c.started("any");
    c.waitingAdded("slow");
    c.workerDown();
    Reservation r = c.reserve(10);
    assertThat(r.total()).isEqualTo(2);
    assertThat(r.limitedQueues()).containsExactly(Map.entry("slow", 1));
    assertThat(c.free()).isZero();
    c.ended("any");
    c.waitingRemoved("slow");
    c.workerUp();
    assertThat(c.free()).isEqualTo(3);
    assertThat(c.release(r.id(), r.total())).isTrue();
    assertThat(c.free()).isEqualTo(5);
    assertThat(c.reserved()).isZero();
  }

  @Test
  void aDispatchWithoutIdGivesBackTheOldestReservationOfItsSize() {
    Reservation a = c.reserve(2);
    Reservation b = c.reserve(1);
    assertThat(a.limitedQueues()).containsEntry("slow", 2);
    assertThat(b.limitedQueues()).containsEntry("slow", 0);
    assertThat(c.release(0, 3)).isFalse(); // matches nothing: gives back nothing
    assertThat(c.reserved()).isEqualTo(3);
    assertThat(c.release(0, 2)).isTrue();
    assertThat(c.reserved()).isEqualTo(1);
    assertThat(c.reserve(5).limitedQueues()).containsEntry("slow", 2);
    assertThat(c.release(b.id(), 1)).isTrue();
    assertThat(c.release(b.id(), 1)).isFalse();
  }

  @Test
  void aQueueAtItsLimitHasNoRoom() {
    assertThat(c.queueHasRoom("slow")).isTrue();
    c.started("slow");
    c.started("slow");
    assertThat(c.queueHasRoom("slow")).isFalse();
    assertThat(c.queueHasRoom("any")).isTrue();
    assertThat(c.queueHasRoom("unlisted")).isTrue();
    c.ended("slow");
    assertThat(c.queueHasRoom("slow")).isTrue();
  }
}
