package dev.slotted.orchestrator.http;

import java.time.Duration;
import java.util.List;

/**
 * One row of the slot table ({@code GET /api/v1/runners}, DESIGN §7).
 *
 * @param index this runner's rank among the live runners (its slot in the cycle)
 * @param count the number of runners sharing the cycle
 * @param windowStart offset of this runner's write window from the start of the cycle
 * @param windowEnd offset of the end of the window from the start of the cycle
 * @param partitions the partitions this runner owns
 * @param lastSlotWorkMs how long the work of its last window took
 * @param overruns windows whose work ran past the window's end, since the runner started
 * @param buffered claimed jobs waiting for a worker (claim-ahead)
 * @param running attempts running on its workers
 * @param clockOffsetMs how far the database's clock is ahead of this runner's (PostgreSQL; null on
 *     SQLite), measured at its last heartbeat
 * @param clockUncertaintyMs half the round trip of that measurement (null with the offset)
 */
public record RunnerView(
    String id,
    int index,
    int count,
    boolean alive,
    Duration cycle,
    Duration windowStart,
    Duration windowEnd,
    List<Integer> partitions,
    long lastSlotWorkMs,
    long overruns,
    int buffered,
    int running,
    Long clockOffsetMs,
    Long clockUncertaintyMs) {

  /** A runner with no measured clock offset (SQLite). */
  public RunnerView(String id, int index, int count, boolean alive, Duration cycle, Duration windowStart,
      Duration windowEnd, List<Integer> partitions, long lastSlotWorkMs, long overruns, int buffered, int running) {
    this(id, index, count, alive, cycle, windowStart, windowEnd, partitions, lastSlotWorkMs, overruns, buffered,
        running, null, null);
  }

  public RunnerView {
    partitions = List.copyOf(partitions);
  }
}
