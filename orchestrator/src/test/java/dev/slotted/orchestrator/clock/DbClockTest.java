package dev.slotted.orchestrator.clock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.orchestrator.store.ClockOffset;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class DbClockTest {
  private final SettableClock host = new SettableClock();
  private final AtomicReference<ClockOffset> latest = new AtomicReference<>();
  private long measurements;

  private void measured(long offsetMs, long uncertaintyMs) {
    latest.set(new ClockOffset(offsetMs, uncertaintyMs, Instant.ofEpochMilli(host.millis() + ++measurements)));
  }

  private DbClock clock() {
    return new DbClock(host, () -> Optional.ofNullable(latest.get()), Duration.ofMillis(20));
  }

  @Test
  void isTheHostClockPlusTheFirstMeasuredOffset() {
    host.set(1_000_000);
    measured(-4_500, 1);
    DbClock clock = clock();
    assertThat(clock.millis()).isEqualTo(995_500);
    assertThat(clock.instant()).isEqualTo(Instant.ofEpochMilli(995_500));
    host.advance(250);
    assertThat(clock.millis()).as("follows the host clock between measurements").isEqualTo(995_750);
  }

  @Test
  void isTheHostClockUntilAnOffsetIsMeasured() {
    host.set(1_000_000);
    DbClock clock = clock();
    assertThat(clock.millis()).isEqualTo(1_000_000);
    measured(300, 1);
    assertThat(clock.millis()).isEqualTo(1_000_300);
  }

  @Test
  void smoothsSmallChangesByHalvingThem() {
    host.set(1_000_000);
    measured(100, 1);
    DbClock clock = clock();
    measured(110, 1);
    assertThat(clock.offsetMs()).isEqualTo(105);
    measured(110, 1);
    assertThat(clock.offsetMs()).isEqualTo(107);
    measured(90, 1);
    assertThat(clock.offsetMs()).isEqualTo(99);
    for (int i = 0; i < 20; i++) {
      measured(90, 1);
    }
    assertThat(clock.offsetMs()).as("each measurement read once").isEqualTo(95);
  }

  @Test
  void followsAStepOfTheHostClockAtOnce() {
    host.set(1_000_000);
    measured(0, 1);
    DbClock clock = clock();
    // NTP steps the host clock 3 s back: the database is now 3 s ahead of it.
    host.advance(-3_000);
    measured(3_000, 1);
    assertThat(clock.millis()).isEqualTo(1_000_000);
  }

  @Test
  void ignoresAnUncertainMeasurementOnceAligned() {
    host.set(1_000_000);
    measured(50, 1);
    DbClock clock = clock();
    measured(400, 300);
    assertThat(clock.offsetMs()).isEqualTo(50);
    measured(60, 2);
    assertThat(clock.offsetMs()).isEqualTo(55);
  }

  @Test
  void reachesTheSameTimeFromSkewedHosts() {
    SettableClock other = new SettableClock();
    host.set(1_000_000);
    other.set(1_004_100); // 4.1 s ahead
    DbClock a = new DbClock(host, () -> Optional.of(new ClockOffset(7, 1, Instant.EPOCH)), Duration.ofMillis(20));
    DbClock b = new DbClock(other, () -> Optional.of(new ClockOffset(-4_093, 1, Instant.EPOCH)), Duration.ofMillis(20));
    assertThat(a.millis()).isEqualTo(b.millis());
  }
}
