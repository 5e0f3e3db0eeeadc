package dev.slotted.orchestrator.clock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Properties of the slot arithmetic, each checked on many seeded random configurations (a failure
 * prints the configuration; the seeds are fixed so a failure reproduces).
 */
class SlotMathTest {

  private static final int CASES = 400;

  /** A random valid configuration: cycle, runner count and a guard below half the smallest slot. */
  private record Config(long cycleMs, int count, long guardMs) {
    SlotMath runner(int index) {
      return SlotMath.ofMillis(cycleMs, count, index, guardMs);
    }
  }

  private static Config randomConfig(SplittableRandom random, long maxCycle) {
    long cycle = 1 + random.nextLong(maxCycle);
    int count = 1 + random.nextInt((int) Math.min(cycle, 40));
    long smallest = cycle / count;
    long maxGuard = (smallest - 1) / 2; // 2g < smallest
    long guard = random.nextInt(4) == 0 ? 0 : random.nextLong(maxGuard + 1);
    return new Config(cycle, count, guard);
  }

  private static long randomEpochMs(SplittableRandom random) {
    // Include instants before the epoch: floor division must still align cycles.
    return random.nextLong(-5_000_000_000L, 5_000_000_000_000L);
  }

  @Test
  void slotsTileTheCycleWithoutGapsOrOverlapsWhenTheCycleIsNotAMultipleOfN() {
    assertThat(SlotMath.slotStart(1000, 3, 0)).isZero();
    assertThat(SlotMath.slotStart(1000, 3, 1)).isEqualTo(333);
    assertThat(SlotMath.slotStart(1000, 3, 2)).isEqualTo(666);
    assertThat(SlotMath.slotStart(1000, 3, 3)).isEqualTo(1000);

    SplittableRandom random = new SplittableRandom(1);
    for (int n = 0; n < CASES; n++) {
      Config c = randomConfig(random, 100_000);
      assertThat(SlotMath.slotStart(c.cycleMs(), c.count(), 0)).as("%s", c).isZero();
      assertThat(SlotMath.slotStart(c.cycleMs(), c.count(), c.count()))
          .as("%s", c)
          .isEqualTo(c.cycleMs());
      for (int k = 0; k < c.count(); k++) {
        long width =
            SlotMath.slotStart(c.cycleMs(), c.count(), k + 1)
                - SlotMath.slotStart(c.cycleMs(), c.count(), k);
        assertThat(width)
            .as("%s slot %d", c, k)
            .isBetween(c.cycleMs() / c.count(), (c.cycleMs() + c.count() - 1) / c.count());
      }
    }
  }

  /**
   * Runner j's clock reads {@code t + d_j} (in microseconds, truncated to the millisecond like a
   * real clock). For every |d_j| below the guard, the true-time windows of all runners are
   * pairwise disjoint, checked both as intervals and by sampling instants near every boundary.
   */
  @Test
  void noTwoRunnersOverlapForAnyClockSkewBelowTheGuard() {
    SplittableRandom random = new SplittableRandom(2);
    for (int n = 0; n < CASES; n++) {
      Config c = randomConfig(random, 5_000);
      long[] skewUs = new long[c.count()];
      long bound = c.guardMs() * 1000; // |d| < g
      for (int j = 0; j < c.count(); j++) {
        skewUs[j] = bound == 0 ? 0 : random.nextLong(-bound + 1, bound);
        // Push some runners to the extreme allowed skew, the worst case.
        if (bound > 0 && random.nextBoolean()) {
          skewUs[j] = random.nextBoolean() ? bound - 1 : -bound + 1;
        }
      }
      long cycle = Math.floorDiv(randomEpochMs(random), c.cycleMs());
      assertNoOverlap(c, skewUs, cycle);
    }
  }

  @Test
  void theOverlapCheckDetectsSkewBeyondTheGuard() {
    // Sensitivity of the check above: runner 0 reads g+1 ms behind, runner 1 g+1 ms ahead.
    Config c = new Config(1000, 2, 20);
    long[] skewUs = {-21_000, 21_000};
    assertThatThrownBy(() -> assertNoOverlap(c, skewUs, 7)).isInstanceOf(AssertionError.class);
  }

