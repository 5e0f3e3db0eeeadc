package dev.slotted.orchestrator.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Slotted's own families, without Kamon's agent (actor figures are in ActorMetricsAgentTest).
 * Kamon is process-wide, so each test uses its own queue names and compares against values it
 * caused, never absolute totals of shared families.
 */
class MetricsTest {

  private static final Config CONFIG = ConfigFactory
      .parseString("slotted.metrics.actor-metrics = off")
      .withFallback(ConfigFactory.load());

  /** Labels allowed on slotted_* series: few values each, never ids or messages. */
  private static final Set<String> ALLOWED_LABELS =
      Set.of("queue", "outcome", "state", "op", "schedule", "le");

  private Metrics metrics;

  @BeforeEach
  void start() {
    metrics = Metrics.init(CONFIG);
  }

  @AfterEach
  void stop() {
    metrics.close();
  }

  @Test
  void scrapeHasEveryContractFamilyWithItsLabelsRightAfterTheCalls() {
    String q = "reports-a";
    metrics.jobsSubmitted(q, 3);
    metrics.jobsClaimed(q, 2);
    metrics.jobCompleted(q, "succeeded");
    metrics.jobCompleted(q, "failed");
    metrics.jobDead(q);
    metrics.jobRunTime(q, Duration.ofMillis(1500));
    metrics.dispatchDelay(q, Duration.ofMillis(4));
    metrics.queueJobs(q, "ready", 7);
    metrics.bufferedJobs(41);
    metrics.slotWork(Duration.ofMillis(12));
    metrics.slotOverrun();
    metrics.storeTxn("claim-a", Duration.ofMillis(3));
    metrics.scheduleFired("nightly-a");

    // No periodic tick has run: a scrape reflects the calls at once.
    Exposition e = Exposition.parse(metrics.scrape());

    assertThat(e.types()).containsAllEntriesOf(Map.ofEntries(
        Map.entry("slotted_jobs_submitted_total", "counter"),
        Map.entry("slotted_jobs_claimed_total", "counter"),
        Map.entry("slotted_jobs_completed_total", "counter"),
        Map.entry("slotted_jobs_dead_total", "counter"),
        Map.entry("slotted_job_run_seconds", "histogram"),
        Map.entry("slotted_dispatch_delay_seconds", "histogram"),
        Map.entry("slotted_queue_jobs", "gauge"),
        Map.entry("slotted_buffered_jobs", "gauge"),
        Map.entry("slotted_slot_work_seconds", "histogram"),
        Map.entry("slotted_slot_overruns_total", "counter"),
        Map.entry("slotted_store_busy_retries_total", "counter"),
        Map.entry("slotted_store_txn_seconds", "histogram"),
        Map.entry("slotted_lease_rejections_total", "counter"),
        Map.entry("slotted_worker_restarts_total", "counter"),
        Map.entry("slotted_schedule_fires_total", "counter")));

    Map<String, String> queue = Map.of("queue", q);
    assertThat(e.value("slotted_buffered_jobs", Map.of())).isEqualTo(41);
    assertThat(e.value("slotted_jobs_submitted_total", queue)).isEqualTo(3);
    assertThat(e.value("slotted_jobs_claimed_total", queue)).isEqualTo(2);
    assertThat(e.value("slotted_jobs_completed_total", Map.of("queue", q, "outcome", "succeeded")))
        .isEqualTo(1);
    assertThat(e.value("slotted_jobs_completed_total", Map.of("queue", q, "outcome", "failed")))
        .isEqualTo(1);
    assertThat(e.value("slotted_jobs_dead_total", queue)).isEqualTo(1);
    assertThat(e.value("slotted_queue_jobs", Map.of("queue", q, "state", "ready"))).isEqualTo(7);
    assertThat(e.value("slotted_schedule_fires_total", Map.of("schedule", "nightly-a")))
        .isEqualTo(1);

    // Histograms in seconds, whatever unit they were recorded in.
    assertThat(e.value("slotted_job_run_seconds_count", queue)).isEqualTo(1);
    assertThat(e.value("slotted_job_run_seconds_sum", queue)).isBetween(1.45, 1.55);
    assertThat(e.value("slotted_job_run_seconds_bucket", Map.of("queue", q, "le", "1.0")))
        .isZero();
    assertThat(e.value("slotted_job_run_seconds_bucket", Map.of("queue", q, "le", "5.0")))
        .isEqualTo(1);
    assertThat(e.value("slotted_job_run_seconds_bucket", Map.of("queue", q, "le", "+Inf")))
        .isEqualTo(1);
    assertThat(e.value("slotted_dispatch_delay_seconds_sum", queue)).isBetween(0.0039, 0.0041);
    assertThat(e.value("slotted_store_txn_seconds_count", Map.of("op", "claim-a"))).isEqualTo(1);
    assertThat(e.value("slotted_store_txn_seconds_sum", Map.of("op", "claim-a")))
        .isBetween(0.0029, 0.0031);
    assertThat(e.named("slotted_slot_work_seconds_count")).singleElement()
        .satisfies(s -> assertThat(s.labels()).isEmpty());
    assertThat(e.value("slotted_slot_overruns_total", Map.of())).isPositive();

    // Label keys only from the fixed set, on every slotted_* series.
    assertThat(e.samples()).filteredOn(s -> s.name().startsWith("slotted_")).allSatisfy(
        s -> assertThat(ALLOWED_LABELS).containsAll(s.labels().keySet()));
  }

