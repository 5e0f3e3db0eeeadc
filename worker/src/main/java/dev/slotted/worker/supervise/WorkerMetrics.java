package dev.slotted.worker.supervise;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the WorkerSupervisor reports to the metrics layer. Job figures (claimed, completed, run
 * time) come from the Started and Finished events; this covers what only the supervisor sees.
 */
public interface WorkerMetrics {

  /** Prometheus name of the restart counter. */
  String RESTARTS = "slotted_worker_restarts_total";

  WorkerMetrics NONE = new WorkerMetrics() {};

  /** A worker child actor crashed and is being restarted with backoff. */
  default void workerRestarted(String worker) {}

  /** A WorkerMetrics that only counts restarts. */
  static Counting counting() {
    return new Counting();
  }

  /** Counts restarts in memory (tests, or a gauge-style exporter). */
  final class Counting implements WorkerMetrics {
    private final AtomicLong restarts = new AtomicLong();

    @Override
    public void workerRestarted(String worker) {
      restarts.incrementAndGet();
    }

    public long restarts() {
      return restarts.get();
    }
  }
}
