package dev.slotted.orchestrator.clock;

import java.time.Instant;

/**
 * One runner's write window in one cycle, as epoch milliseconds: {@code [opensAt, closesAt)}.
 *
 * @param cycle the cycle number, {@code floor(t / cycle length)} for any instant t of the cycle
 */
public record SlotWindow(long cycle, long opensAt, long closesAt) {

  public SlotWindow {
    if (closesAt <= opensAt) {
      throw new IllegalArgumentException(
          "empty window in cycle " + cycle + ": [" + opensAt + ", " + closesAt + ")");
    }
  }

  public boolean contains(long epochMs) {
    return epochMs >= opensAt && epochMs < closesAt;
  }

  public long lengthMs() {
    return closesAt - opensAt;
  }

  public Instant opensAtInstant() {
    return Instant.ofEpochMilli(opensAt);
  }

  public Instant closesAtInstant() {
    return Instant.ofEpochMilli(closesAt);
  }
}