  private static void assertNoOverlap(Config c, long[] skewUs, long cycle) {
    // True-time interval of runner j's window (in µs): its clock reads floor((T + d_j)/1000) ms,
    // which lies in [o, e) exactly when T lies in [1000*o - d_j, 1000*e - d_j).
    List<long[]> intervals = new ArrayList<>();
    for (int j = 0; j < c.count(); j++) {
      SlotMath math = c.runner(j);
      for (long k = cycle - 1; k <= cycle + 1; k++) {
        SlotWindow w = math.windowIn(k);
        intervals.add(new long[] {w.opensAt() * 1000 - skewUs[j], w.closesAt() * 1000 - skewUs[j]});
      }
    }
    for (int a = 0; a < intervals.size(); a++) {
      for (int b = a + 1; b < intervals.size(); b++) {
        long[] x = intervals.get(a);
        long[] y = intervals.get(b);
        boolean disjoint = x[1] <= y[0] || y[1] <= x[0];
        assertThat(disjoint).as("%s intervals %d and %d overlap", c, a, b).isTrue();
      }
    }
    // The same by sampling isOpen around every slot boundary of the cycle.
    long base = cycle * c.cycleMs() * 1000;
    for (int k = 0; k <= c.count(); k++) {
      long boundaryUs = base + SlotMath.slotStart(c.cycleMs(), c.count(), k) * 1000;
      for (long delta : new long[] {-c.guardMs() * 1000, -1001, -1000, -1, 0, 1, 999, 1000}) {
        long t = boundaryUs + delta;
        int open = 0;
        for (int j = 0; j < c.count(); j++) {
          if (c.runner(j).isOpen(Math.floorDiv(t + skewUs[j], 1000))) {
            open++;
          }
        }
        assertThat(open).as("%s at %d µs", c, t).isLessThanOrEqualTo(1);
      }
    }
  }

  /**
   * Without skew, walking every millisecond of a cycle: an instant is in exactly one window, or in
   * the guard band at one end of the slot that contains it; the windows add up to C - 2gN.
   */
  @Test
  void windowsCoverTheWholeCycleExceptTheGuardsAndNeverOverlap() {
    SplittableRandom random = new SplittableRandom(3);
    for (int n = 0; n < CASES; n++) {
      Config c = randomConfig(random, 3_000);
      long cycle = Math.floorDiv(randomEpochMs(random), c.cycleMs());
      long start = cycle * c.cycleMs();
      long covered = 0;
      for (long offset = 0; offset < c.cycleMs(); offset++) {
        long t = start + offset;
        int open = 0;
        for (int j = 0; j < c.count(); j++) {
          if (c.runner(j).isOpen(t)) {
            open++;
          }
        }
        int slot = slotContaining(c, offset);
        long slotStart = SlotMath.slotStart(c.cycleMs(), c.count(), slot);
        long slotEnd = SlotMath.slotStart(c.cycleMs(), c.count(), slot + 1);
        long guard = c.count() == 1 ? 0 : c.guardMs(); // a lone runner keeps no guard
        boolean inGuard = offset < slotStart + guard || offset >= slotEnd - guard;
        assertThat(open).as("%s offset %d", c, offset).isEqualTo(inGuard ? 0 : 1);
        if (!inGuard) {
          assertThat(c.runner(slot).isOpen(t)).as("%s offset %d owner", c, offset).isTrue();
        }
        covered += open;
      }
      long guard = c.count() == 1 ? 0 : c.guardMs();
      assertThat(covered).as("%s", c).isEqualTo(c.cycleMs() - 2 * guard * c.count());
    }
  }

  private static int slotContaining(Config c, long offset) {
    for (int k = 0; k < c.count(); k++) {
      if (offset < SlotMath.slotStart(c.cycleMs(), c.count(), k + 1)) {
        return k;
      }
    }
    throw new IllegalStateException("offset " + offset + " beyond " + c);
  }

