package dev.slotted.orchestrator.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.slotted.orchestrator.store.JobQuery;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.Page;
import dev.slotted.orchestrator.store.QueueCounts;
import dev.slotted.orchestrator.store.RunnerRow;
import dev.slotted.orchestrator.store.sqlite.SqliteJobStore;
import dev.slotted.orchestrator.store.sqlite.SqliteStoreSettings;
import dev.slotted.protocol.Attempt;
import dev.slotted.protocol.AttemptOutcome;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real runner processes on one SQLite file: G1 (nothing lost, SIGKILL included), G2 (one lease at a
 * time: no overlapping attempts, exactly one success per job), G5 (no SQLITE_BUSY in steady state
 * under TDMA) and G8 (SIGTERM releases leases so another runner starts the job at once).
 */
class MultiRunnerIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SLEEP_QUEUE = "slotted.queues { work { handler = sleep, max-attempts = 5 } }";

  @TempDir Path dir;

  @Test
  void threeRunnersRunEveryJobExactlyOnceWithoutBusyRetries() throws Exception {
    try (RunnerProcesses runners = new RunnerProcesses(dir, SLEEP_QUEUE);
         SqliteJobStore store = openStore(runners.db())) {
      for (int i = 0; i < 3; i++) {
        runners.start(i);
      }
      for (int i = 0; i < 3; i++) {
        runners.awaitUp(i, Duration.ofSeconds(90));
      }
      awaitMembership(store, 3, Duration.ofSeconds(60));
      Thread.sleep(3000); // every runner has switched to N = 3 (at a cycle boundary)
      long busyBefore = busyRetries(store);

      int jobs = 3000;
      for (int b = 0; b < jobs / 500; b++) {
        StringBuilder body = new StringBuilder("{\"jobs\":[");
        for (int i = 0; i < 500; i++) {
          body.append(i == 0 ? "" : ",").append("{\"queue\":\"work\",\"payload\":{\"ms\":2}}");
        }
        body.append("]}");
        assertThat(runners.post(b % 3, "/api/v1/jobs/batch", body.toString()).statusCode()).isEqualTo(201);
      }
      awaitFinished(store, jobs, Duration.ofSeconds(120));
      Thread.sleep(2500); // let each runner publish its counters once more
      List<Job> all = allJobs(store);
      assertThat(all).hasSize(jobs);
      for (Job j : all) {
        assertThat(j.state()).as("job %s", j.id()).isEqualTo(JobState.SUCCEEDED);
        assertThat(j.attempts()).as("attempts of job %s", j.id()).hasSize(1);
        assertThat(j.attempts().get(0).outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
      }
      // Work was spread over the runners, and none of them hit SQLITE_BUSY in steady state (G5).
      assertThat(all.stream().map(j -> j.attempts().get(0).runner()).distinct().count()).isEqualTo(3);
      assertThat(busyRetries(store) - busyBefore).as("SQLITE_BUSY retries during the run").isZero();
    }
  }

  @Test
  void aRunnerKilledMidJobLosesNothing() throws Exception {
    try (RunnerProcesses runners = new RunnerProcesses(dir, SLEEP_QUEUE);
         SqliteJobStore store = openStore(runners.db())) {
      startTwo(runners, store);

      int jobs = 400;
      StringBuilder body = new StringBuilder("{\"jobs\":[");
      for (int i = 0; i < jobs; i++) {
        body.append(i == 0 ? "" : ",").append("{\"queue\":\"work\",\"payload\":{\"ms\":300}}");
      }
      body.append("]}");
      assertThat(runners.post(0, "/api/v1/jobs/batch", body.toString()).statusCode()).isEqualTo(201);
      awaitRunningOn(store, "it-1", Duration.ofSeconds(30));
      runners.kill(1); // SIGKILL in the middle of its jobs

      awaitFinished(store, jobs, Duration.ofSeconds(120));
      List<Job> all = allJobs(store);
      assertThat(all).hasSize(jobs);
      long expired = 0;
      for (Job j : all) {
        assertThat(j.state()).as("job %s", j.id()).isEqualTo(JobState.SUCCEEDED);
        List<Attempt> attempts = j.attempts();
        assertThat(attempts.stream().filter(a -> a.outcome() == AttemptOutcome.SUCCEEDED)).hasSize(1);
        for (int i = 1; i < attempts.size(); i++) {
          // One lease at a time: an attempt starts only after the previous one ended.
          assertThat(attempts.get(i).startedAt()).isAfterOrEqualTo(attempts.get(i - 1).endedAt());
        }
        expired += attempts.stream().filter(a -> a.outcome() == AttemptOutcome.LEASE_EXPIRED).count();
        attempts.stream().filter(a -> a.outcome() == AttemptOutcome.LEASE_EXPIRED)
            .forEach(a -> assertThat(a.runner()).startsWith("it-1"));
      }
      assertThat(expired).as("attempts of the killed runner ended as lease_expired").isPositive();
    }
  }

  @Test
  void sigtermReleasesRunningJobsToTheOtherRunnerAtOnce() throws Exception {
    String conf = SLEEP_QUEUE + "\nslotted.shutdown.grace = 1s\nslotted.queue-defaults.visibility-timeout = 60s";
    try (RunnerProcesses runners = new RunnerProcesses(dir, conf);
         SqliteJobStore store = openStore(runners.db())) {
      startTwo(runners, store);
      StringBuilder body = new StringBuilder("{\"jobs\":[");
      for (int i = 0; i < 40; i++) {
        // Partition keys spread the jobs over both runners' partitions.
        body.append(i == 0 ? "" : ",").append("{\"queue\":\"work\",\"partitionKey\":\"k" + i + "\",\"payload\":{\"ms\":4000}}");
      }
      body.append("]}");
      assertThat(runners.post(0, "/api/v1/jobs/batch", body.toString()).statusCode()).isEqualTo(201);
      awaitRunningOn(store, "it-1", Duration.ofSeconds(30));
      Instant terminated = Instant.now();
      // 143 = 128 + SIGTERM: the JVM reports the signal even after a clean shutdown.
      assertThat(runners.terminate(1, Duration.ofSeconds(30))).as("exit code").isIn(0, 143);

      awaitFinished(store, 40, Duration.ofSeconds(60));
      List<Job> all = allJobs(store);
      List<Job> released = all.stream()
          .filter(j -> j.attempts().stream().anyMatch(a -> a.outcome() == AttemptOutcome.CANCELLED))
          .collect(Collectors.toList());
      assertThat(released).as("jobs interrupted by the shutdown").isNotEmpty();
      for (Job j : all) {
        assertThat(j.state()).isEqualTo(JobState.SUCCEEDED);
      }
      for (Job j : released) {
        Attempt last = j.attempts().get(j.attempts().size() - 1);
        assertThat(last.runner()).startsWith("it-0");
        // Started long before the 60 s visibility timeout: the lease was released, not expired.
        assertThat(Duration.between(terminated, last.startedAt())).isLessThan(Duration.ofSeconds(20));
      }
      assertThat(runners.log(1)).contains("stopped cleanly");
    }
  }

  @Test
  void aRunnerKilledWithAFullBufferLosesNothingAndEachBufferedJobRunsOnceElsewhere() throws Exception {
    String conf = SLEEP_QUEUE + "\nslotted.workers.capacity = 4";
    try (RunnerProcesses runners = new RunnerProcesses(dir, conf);
         SqliteJobStore store = openStore(runners.db())) {
      startTwo(runners, store);

      int jobs = 600;
      assertThat(runners.post(0, "/api/v1/jobs/batch", keyedBatch("work", jobs, "{\"ms\":100}")).statusCode())
          .isEqualTo(201);
      // Runner 1 claims ahead: 4 workers of 100 ms jobs need ~50 jobs until its next window.
      int buffered = awaitBuffered(store, "it-1", 20, Duration.ofSeconds(30));
      runners.kill(1); // SIGKILL with a full buffer

      awaitFinished(store, jobs, Duration.ofSeconds(180));
      List<Job> all = allJobs(store);
      assertThat(all).hasSize(jobs);
      long expired = 0;
      for (Job j : all) {
        assertThat(j.state()).as("job %s", j.id()).isEqualTo(JobState.SUCCEEDED);
        List<Attempt> attempts = j.attempts();
        assertThat(attempts.stream().filter(a -> a.outcome() == AttemptOutcome.SUCCEEDED))
            .as("successful attempts of job %s", j.id()).hasSize(1);
        for (int i = 1; i < attempts.size(); i++) {
          assertThat(attempts.get(i).startedAt()).isAfterOrEqualTo(attempts.get(i - 1).endedAt());
        }
        expired += attempts.stream().filter(a -> a.outcome() == AttemptOutcome.LEASE_EXPIRED).count();
      }
      // More than its 4 workers could have been running: buffered jobs went back too.
      assertThat(expired).as("jobs of the killed runner (it had %d buffered), run again after their lease", buffered)
          .isGreaterThan(4);
    }
  }

  @Test
  void aLimitedQueueNeverRunsMoreThanItsConcurrencyOnARunner() throws Exception {
    String conf = "slotted.queues { limited { handler = sleep, concurrency = 2 } }";
    try (RunnerProcesses runners = new RunnerProcesses(dir, conf);
         SqliteJobStore store = openStore(runners.db())) {
      startTwo(runners, store);
      int jobs = 500;
      assertThat(runners.post(0, "/api/v1/jobs/batch", keyedBatch("limited", jobs, "{\"ms\":20}")).statusCode())
          .isEqualTo(201);
      awaitFinished(store, jobs, Duration.ofSeconds(180));
      List<Job> all = allJobs(store);
      Map<String, List<Attempt>> byRunner = all.stream().flatMap(j -> j.attempts().stream())
          .collect(Collectors.groupingBy(Attempt::runner));
      assertThat(byRunner).hasSize(2);
      byRunner.forEach((runner, attempts) ->
          assertThat(maxOverlap(attempts)).as("attempts running at once on %s", runner).isBetween(1, 2));
    }
  }

  /** The most attempts whose [startedAt, endedAt) intervals overlap at one instant. */
  static int maxOverlap(List<Attempt> attempts) {
    List<long[]> events = new ArrayList<>();
    for (Attempt a : attempts) {
      events.add(new long[] {a.startedAt().toEpochMilli(), 1});
      events.add(new long[] {a.endedAt().toEpochMilli(), -1});
    }
    // At the same millisecond an end comes before a start: the next attempt began as one ended.
    events.sort((x, y) -> x[0] != y[0] ? Long.compare(x[0], y[0]) : Long.compare(x[1], y[1]));
    int now = 0;
    int max = 0;
    for (long[] e : events) {
      now += (int) e[1];
      max = Math.max(max, now);
    }
    return max;
  }

  /** Waits until the runner publishes at least {@code min} buffered jobs; returns how many. */
  private static int awaitBuffered(SqliteJobStore store, String runnerPrefix, int min, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    int seen = 0;
    while (System.nanoTime() < deadline) {
      for (RunnerRow r : store.runners(Instant.now()).toCompletableFuture().get()) {
        if (r.id().startsWith(runnerPrefix) && r.statusJson() != null) {
          seen = JSON.readTree(r.statusJson()).path("buffered").asInt();
          if (seen >= min) {
            return seen;
          }
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError(runnerPrefix + " never buffered " + min + " jobs (last seen " + seen + ")");
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** Starts runners 0 and 1 and waits until both have switched to a membership of two. */
  private static void startTwo(RunnerProcesses runners, SqliteJobStore store) throws Exception {
    runners.start(0);
    runners.start(1);
    runners.awaitUp(0, Duration.ofSeconds(90));
    runners.awaitUp(1, Duration.ofSeconds(90));
    awaitMembership(store, 2, Duration.ofSeconds(30));
    Thread.sleep(2000);
  }

  /** A batch body of {@code n} jobs with partition keys k0..k(n-1), spread over every partition. */
  private static String keyedBatch(String queue, int n, String payload) {
    StringBuilder body = new StringBuilder("{\"jobs\":[");
    for (int i = 0; i < n; i++) {
      body.append(i == 0 ? "" : ",").append("{\"queue\":\"").append(queue).append("\",\"partitionKey\":\"k")
          .append(i).append("\",\"payload\":").append(payload).append('}');
    }
    return body.append("]}").toString();
  }

  static SqliteJobStore openStore(Path db) {
    return SqliteJobStore.open(SqliteStoreSettings.defaults(db));
  }

  private static long busyRetries(SqliteJobStore store) throws Exception {
    long sum = 0;
    for (RunnerRow r : store.runners(Instant.now()).toCompletableFuture().get()) {
      if (r.statusJson() != null) {
        JsonNode s = JSON.readTree(r.statusJson());
        sum += s.path("busyRetries").asLong();
      }
    }
    return sum;
  }

  static void awaitMembership(JobStore store, int n, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      List<RunnerRow> rows = store.runners(Instant.now()).toCompletableFuture().get();
      long ready = rows.stream().filter(RunnerRow::alive)
          .filter(r -> r.statusJson() != null && r.statusJson().contains("\"count\":" + n)).count();
      if (ready == n) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("the runners did not agree on " + n + " members within " + timeout);
  }

  static void awaitRunningOn(JobStore store, String runnerPrefix, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Page<Job> running = store.list(new JobQuery("work", JobState.RUNNING, 500, null)).toCompletableFuture().get();
      if (running.items().stream().anyMatch(j -> !j.attempts().isEmpty()
          && j.attempts().get(j.attempts().size() - 1).runner().startsWith(runnerPrefix))) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no job ran on " + runnerPrefix + " within " + timeout);
  }

  static void awaitFinished(JobStore store, int jobs, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    long finished = 0;
    while (System.nanoTime() < deadline) {
      finished = 0;
      for (QueueCounts q : store.queueCounts(Instant.now()).toCompletableFuture().get()) {
        finished += q.succeeded() + q.dead() + q.cancelled();
      }
      if (finished >= jobs) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("only " + finished + " of " + jobs + " jobs finished within " + timeout);
  }

  static List<Job> allJobs(JobStore store) throws Exception {
    List<Job> all = new ArrayList<>();
    String cursor = null;
    do {
      Page<Job> page = store.list(new JobQuery(null, null, 500, cursor)).toCompletableFuture().get();
      all.addAll(page.items());
      cursor = page.nextCursor();
    } while (cursor != null);
    return all;
  }
}
