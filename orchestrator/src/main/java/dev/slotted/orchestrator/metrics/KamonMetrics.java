package dev.slotted.orchestrator.metrics;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import kamon.Kamon;
import kamon.metric.DynamicRange;
import kamon.metric.MeasurementUnit;
import kamon.metric.Metric;
import kamon.tag.TagSet;

/**
 * Records into Kamon's registry. Instrument names are the Prometheus names themselves: Kamon's
 * Prometheus formatter appends {@code _total} and {@code _seconds} only when they are missing.
 */
final class KamonMetrics implements Metrics {

  private static final long MAX_RUN_MILLIS = TimeUnit.DAYS.toMillis(30);
  private static final long MAX_DELAY_MICROS = TimeUnit.DAYS.toMicros(30);
  private static final long MAX_TIMER_NANOS = TimeUnit.HOURS.toNanos(1);
  private static final int MAX_LABEL_LENGTH = 100;

  private static final Metric.Counter SUBMITTED =
      Kamon.counter(JOBS_SUBMITTED, "Jobs accepted by submit");
  private static final Metric.Counter CLAIMED =
      Kamon.counter(JOBS_CLAIMED, "Jobs claimed by a Reconciler");
  private static final Metric.Counter COMPLETED =
      Kamon.counter(JOBS_COMPLETED, "Attempts finished, by outcome");
  private static final Metric.Counter DEAD =
      Kamon.counter(JOBS_DEAD, "Jobs moved to the dead-letter queue");
  // Attempts may run for hours and jobs may wait for days: millisecond and microsecond resolution
  // keeps those in range (nanosecond timers stop at one hour).
  private static final Metric.Histogram RUN = Kamon.histogram(JOB_RUN,
      "Run time of one attempt", MeasurementUnit.time().milliseconds(),
      DynamicRange.Default().upTo(MAX_RUN_MILLIS));
  private static final Metric.Histogram DELAY = Kamon.histogram(DISPATCH_DELAY,
      "From the instant a job was due to the start of its attempt",
      MeasurementUnit.time().microseconds(), DynamicRange.Default().upTo(MAX_DELAY_MICROS));
  private static final Metric.Gauge QUEUE =
      Kamon.gauge(QUEUE_JOBS, "Jobs of a queue in a state");
  private static final Metric.Gauge BUFFERED =
      Kamon.gauge(BUFFERED_JOBS, "Claimed jobs this runner holds, waiting for a worker");
  private static final Metric.Gauge UNROUTABLE =
      Kamon.gauge(UNROUTABLE_JOBS, "Ready jobs that no live worker can take (tags or queue)");
  private static final Metric.Timer SLOT =
      Kamon.timer(SLOT_WORK, "Work time of one slot window");
  private static final Metric.Counter OVERRUNS =
      Kamon.counter(SLOT_OVERRUNS, "Slot windows whose work ran past the window");
  private static final Metric.Timer TXN =
      Kamon.timer(STORE_TXN, "Duration of one store transaction, by operation");
  private static final Metric.Counter FIRES =
      Kamon.counter(SCHEDULE_FIRES, "Jobs produced by schedules");

  private final KamonRuntime runtime;
  private final AtomicBoolean closed = new AtomicBoolean();

  private KamonMetrics(KamonRuntime runtime) {
    this.runtime = runtime;
  }

  static KamonMetrics start(Config config) {
    KamonRuntime runtime = KamonRuntime.start(config);
    // Families that must read 0 from the start rather than appear on the first event.
    OVERRUNS.withoutTags();
    SLOT.withoutTags();
    runtime.declareSourcedCounter(STORE_BUSY_RETRIES, "SQLITE_BUSY retries of the job store");
    runtime.declareSourcedCounter(LEASE_REJECTIONS,
        "Completions or renewals refused because the lease was taken over");
    runtime.declareSourcedCounter(WORKER_RESTARTS, "Worker actor restarts (not job retries)");
    return new KamonMetrics(runtime);
  }

  /** Whether Kamon's agent attached, so actors export figures. */
  boolean actorMetrics() {
    return runtime.actorMetrics();
  }

  long startupMillis() {
    return runtime.startupMillis();
  }

