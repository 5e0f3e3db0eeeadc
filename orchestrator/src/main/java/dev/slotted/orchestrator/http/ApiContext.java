package dev.slotted.orchestrator.http;

import dev.slotted.orchestrator.runtime.Unroutable;
import dev.slotted.orchestrator.runtime.WorkerSet;
import dev.slotted.orchestrator.config.Settings;
import dev.slotted.orchestrator.metrics.Metrics;
import dev.slotted.orchestrator.schedule.Schedules;
import dev.slotted.orchestrator.store.JobStore;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Everything the HTTP API needs from the rest of the runner.
 *
 * @param onSubmitted called after jobs were written, with their partitions: wakes this runner's
 *     Reconcilers of those partitions so a new job does not wait for the next poll
 * @param runners the slot table for {@code GET /api/v1/runners}
 * @param metricsText the Prometheus text for {@code GET /metrics}
 * @param logDir {@code slotted.workers.log-dir}: attempt logs live at {@code <logDir>/<jobId>/<n>.log}
 * @param schedules the schedules for {@code /api/v1/schedules}; null: those routes answer 503
 * @param metrics counts the jobs that schedule triggers submit
 */
public record ApiContext(
    JobStore store,
    Settings settings,
    Clock clock,
    Consumer<Set<Integer>> onSubmitted,
    Supplier<CompletionStage<List<RunnerView>>> runners,
    Supplier<String> metricsText,
    Path logDir,
    Schedules schedules,
    Metrics metrics,
    Supplier<CompletionStage<WorkerSet.Nodes>> workers) {

  /** A runner without worker nodes: its own workers are all there is. */
  public ApiContext(JobStore store, Settings settings, Clock clock, Consumer<Set<Integer>> onSubmitted,
      Supplier<CompletionStage<List<RunnerView>>> runners, Supplier<String> metricsText, Path logDir,
      Schedules schedules, Metrics metrics) {
    this(store, settings, clock, onSubmitted, runners, metricsText, logDir, schedules, metrics,
        () -> java.util.concurrent.CompletableFuture.completedFuture(new WorkerSet.Nodes(List.of(),
            settings.workerCapacity() == 0 ? List.of()
                : List.of(new Unroutable.Capability(Set.copyOf(settings.workerTags()), settings.queues().keySet())))));
  }

  /** Without schedules. */
  public ApiContext(JobStore store, Settings settings, Clock clock, Consumer<Set<Integer>> onSubmitted,
      Supplier<CompletionStage<List<RunnerView>>> runners, Supplier<String> metricsText, Path logDir) {
    this(store, settings, clock, onSubmitted, runners, metricsText, logDir, null, Metrics.noop());
  }

  public ApiContext {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(onSubmitted, "onSubmitted");
    Objects.requireNonNull(runners, "runners");
    Objects.requireNonNull(metricsText, "metricsText");
    Objects.requireNonNull(logDir, "logDir");
    Objects.requireNonNull(metrics, "metrics");
    Objects.requireNonNull(workers, "workers");
  }
}
