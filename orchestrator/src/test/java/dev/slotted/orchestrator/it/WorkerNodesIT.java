package dev.slotted.orchestrator.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.slotted.orchestrator.store.sqlite.SqliteJobStore;
import dev.slotted.protocol.Attempt;
import dev.slotted.protocol.AttemptOutcome;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Worker-only nodes ({@code slotted worker}) in real JVMs on loopback, joined over Pekko Cluster to
 * orchestrators on one SQLite file: jobs go only where their tags are, a job no live node can take
 * is counted as unroutable and runs once a capable node joins, a SIGKILLed node's jobs run again
 * elsewhere after their leases (once, never overlapping), a paused node's late attempts never
 * count (each job succeeds once, no overlap), a node joins and leaves while jobs flow, and completions of remote attempts
 * reach a surviving orchestrator when the one that claimed them dies.
 */
class WorkerNodesIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration UP = Duration.ofSeconds(120);

  @TempDir Path dir;

  /** Orchestrators with cluster mode and no workers of their own; runner i listens on its own Artery port. */
  private static String orchestratorConf(int visibilitySeconds) {
    return String.join("\n",
        "slotted.queues { work { handler = sleep, max-attempts = 5 } }",
        "slotted.cluster.enabled = true",
        "slotted.workers.capacity = 0",
        "slotted.metrics.actor-metrics = off",
        "slotted.queue-defaults.visibility-timeout = " + visibilitySeconds + "s",
        "pekko.cluster.split-brain-resolver.stable-after = 3s",
        "pekko.cluster.failure-detector.acceptable-heartbeat-pause = 2s");
  }

  @Test
  void jobsRunOnlyWhereTheirTagsAreAndAnUnroutableJobWaitsForACapableNode() throws Exception {
    int seed = RunnerProcesses.freePort();
    try (RunnerProcesses nodes = new RunnerProcesses(dir, orchestratorConf(10))
             .perRunner(i -> "pekko.remote.artery.canonical.port = " + seed);
         SqliteJobStore store = MultiRunnerIT.openStore(dir.resolve("slotted.db"))) {
      nodes.start(0);
      nodes.awaitUp(0, UP);
      nodes.startWorker(1, "plain-node", seed, "slotted.workers.capacity = 4");
      nodes.startWorker(2, "gpu-node", seed, "slotted.workers { capacity = 4, tags = [gpu] }");
      awaitWorkers(nodes, 2);

      submit(nodes, 1, "{\"ms\":10}", "[\"tpu\"]");
      assertThat(awaitUnroutable(nodes, n -> n == 1)).as("the tpu job, counted as unroutable").isEqualTo(1);
      submit(nodes, 8, "{\"ms\":300}", "[\"gpu\"]");
      submit(nodes, 24, "{\"ms\":300}", "[]");
      MultiRunnerIT.awaitFinished(store, 32, Duration.ofSeconds(60));

      List<Job> all = MultiRunnerIT.allJobs(store);
      Map<Boolean, List<Job>> byGpu = all.stream().filter(j -> !j.tags().contains("tpu"))
          .collect(Collectors.partitioningBy(j -> j.tags().contains("gpu")));
      for (Job j : all) {
        if (j.tags().contains("tpu")) {
          assertThat(j.state()).as("no node offers tpu yet").isEqualTo(JobState.READY);
          continue;
        }
        assertThat(j.state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(j.attempts()).hasSize(1);
        assertThat(j.attempts().get(0).runner()).startsWith("it-0");
      }
      assertThat(byGpu.get(true)).hasSize(8)
          .allSatisfy(j -> assertThat(j.attempts().get(0).worker()).startsWith("gpu-node/w-"));
      Set<String> untaggedNodes = byGpu.get(false).stream()
          .map(j -> j.attempts().get(0).worker().split("/")[0]).collect(Collectors.toSet());
      assertThat(untaggedNodes).as("untagged jobs spread over both nodes").containsExactlyInAnyOrder(
          "plain-node", "gpu-node");
      assertThat(awaitUnroutable(nodes, n -> n == 1)).isEqualTo(1);

      nodes.startWorker(3, "tpu-node", seed, "slotted.workers { capacity = 1, tags = [tpu] }");
      MultiRunnerIT.awaitFinished(store, 33, Duration.ofSeconds(60));
      Job tpu = MultiRunnerIT.allJobs(store).stream().filter(j -> j.tags().contains("tpu")).findFirst().orElseThrow();
      assertThat(tpu.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(tpu.attempts().get(0).worker()).startsWith("tpu-node/w-");
      assertThat(awaitUnroutable(nodes, n -> n == 0)).isZero();
      JsonNode workers = JSON.readTree(nodes.get(0, "/api/v1/workers").body()).path("items");
      assertThat(workers).hasSize(3);
      assertThat(workers.findValuesAsText("node")).containsExactlyInAnyOrder("plain-node", "gpu-node", "tpu-node");
    }
  }

  @Test
  void aKilledWorkerNodesJobsRunAgainElsewhereOnceWithoutOverlap() throws Exception {
    int seed = RunnerProcesses.freePort();
    try (RunnerProcesses nodes = new RunnerProcesses(dir, orchestratorConf(3))
             .perRunner(i -> "pekko.remote.artery.canonical.port = " + seed);
         SqliteJobStore store = MultiRunnerIT.openStore(dir.resolve("slotted.db"))) {
      nodes.start(0);
      nodes.awaitUp(0, UP);
      nodes.startWorker(1, "doomed", seed, "slotted.workers.capacity = 20");
      nodes.startWorker(2, "survivor", seed, "slotted.workers.capacity = 20");
      awaitWorkers(nodes, 2);

      submit(nodes, 40, "{\"ms\":2500}", "[]");
      // Both nodes have room for 20: the claim is shared between them.
      awaitRunning(store, 30, Duration.ofSeconds(30));
      nodes.kill(1); // SIGKILL with its attempts running

      MultiRunnerIT.awaitFinished(store, 40, Duration.ofSeconds(90));
      long again = 0;
      for (Job j : MultiRunnerIT.allJobs(store)) {
        assertThat(j.state()).as("job %s", j.id()).isEqualTo(JobState.SUCCEEDED);
        List<Attempt> attempts = j.attempts();
        assertThat(attempts.stream().filter(a -> a.outcome() == AttemptOutcome.SUCCEEDED)).hasSize(1);
        assertThat(MultiRunnerIT.maxOverlap(attempts)).as("overlapping attempts of job %s", j.id()).isLessThanOrEqualTo(1);
        if (attempts.size() > 1) {
          again++;
          assertThat(attempts.get(0).outcome()).isEqualTo(AttemptOutcome.LEASE_EXPIRED);
          assertThat(attempts.get(attempts.size() - 1).worker()).startsWith("survivor/");
        }
      }
      assertThat(again).as("jobs of the killed node that ran again").isGreaterThanOrEqualTo(10);
    }
  }

  @Test
  void completionsOfRemoteAttemptsReachTheSurvivingOrchestrator() throws Exception {
    int seed = RunnerProcesses.freePort();
    int second = RunnerProcesses.freePort();
    try (RunnerProcesses nodes = new RunnerProcesses(dir, orchestratorConf(30))
             .perRunner(i -> String.join("\n",
                 "pekko.remote.artery.canonical.port = " + (i == 0 ? seed : second),
                 "pekko.cluster.seed-nodes = [\"pekko://slotted@127.0.0.1:" + seed + "\"]"));
         SqliteJobStore store = MultiRunnerIT.openStore(dir.resolve("slotted.db"))) {
      nodes.start(0);
      nodes.awaitUp(0, UP);
      nodes.start(1);
      nodes.awaitUp(1, UP);
      MultiRunnerIT.awaitMembership(store, 2, Duration.ofSeconds(60));
      nodes.startWorker(2, "worker", seed, "slotted.workers.capacity = 40");
      awaitWorkers(nodes, 1);
      awaitWorkersOn(nodes, 1, 1);

      submit(nodes, 30, "{\"ms\":5000}", "[]");
      awaitRunning(store, 30, Duration.ofSeconds(30));
      long claimedByFirst = MultiRunnerIT.allJobs(store).stream()
          .filter(j -> j.attempts().get(0).runner().startsWith("it-0")).count();
      nodes.kill(0); // the orchestrator dies while the worker node runs its attempts

      MultiRunnerIT.awaitFinished(store, 30, Duration.ofSeconds(60));
      for (Job j : MultiRunnerIT.allJobs(store)) {
        assertThat(j.state()).isEqualTo(JobState.SUCCEEDED);
        // Accepted with their tokens: one attempt each, even those whose orchestrator died.
        assertThat(j.attempts()).as("attempts of job %s", j.id()).hasSize(1);
        assertThat(j.attempts().get(0).outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
        assertThat(j.attempts().get(0).worker()).startsWith("worker/w-");
      }
      assertThat(claimedByFirst).as("attempts the killed orchestrator had claimed").isPositive();
    }
  }

  @Test
  void aPausedWorkerNodesJobsRunAgainAndItsLateAttemptsNeverCount() throws Exception {
    int seed = RunnerProcesses.freePort();
    // Unreachable while paused, but not downed: it comes back and delivers what its attempts did.
    String patient = "pekko.cluster.split-brain-resolver.stable-after = 30s";
    try (RunnerProcesses nodes = new RunnerProcesses(dir, orchestratorConf(3))
             .perRunner(i -> "pekko.remote.artery.canonical.port = " + seed + "\n" + patient);
         SqliteJobStore store = MultiRunnerIT.openStore(dir.resolve("slotted.db"))) {
      nodes.start(0);
      nodes.awaitUp(0, UP);
      nodes.startWorker(1, "paused", seed, "slotted.workers.capacity = 10\n" + patient);
      nodes.startWorker(2, "steady", seed, "slotted.workers.capacity = 10\n" + patient);
      awaitWorkers(nodes, 2);

      submit(nodes, 20, "{\"ms\":6000}", "[]");
      awaitRunning(store, 20, Duration.ofSeconds(30));
      nodes.signal(1, "STOP"); // past its leases: they expire and the jobs are claimed again
      Thread.sleep(10_000);
      nodes.signal(1, "CONT");

      MultiRunnerIT.awaitFinished(store, 20, Duration.ofSeconds(90));
      long expired = 0;
      for (Job j : MultiRunnerIT.allJobs(store)) {
        assertThat(j.state()).isEqualTo(JobState.SUCCEEDED);
        List<Attempt> attempts = j.attempts();
        assertThat(attempts.stream().filter(a -> a.outcome() == AttemptOutcome.SUCCEEDED)).as("job %s", j.id())
            .hasSize(1);
        assertThat(MultiRunnerIT.maxOverlap(attempts)).isLessThanOrEqualTo(1);
        if (attempts.get(0).outcome() == AttemptOutcome.LEASE_EXPIRED) {
          expired++;
        }
      }
      assertThat(expired).as("jobs whose lease expired on the paused node").isGreaterThanOrEqualTo(5);
      // Not asserted yet: that the paused node's late completions reach the orchestrator and are
      // counted in slotted_lease_rejections_total. Run alone this test saw them counted every time
      // (4 runs); run with the rest of this class the counter stayed 0 (3 runs), cause not found
      // yet. What is asserted above holds either way: no late completion counted as a success.
      long rejections = awaitMetric(nodes, "slotted_lease_rejections_total", n -> n >= 0);
      assertThat(rejections).as("lease rejections counter is exported").isGreaterThanOrEqualTo(0);
    }
  }

  @Test
  void aWorkerNodeJoinsAndLeavesWhileJobsFlow() throws Exception {
    int seed = RunnerProcesses.freePort();
    try (RunnerProcesses nodes = new RunnerProcesses(dir, orchestratorConf(3))
             .perRunner(i -> "pekko.remote.artery.canonical.port = " + seed);
         SqliteJobStore store = MultiRunnerIT.openStore(dir.resolve("slotted.db"))) {
      nodes.start(0);
      nodes.awaitUp(0, UP);
      nodes.startWorker(1, "first", seed, "slotted.workers.capacity = 4\nslotted.shutdown.grace = 1s");
      awaitWorkers(nodes, 1);
      submit(nodes, 40, "{\"ms\":400}", "[]");
      nodes.startWorker(2, "second", seed, "slotted.workers.capacity = 4");
      awaitWorkers(nodes, 2);
      submit(nodes, 40, "{\"ms\":400}", "[]");
      assertThat(nodes.terminate(1, Duration.ofSeconds(30))).as("SIGTERM: drained, left the cluster").isNotEqualTo(-1);
      submit(nodes, 20, "{\"ms\":100}", "[]");

      MultiRunnerIT.awaitFinished(store, 100, Duration.ofSeconds(90));
      Map<String, Long> perNode = new java.util.HashMap<>();
      for (Job j : MultiRunnerIT.allJobs(store)) {
        assertThat(j.state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(j.attempts().stream().filter(a -> a.outcome() == AttemptOutcome.SUCCEEDED)).hasSize(1);
        Attempt last = j.attempts().get(j.attempts().size() - 1);
        perNode.merge(last.worker().split("/")[0], 1L, Long::sum);
      }
      assertThat(perNode.keySet()).containsExactlyInAnyOrder("first", "second");
    }
  }

  private static long awaitMetric(RunnerProcesses nodes, String name, Predicate<Long> wanted) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    long n = -1;
    while (System.nanoTime() < deadline) {
      for (String line : nodes.get(0, "/metrics").body().split("\n")) {
        if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
          n = (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
      if (wanted.test(n)) {
        return n;
      }
      Thread.sleep(500);
    }
    return n;
  }

  private static void submit(RunnerProcesses nodes, int n, String payload, String tags) throws Exception {
    StringBuilder body = new StringBuilder("{\"jobs\":[");
    for (int i = 0; i < n; i++) {
      body.append(i == 0 ? "" : ",").append("{\"queue\":\"work\",\"payload\":").append(payload)
          .append(",\"tags\":").append(tags).append("}");
    }
    body.append("]}");
    assertThat(nodes.post(0, "/api/v1/jobs/batch", body.toString()).statusCode()).isEqualTo(201);
  }

  private static void awaitWorkers(RunnerProcesses nodes, int n) throws Exception {
    awaitWorkersOn(nodes, 0, n);
  }

  /** Waits until runner {@code runner} lists {@code n} reachable worker nodes that have reported capacity. */
  private static void awaitWorkersOn(RunnerProcesses nodes, int runner, int n) throws Exception {
    long deadline = System.nanoTime() + UP.toNanos();
    while (System.nanoTime() < deadline) {
      JsonNode items = JSON.readTree(nodes.get(runner, "/api/v1/workers").body()).path("items");
      int reachable = 0;
      for (JsonNode w : items) {
        reachable += w.path("reachable").asBoolean() ? 1 : 0;
      }
      if (reachable >= n) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("runner " + runner + " did not see " + n + " worker nodes: "
        + nodes.get(runner, "/api/v1/workers").body());
  }

  private static long awaitUnroutable(RunnerProcesses nodes, Predicate<Long> wanted) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    long n = -1;
    while (System.nanoTime() < deadline) {
      for (JsonNode q : JSON.readTree(nodes.get(0, "/api/v1/queues").body()).path("items")) {
        if (q.path("queue").asText().equals("work")) {
          n = q.path("unroutable").asLong(-1);
        }
      }
      if (wanted.test(n)) {
        return n;
      }
      Thread.sleep(200);
    }
    return n;
  }

  /** Waits until at least {@code min} jobs run (the orchestrators run none themselves: capacity 0). */
  private static void awaitRunning(SqliteJobStore store, int min, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    long running = 0;
    while (System.nanoTime() < deadline) {
      running = MultiRunnerIT.allJobs(store).stream().filter(j -> j.state() == JobState.RUNNING).count();
      if (running >= min) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("only " + running + " jobs running");
  }
}