  @Test
  void countersAccumulateAcrossScrapesAndGaugesKeepTheLastValue() {
    String q = "reports-b";
    metrics.jobsSubmitted(q, 2);
    metrics.queueJobs(q, "running", 5);
    metrics.scrape();
    metrics.jobsSubmitted(q, 3);
    metrics.jobsSubmitted(q, 0);
    metrics.queueJobs(q, "running", 1);

    Exposition e = Exposition.parse(metrics.scrape());
    assertThat(e.value("slotted_jobs_submitted_total", Map.of("queue", q))).isEqualTo(5);
    assertThat(e.value("slotted_queue_jobs", Map.of("queue", q, "state", "running"))).isEqualTo(1);
  }

  @Test
  void sourcedCountersAreReadAtScrapeAndNeverGoBackwards() {
    AtomicLong busy = new AtomicLong();
    double before = Exposition.parse(metrics.scrape())
        .value("slotted_store_busy_retries_total", Map.of());

    metrics.registerCounterSource(Metrics.STORE_BUSY_RETRIES, busy::get);
    busy.set(4);
    assertThat(busyRetries()).isEqualTo(before + 4);

    // A restarted store starts its own count from 0: the exported counter stays put, then grows.
    metrics.close();
    metrics = Metrics.init(CONFIG);
    AtomicLong restarted = new AtomicLong();
    metrics.registerCounterSource("slotted_store_busy_retries", restarted::get);
    assertThat(busyRetries()).isEqualTo(before + 4);
    restarted.set(2);
    assertThat(busyRetries()).isEqualTo(before + 6);
  }

  @Test
  void familiesOwnedElsewhereArePresentBeforeAnySourceRegisters() {
    Exposition e = Exposition.parse(metrics.scrape());
    for (String name : new String[] {Metrics.STORE_BUSY_RETRIES, Metrics.LEASE_REJECTIONS,
        Metrics.WORKER_RESTARTS, Metrics.SLOT_OVERRUNS}) {
      assertThat(e.types()).containsEntry(name, "counter");
      assertThat(e.named(name)).singleElement()
          .satisfies(s -> assertThat(s.labels()).isEmpty())
          .satisfies(s -> assertThat(s.value()).isGreaterThanOrEqualTo(0));
    }
    assertThat(e.types()).containsEntry(Metrics.SLOT_WORK, "histogram");
  }

  @Test
  void declaredQueuesHaveTheirSeriesAtZeroBeforeAnyJob() {
    metrics.declareQueues(List.of("declared-d"));
    Exposition e = Exposition.parse(metrics.scrape());
    Map<String, String> queue = Map.of("queue", "declared-d");
    assertThat(e.value("slotted_jobs_submitted_total", queue)).isZero();
    assertThat(e.value("slotted_jobs_claimed_total", queue)).isZero();
    assertThat(e.value("slotted_jobs_dead_total", queue)).isZero();
    for (String outcome : Metrics.OUTCOMES) {
      assertThat(e.value("slotted_jobs_completed_total",
          Map.of("queue", "declared-d", "outcome", outcome))).isZero();
    }
  }

  @Test
  void hostileLabelValuesCannotBreakTheExposition() {
    metrics.scheduleFired("evil\"} 1\nslotted_fake_total 99");
    metrics.jobCompleted(null, "");
    metrics.jobsSubmitted("x".repeat(500), 1);

    String text = metrics.scrape();
    Exposition e = Exposition.parse(text); // throws on any malformed line
    assertThat(e.named("slotted_fake_total")).isEmpty();
    assertThat(e.value("slotted_schedule_fires_total",
        Map.of("schedule", "evil___1_slotted_fake_total_99"))).isEqualTo(1);
    assertThat(e.value("slotted_jobs_completed_total", Map.of("queue", "none", "outcome", "none")))
        .isEqualTo(1);
    assertThat(e.value("slotted_jobs_submitted_total", Map.of("queue", "x".repeat(100))))
        .isEqualTo(1);
  }

  @Test
  void outOfRangeDurationsAreClampedNotDropped() {
    String q = "reports-c";
    metrics.jobRunTime(q, Duration.ofDays(400));
    metrics.dispatchDelay(q, Duration.ofSeconds(-3));
    metrics.storeTxn("clamp-c", Duration.ofDays(2));

    Exposition e = Exposition.parse(metrics.scrape());
    assertThat(e.value("slotted_job_run_seconds_count", Map.of("queue", q))).isEqualTo(1);
    assertThat(e.value("slotted_job_run_seconds_sum", Map.of("queue", q)))
        .isBetween(29.0 * 86400, 31.0 * 86400);
    assertThat(e.value("slotted_dispatch_delay_seconds_sum", Map.of("queue", q))).isZero();
    assertThat(e.value("slotted_store_txn_seconds_count", Map.of("op", "clamp-c"))).isEqualTo(1);
  }

  @Test
  void badCounterSourceNamesAreRejected() {
    assertThatThrownBy(() -> metrics.registerCounterSource("busy retries", () -> 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("busy retries");
  }

  @Test
  void noopRecordsNothingAndNeedsNoKamon() {
    Metrics noop = Metrics.noop();
    noop.jobsSubmitted("q", 1);
    noop.registerCounterSource(Metrics.WORKER_RESTARTS, () -> 1);
    assertThat(noop.scrape()).isEmpty();
    noop.close();
  }

  private double busyRetries() {
    return Exposition.parse(metrics.scrape()).value("slotted_store_busy_retries_total", Map.of());
  }
}
