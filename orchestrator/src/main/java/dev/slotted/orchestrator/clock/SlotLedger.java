package dev.slotted.orchestrator.clock;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The SlotClock's bookkeeping of slot work and overruns. Several subscribers (one Reconciler per
 * partition) report work for the same slot, so work is summed per cycle; an overrun is counted once
 * per slot however many of them ran late.
 */
final class SlotLedger {

  static final long NONE = Long.MIN_VALUE;
  private static final int REMEMBERED_OVERRUNS = 16;

  private final SlotClock.Listener listener;
  private final Set<Long> overranCycles =
      Collections.newSetFromMap(
          new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Boolean> eldest) {
              return size() > REMEMBERED_OVERRUNS;
            }
          });
  private long bucket = NONE;
  private long bucketNanos;
  private long overruns;

  SlotLedger(SlotClock.Listener listener) {
    this.listener = listener;
  }

  /**
   * Adds one report.
   *
   * @param bucket the cycle the work is summed under; a newer bucket publishes the previous sum to
   *     the listener, and work for an older one is left out of the figures (it was published)
   * @param windowCycle the cycle of the window the work belonged to
   * @param overran whether the work ended after that window closed
   */
  void record(long bucket, Duration work, long windowCycle, boolean overran) {
    if (bucket > this.bucket) {
      if (this.bucket != NONE) {
        listener.slotWork(this.bucket, Duration.ofNanos(bucketNanos));
      }
      this.bucket = bucket;
      this.bucketNanos = 0;
    }
    if (bucket == this.bucket) {
      bucketNanos += work.toNanos();
    }
    if (overran && overranCycles.add(windowCycle)) {
      overruns++;
      listener.overrun(windowCycle);
    }
  }

  /** The latest cycle that reported work, or {@link #NONE}. */
  long lastWorkCycle() {
    return bucket;
  }

  /** The work summed for {@link #lastWorkCycle()} so far. */
  Duration lastSlotWork() {
    return Duration.ofNanos(bucketNanos);
  }

  long overruns() {
    return overruns;
  }
}