  /** The window at an instant depends only on the instant, never on when a runner started. */
  @Test
  void windowsAreAlignedToTheEpoch() {
    SplittableRandom random = new SplittableRandom(4);
    for (int n = 0; n < CASES; n++) {
      Config c = randomConfig(random, 100_000);
      SlotMath math = c.runner(random.nextInt(c.count()));
      long t = randomEpochMs(random);
      long cycle = math.cycleOf(t);
      assertThat(math.cycleStart(cycle)).as("%s t=%d", c, t).isLessThanOrEqualTo(t);
      assertThat(t - math.cycleStart(cycle)).as("%s t=%d", c, t).isLessThan(c.cycleMs());
      assertThat(Math.floorMod(math.cycleStart(cycle), c.cycleMs())).isZero();
      SlotWindow w = math.windowIn(cycle);
      assertThat(w.opensAt() - math.cycleStart(cycle)).isEqualTo(math.opensOffset());
      assertThat(w.closesAt() - math.cycleStart(cycle)).isEqualTo(math.closesOffset());
      long shift = random.nextLong(-1000, 1000);
      long later = t + shift * c.cycleMs();
      Optional<SlotWindow> here = math.windowAt(t);
      Optional<SlotWindow> there = math.windowAt(later);
      assertThat(there.isPresent()).as("%s t=%d shift=%d", c, t, shift).isEqualTo(here.isPresent());
      here.ifPresent(
          h -> {
            SlotWindow s = there.orElseThrow();
            assertThat(s.cycle()).isEqualTo(h.cycle() + shift);
            assertThat(s.opensAt()).isEqualTo(h.opensAt() + shift * c.cycleMs());
            assertThat(s.closesAt()).isEqualTo(h.closesAt() + shift * c.cycleMs());
          });
      // A second instance, built "later", computes the very same windows.
      assertThat(SlotMath.ofMillis(c.cycleMs(), c.count(), math.index(), c.guardMs()).windowAt(t))
          .isEqualTo(here);
    }
  }

  @Test
  void windowAtAndIsOpenAgree() {
    SplittableRandom random = new SplittableRandom(5);
    for (int n = 0; n < CASES * 10; n++) {
      Config c = randomConfig(random, 10_000);
      SlotMath math = c.runner(random.nextInt(c.count()));
      long t = randomEpochMs(random);
      Optional<SlotWindow> w = math.windowAt(t);
      assertThat(w.isPresent()).as("%s t=%d", c, t).isEqualTo(math.isOpen(t));
      w.ifPresent(x -> assertThat(x.contains(t)).isTrue());
      w.ifPresent(x -> assertThat(x.cycle()).isEqualTo(math.cycleOf(t)));
    }
  }

  /**
   * nextBoundary(t) is the first instant after t where isOpen changes: the state is constant on
   * [t, b) and differs at b. Checked millisecond by millisecond.
   */
  @Test
  void nextBoundaryIsTheFirstInstantWhereTheStateChanges() {
    SplittableRandom random = new SplittableRandom(6);
    for (int n = 0; n < CASES; n++) {
      Config c = randomConfig(random, 2_000);
      SlotMath math = c.runner(random.nextInt(c.count()));
      long t = randomEpochMs(random);
      if (math.alwaysOpen()) {
        assertThat(math.nextBoundary(t)).isEmpty();
        continue;
      }
      long b = math.nextBoundary(t).orElseThrow();
      assertThat(b).as("%s t=%d", c, t).isGreaterThan(t);
      boolean state = math.isOpen(t);
      for (long x = t; x < b; x++) {
        assertThat(math.isOpen(x)).as("%s t=%d b=%d x=%d", c, t, b, x).isEqualTo(state);
      }
      assertThat(math.isOpen(b)).as("%s t=%d b=%d", c, t, b).isNotEqualTo(state);
    }
  }

  @Test
  void nextWindowIsTheFirstWindowOpeningAfterTheInstant() {
    SplittableRandom random = new SplittableRandom(7);
    for (int n = 0; n < CASES * 10; n++) {
      Config c = randomConfig(random, 10_000);
      SlotMath math = c.runner(random.nextInt(c.count()));
      long t = randomEpochMs(random);
      SlotWindow next = math.nextWindow(t);
      assertThat(next.opensAt()).as("%s t=%d", c, t).isGreaterThan(t);
      // No window opens in (t, next.opensAt): the previous one opened at or before t.
      assertThat(math.windowIn(next.cycle() - 1).opensAt()).isLessThanOrEqualTo(t);
    }
  }