  @Override
  public void declareQueues(Collection<String> queues) {
    for (String queue : queues) {
      String q = label(queue);
      SUBMITTED.withTag(TAG_QUEUE, q);
      CLAIMED.withTag(TAG_QUEUE, q);
      DEAD.withTag(TAG_QUEUE, q);
      for (String outcome : OUTCOMES) {
        COMPLETED.withTags(tags(TAG_QUEUE, q, TAG_OUTCOME, outcome));
      }
    }
  }

  @Override
  public void jobsSubmitted(String queue, int n) {
    if (n > 0) {
      SUBMITTED.withTag(TAG_QUEUE, label(queue)).increment(n);
    }
  }

  @Override
  public void jobsClaimed(String queue, int n) {
    if (n > 0) {
      CLAIMED.withTag(TAG_QUEUE, label(queue)).increment(n);
    }
  }

  @Override
  public void jobCompleted(String queue, String outcome) {
    COMPLETED.withTags(tags(TAG_QUEUE, queue, TAG_OUTCOME, outcome)).increment();
  }

  @Override
  public void jobDead(String queue) {
    DEAD.withTag(TAG_QUEUE, label(queue)).increment();
  }

  @Override
  public void jobRunTime(String queue, Duration d) {
    RUN.withTag(TAG_QUEUE, label(queue)).record(clamp(millis(d), MAX_RUN_MILLIS));
  }

  @Override
  public void dispatchDelay(String queue, Duration d) {
    DELAY.withTag(TAG_QUEUE, label(queue)).record(clamp(micros(d), MAX_DELAY_MICROS));
  }

  @Override
  public void unroutableJobs(String queue, long count) {
    UNROUTABLE.withTag(TAG_QUEUE, queue).update(count);
  }

  @Override
  public void queueJobs(String queue, String state, long count) {
    QUEUE.withTags(tags(TAG_QUEUE, queue, TAG_STATE, state)).update(count);
  }

  @Override
  public void bufferedJobs(long count) {
    BUFFERED.withoutTags().update(count);
  }

  @Override
  public void slotWork(Duration d) {
    SLOT.withoutTags().record(clamp(nanos(d), MAX_TIMER_NANOS));
  }

  @Override
  public void slotOverrun() {
    OVERRUNS.withoutTags().increment();
  }

  @Override
  public void storeTxn(String op, Duration d) {
    TXN.withTag(TAG_OP, label(op)).record(clamp(nanos(d), MAX_TIMER_NANOS));
  }

  @Override
  public void scheduleFired(String schedule) {
    FIRES.withTag(TAG_SCHEDULE, label(schedule)).increment();
  }

  @Override
  public void registerCounterSource(String name, LongSupplier supplier) {
    runtime.registerCounterSource(this, name, supplier);
  }

  @Override
  public String scrape() {
    return runtime.scrape();
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      runtime.removeCounterSources(this);
      KamonRuntime.release(runtime);
    }
  }

  private static TagSet tags(String k1, String v1, String k2, String v2) {
    return TagSet.builder().add(k1, label(v1)).add(k2, label(v2)).build();
  }

  /**
   * Label values come from validated names (queues, schedules) and fixed sets (states, outcomes,
   * operations). Kamon's formatter escapes only backslashes, so anything that could break the
   * exposition's quoting is replaced, and length is capped.
   */
  static String label(String value) {
    if (value == null || value.isEmpty()) {
      return "none";
    }
    int n = Math.min(value.length(), MAX_LABEL_LENGTH);
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      char c = value.charAt(i);
      boolean safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '.' || c == '_' || c == '-' || c == ':' || c == '/' || c == '@' || c == '+';
      b.append(safe ? c : '_');
    }
    return b.toString();
  }

  private static long clamp(long value, long max) {
    return Math.max(0, Math.min(value, max));
  }

  private static long millis(Duration d) {
    return saturated(d, TimeUnit.MILLISECONDS);
  }

  private static long micros(Duration d) {
    return saturated(d, TimeUnit.MICROSECONDS);
  }

  private static long nanos(Duration d) {
    return saturated(d, TimeUnit.NANOSECONDS);
  }

  private static long saturated(Duration d, TimeUnit unit) {
    return d == null ? 0 : unit.convert(d); // TimeUnit.convert(Duration) saturates on overflow
  }
}
