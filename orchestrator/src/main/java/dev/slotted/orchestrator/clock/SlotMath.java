package dev.slotted.orchestrator.clock;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The TDMA slot arithmetic of one runner (DESIGN §2), pure and immutable. Times are epoch
 * milliseconds.
 *
 * <p>Cycles are aligned to the epoch: cycle {@code c} spans {@code [c*C, (c+1)*C)}, so every runner
 * computes the same cycles whenever it started. Slot {@code k} of N spans the offsets {@code
 * [floor(k*C/N), floor((k+1)*C/N))}: the slots tile the cycle without gap or overlap even when C is
 * not a multiple of N (their widths differ by at most 1 ms). Runner {@code i}'s window is its slot
 * shrunk by the guard at both ends, so a runner whose clock is off by less than the guard still
 * writes only inside its own slot.
 *
 * <p>N = 1 with no guard is the degenerate case: consecutive windows touch, so the runner is always
 * open and {@link #nextBoundary} has none.
 */
public final class SlotMath {

  public static final String KEY_CYCLE = "slotted.tdma.cycle";
  public static final String KEY_GUARD = "slotted.tdma.guard";
  public static final String KEY_RUNNER_INDEX = "slotted.tdma.runner-index";
  public static final String KEY_RUNNER_COUNT = "slotted.tdma.runner-count";

  private final long cycleMs;
  private final int count;
  private final int index;
  private final long guardMs;
  private final long opensOffset;
  private final long closesOffset;

  private SlotMath(long cycleMs, int count, int index, long guardMs) {
    this.cycleMs = cycleMs;
    this.count = count;
    this.index = index;
    this.guardMs = guardMs;
    // A lone runner has nobody to keep a distance from: its window is the whole cycle, so a single
    // runner never waits for a window (the guard comes back as soon as a second runner joins).
    long effectiveGuard = count == 1 ? 0 : guardMs;
    this.opensOffset = slotStart(cycleMs, count, index) + effectiveGuard;
    this.closesOffset = slotStart(cycleMs, count, index + 1) - effectiveGuard;
  }

  /**
   * Validates and builds. Errors name the configuration key at fault.
   *
   * @throws IllegalArgumentException when N &lt; 1, i is not in [0, N), the cycle is not a positive
   *     whole number of milliseconds of at least 1 ms per slot, or the guard is negative or not
   *     below half the smallest slot
   */
  public static SlotMath of(Duration cycle, int count, int index, Duration guard) {
    if (cycle == null || cycle.isNegative() || cycle.isZero() || cycle.getNano() % 1_000_000 != 0) {
      throw new IllegalArgumentException(
          KEY_CYCLE + " = " + cycle + ": must be a positive whole number of milliseconds");
    }
    if (guard == null || guard.isNegative() || guard.getNano() % 1_000_000 != 0) {
      throw new IllegalArgumentException(
          KEY_GUARD + " = " + guard + ": must be zero or a positive whole number of milliseconds");
    }
    return ofMillis(cycle.toMillis(), count, index, guard.toMillis());
  }

  /** As {@link #of}, with the cycle and the guard in milliseconds. */
  public static SlotMath ofMillis(long cycleMs, int count, int index, long guardMs) {
    if (count < 1) {
      throw new IllegalArgumentException(KEY_RUNNER_COUNT + " = " + count + ": must be at least 1");
    }
    if (index < 0 || index >= count) {
      throw new IllegalArgumentException(
          KEY_RUNNER_INDEX + " = " + index + ": must be in [0, " + count + ") for "
              + KEY_RUNNER_COUNT + " = " + count);
    }
    if (cycleMs < 1) {
      throw new IllegalArgumentException(KEY_CYCLE + " = " + cycleMs + "ms: must be positive");
    }
    long smallestSlot = cycleMs / count;
    if (smallestSlot < 1) {
      throw new IllegalArgumentException(
          KEY_CYCLE + " = " + cycleMs + "ms: too short for " + count
              + " runners, each slot needs at least 1 ms");
    }
    if (guardMs < 0) {
      throw new IllegalArgumentException(KEY_GUARD + " = " + guardMs + "ms: must not be negative");
    }
    if (2 * guardMs >= smallestSlot) {
      throw new IllegalArgumentException(
          KEY_GUARD + " = " + guardMs + "ms: must be less than half the smallest slot ("
              + KEY_CYCLE + " = " + cycleMs + "ms / " + count + " runners = " + smallestSlot
              + "ms), or no window is left between the guards");
    }
    return new SlotMath(cycleMs, count, index, guardMs);
  }

  /** Offset of slot {@code k}'s start in the cycle; {@code k = count} gives the cycle length. */
  public static long slotStart(long cycleMs, int count, int k) {
    return Math.floorDiv(Math.multiplyExact(cycleMs, (long) k), count);
  }

  /**
   * When a runner without a slot may write (to register): in the middle of a gap between two
   * windows, where no member writes, so that joining costs no member a busy retry. With {@code
   * members} of 0 nobody writes (now); a lone member's window is the whole cycle, so there is no
   * gap (now, and the lone member may meet one busy retry).
   *
   * @return the epoch millisecond at or after {@code nowMs} to start the write at
   */
  public static long joinAt(long nowMs, long cycleMs, int members, long guardMs) {
    if (members <= 1) {
      return nowMs;
    }
    long cycleStart = Math.floorDiv(nowMs, cycleMs) * cycleMs;
    // A quarter guard before a slot boundary: the previous window closed a guard before it, the
    // next opens a guard after it.
    for (long c = cycleStart; ; c += cycleMs) {
      for (int k = 0; k < members; k++) {
        long at = c + slotStart(cycleMs, members, k) - guardMs / 4;
        if (at >= nowMs) {
          return at;
        }
      }
    }
  }

  public long cycleMs() {
    return cycleMs;
  }

  public int count() {
    return count;
  }

  public int index() {
    return index;
  }

  public long guardMs() {
    return guardMs;
  }

  /** Where this runner's window opens, as an offset in the cycle. */
  public long opensOffset() {
    return opensOffset;
  }

  /** Where this runner's window closes (exclusive), as an offset in the cycle. */
  public long closesOffset() {
    return closesOffset;
  }

  /** The narrowest slot, {@code floor(C/N)} ms. */
  public long smallestSlotMs() {
    return cycleMs / count;
  }

  /** True when the runner is never closed (a single runner: no guard applies). */
  public boolean alwaysOpen() {
    return count == 1;
  }

  /** The same cycle and guard with another membership; validates like {@link #ofMillis}. */
  public SlotMath withMembership(int newIndex, int newCount) {
    return ofMillis(cycleMs, newCount, newIndex, guardMs);
  }

  public long cycleOf(long epochMs) {
    return Math.floorDiv(epochMs, cycleMs);
  }

  public long cycleStart(long cycle) {
    return Math.multiplyExact(cycle, cycleMs);
  }

  /** This runner's window in the given cycle. */
  public SlotWindow windowIn(long cycle) {
    long start = cycleStart(cycle);
    return new SlotWindow(cycle, start + opensOffset, start + closesOffset);
  }

  /** The window containing the instant, or empty when the runner is closed at that instant. */
  public Optional<SlotWindow> windowAt(long epochMs) {
    SlotWindow window = windowIn(cycleOf(epochMs));
    return window.contains(epochMs) ? Optional.of(window) : Optional.empty();
  }

  public boolean isOpen(long epochMs) {
    return windowIn(cycleOf(epochMs)).contains(epochMs);
  }

  /**
   * The first instant after {@code epochMs} at which the open/closed state differs from the state
   * at {@code epochMs}; empty when the runner is {@link #alwaysOpen()}.
   */
  public OptionalLong nextBoundary(long epochMs) {
    if (alwaysOpen()) {
      return OptionalLong.empty();
    }
    long cycle = cycleOf(epochMs);
    SlotWindow window = windowIn(cycle);
    if (epochMs < window.opensAt()) {
      return OptionalLong.of(window.opensAt());
    }
    if (epochMs < window.closesAt()) {
      return OptionalLong.of(window.closesAt());
    }
    return OptionalLong.of(windowIn(cycle + 1).opensAt());
  }

  /** The first window that opens strictly after {@code epochMs}. */
  public SlotWindow nextWindow(long epochMs) {
    long cycle = cycleOf(epochMs);
    SlotWindow window = windowIn(cycle);
    return epochMs < window.opensAt() ? window : windowIn(cycle + 1);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SlotMath m
        && m.cycleMs == cycleMs
        && m.count == count
        && m.index == index
        && m.guardMs == guardMs;
  }

  @Override
  public int hashCode() {
    return Objects.hash(cycleMs, count, index, guardMs);
  }

  @Override
  public String toString() {
    return "SlotMath[cycle=" + cycleMs + "ms, runner " + index + " of " + count + ", guard="
        + guardMs + "ms, window=[" + opensOffset + ", " + closesOffset + ")]";
  }
}