  @Test
  void aSingleRunnerIsAlwaysOpenWhateverItsGuard() {
    SlotMath math = SlotMath.of(Duration.ofSeconds(1), 1, 0, Duration.ZERO);
    assertThat(math.alwaysOpen()).isTrue();
    SplittableRandom random = new SplittableRandom(8);
    for (int n = 0; n < CASES; n++) {
      long t = randomEpochMs(random);
      assertThat(math.isOpen(t)).isTrue();
      assertThat(math.nextBoundary(t)).isEmpty();
    }
    // The guard keeps runners apart; a lone runner has nobody to keep apart from.
    assertThat(SlotMath.of(Duration.ofSeconds(1), 1, 0, Duration.ofMillis(20)).alwaysOpen())
        .isTrue();
    assertThat(SlotMath.of(Duration.ofSeconds(1), 1, 0, Duration.ofMillis(20)).withMembership(0, 2).windowAt(1_700_000_000_100L))
        .contains(new SlotWindow(1_700_000_000L, 1_700_000_000_020L, 1_700_000_000_480L));
    assertThat(SlotMath.of(Duration.ofSeconds(1), 2, 0, Duration.ZERO).alwaysOpen()).isFalse();
  }

  @Test
  void theDesignExampleWindows() {
    SlotMath first = SlotMath.of(Duration.ofSeconds(1), 2, 0, Duration.ofMillis(20));
    SlotMath second = SlotMath.of(Duration.ofSeconds(1), 2, 1, Duration.ofMillis(20));
    long t0 = 1_700_000_000_000L; // a cycle start
    assertThat(first.windowAt(t0 + 100)).contains(new SlotWindow(t0 / 1000, t0 + 20, t0 + 480));
    assertThat(first.windowAt(t0 + 480)).isEmpty();
    assertThat(first.windowAt(t0 + 19)).isEmpty();
    assertThat(second.windowAt(t0 + 600)).contains(new SlotWindow(t0 / 1000, t0 + 520, t0 + 980));
    assertThat(second.nextBoundary(t0 + 100)).hasValue(t0 + 520);
    assertThat(second.nextBoundary(t0 + 520)).hasValue(t0 + 980);
    assertThat(second.nextBoundary(t0 + 980)).hasValue(t0 + 1520);
    assertThat(first.nextWindow(t0 + 20))
        .isEqualTo(new SlotWindow(t0 / 1000 + 1, t0 + 1020, t0 + 1480));
  }

  @Test
  void invalidSettingsNameTheirKey() {
    Duration second = Duration.ofSeconds(1);
    assertThatThrownBy(() -> SlotMath.of(second, 0, 0, Duration.ZERO))
        .hasMessageStartingWith("slotted.tdma.runner-count = 0");
    assertThatThrownBy(() -> SlotMath.of(second, 3, 3, Duration.ZERO))
        .hasMessageStartingWith("slotted.tdma.runner-index = 3");
    assertThatThrownBy(() -> SlotMath.of(second, 3, -1, Duration.ZERO))
        .hasMessageStartingWith("slotted.tdma.runner-index = -1");
    assertThatThrownBy(() -> SlotMath.of(Duration.ZERO, 1, 0, Duration.ZERO))
        .hasMessageStartingWith("slotted.tdma.cycle");
    assertThatThrownBy(() -> SlotMath.of(Duration.ofNanos(1_500_000), 1, 0, Duration.ZERO))
        .hasMessageStartingWith("slotted.tdma.cycle");
    assertThatThrownBy(() -> SlotMath.of(Duration.ofMillis(3), 5, 0, Duration.ZERO))
        .hasMessageStartingWith("slotted.tdma.cycle = 3ms");
    assertThatThrownBy(() -> SlotMath.of(second, 1, 0, Duration.ofMillis(-1)))
        .hasMessageStartingWith("slotted.tdma.guard");
    // 1000 / 3 = 333 ms slots: a guard of 166 ms leaves 1 ms, 167 ms leaves nothing.
    assertThat(SlotMath.of(second, 3, 2, Duration.ofMillis(166)).windowIn(0))
        .isEqualTo(new SlotWindow(0, 832, 834));
    assertThatThrownBy(() -> SlotMath.of(second, 3, 0, Duration.ofMillis(167)))
        .hasMessageStartingWith("slotted.tdma.guard = 167ms")
        .hasMessageContaining("333ms");
  }

  @Test
  void withMembershipKeepsCycleAndGuard() {
    SlotMath math = SlotMath.of(Duration.ofSeconds(1), 2, 0, Duration.ofMillis(20));
    SlotMath other = math.withMembership(2, 4);
    assertThat(other.cycleMs()).isEqualTo(1000);
    assertThat(other.guardMs()).isEqualTo(20);
    assertThat(other.windowIn(0)).isEqualTo(new SlotWindow(0, 520, 730));
    assertThatThrownBy(() -> math.withMembership(0, 30))
        .hasMessageStartingWith("slotted.tdma.guard = 20ms");
  }
}
