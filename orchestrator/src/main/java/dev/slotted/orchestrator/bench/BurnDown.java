package dev.slotted.orchestrator.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.slotted.orchestrator.store.BenchAccess;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.QueueCounts;
import dev.slotted.orchestrator.store.RunnerRow;
import dev.slotted.protocol.NewJob;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code slotted bench}: a burn-down of jobs drained by real runner processes on one SQLite file
 * (DESIGN §8): no-op jobs (store-bound), or with {@code --sleep-ms N} jobs that each sleep N ms
 * (capacity-bound: what users run), whose efficiency is achieved jobs/s over runners × capacity ×
 * 1000 / N. Two workloads:
 *
 * <ul>
 *   <li>burn-down (default): N jobs are inserted in batches of 1000 first (submit/s), held (due in a
 *       day); R runners start, and once every one of them has published its first status the
 *       jobs are made due at once, so that no runner drains alone while the others still start
 *       (drain/s = N over first start to last end of any attempt);
 *   <li>rate ({@code --rate X}): R runners start first, then N jobs arrive through the first
 *       runner's HTTP API at X jobs/s; the dispatch delay (due to started) is what it measures.
 * </ul>
 *
 * Every job is checked at the end: lost = not succeeded, duplicates = attempts beyond the first
 * (no-op jobs never fail, so any second attempt is a second run). busyRetries counts SQLITE_BUSY
 * retries in steady state, once every runner has published its first status; those of starting
 * up (opening the store and registering before a runner has a slot) are reported apart.
 */
public final class BurnDown {

  /** The options of one bench run. */
  public record Options(
      int jobs,
      int workers,
      int runners,
      boolean tdma,
      Path dir,
      int rate,
      Duration timeout,
      int partitions,
      boolean dynamicMembership,
      int sleepMs,
      int claimAhead) {

    /** No-op jobs, the default claim-ahead. */
    public Options(int jobs, int workers, int runners, boolean tdma, Path dir, int rate, Duration timeout,
        int partitions, boolean dynamicMembership) {
      this(jobs, workers, runners, tdma, dir, rate, timeout, partitions, dynamicMembership, 0, -1);
    }

    String queue() {
      return sleepMs > 0 ? "sleep" : "noop";
    }

    String payload() {
      return sleepMs > 0 ? "{\"ms\":" + sleepMs + "}" : "{}";
    }
  }

  /** The figures DESIGN §8 names, in its order. */
  public record Result(
      int jobs,
      int runners,
      String mode,
      double submitPerSecond,
      double drainPerSecond,
      double dispatchDelayP50Ms,
      double dispatchDelayP99Ms,
      long busyRetries,
      long busyRetriesAtStartup,
      long duplicates,
      long lost,
      int capacity,
      int sleepMs) {

    /**
     * Achieved over possible throughput of capacity-bound work (sleep jobs): runners × capacity
     * workers each finish 1000 / sleepMs jobs per second at best. NaN for no-op jobs.
     */
    public double efficiency() {
      return sleepMs <= 0 ? Double.NaN : drainPerSecond / (runners * (double) capacity * 1000.0 / sleepMs);
    }

    public Map<String, Object> asMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("jobs", jobs);
      m.put("runners", runners);
      m.put("mode", mode);
      m.put("submitPerSecond", round(submitPerSecond));
      m.put("drainPerSecond", round(drainPerSecond));
      m.put("dispatchDelayP50Ms", round(dispatchDelayP50Ms));
      m.put("dispatchDelayP99Ms", round(dispatchDelayP99Ms));
      m.put("busyRetries", busyRetries);
      m.put("busyRetriesAtStartup", busyRetriesAtStartup);
      m.put("duplicates", duplicates);
      m.put("lost", lost);
      m.put("capacity", capacity);
      if (sleepMs > 0) {
        m.put("sleepMs", sleepMs);
        m.put("efficiency", Math.round(efficiency() * 1000) / 1000.0);
      }
      return m;
    }

    private static double round(double d) {
      return Math.round(d * 10) / 10.0;
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /** In rate mode, the first seconds of arrivals that are left out of the delay percentiles. */
  static final Duration WARM_UP = Duration.ofSeconds(5);

  private final Options options;
  private final Target target;
  private final Clock clock = Clock.systemUTC();
  private final List<Process> processes = new ArrayList<>();

  /** @param openStore opens the job store on a database file (in this process) */
  /**
   * The store the runners share: how this process opens it, reads its figures, and points a
   * runner at it. The store implementations hold the SQL; this class touches no JDBC.
   */
  public interface Target {
    /** Opens (creating and migrating) the store in {@code dir} or on its server. */
    JobStore open(Path dir);

    BenchAccess access(Path dir);

    /** Lines inside a runner's {@code slotted { }} block that point it at this store. */
    String runnerConf(Path dir);

    /** Removes what a run left on a server (nothing for a file in the run's directory). */
    default void cleanUp() throws Exception {}
  }

  public BurnDown(Options options, Target target) {
    this.options = options;
    this.target = target;
  }

  public Result run() throws Exception {
    Files.createDirectories(options.dir());
    Path db = options.dir();
    int port = freePort();
    // One store for the whole run, opened (and the file created and migrated) before any runner
    // starts: opening writes, and a write of this process while the runners work would be a
    // writer outside TDMA, counted as their busy retries. From here on it only reads.
    try (JobStore store = target.open(db); BenchAccess access = target.access(db)) {
      boolean burnDown = options.rate() <= 0;
      double submitRate = burnDown ? submitAll(store) : 0;
      startRunners(db, port);
      long startupBusy = awaitAllPublished(store);
      if (burnDown) {
        access.releaseHeld(clock.instant());
        // The release is this process's one write while the runners work: let a runner that met
        // it count its retries before the steady state starts.
        Thread.sleep(2 * 1000 + 200);
        startupBusy = busyRetries(store.runners(clock.instant()).toCompletableFuture().get());
      } else {
        submitRate = submitThroughApi(port);
      }
      awaitFinished(store);
      // Let every runner publish its counters once more after the last job.
      Thread.sleep(2500);
      return collect(store, access, submitRate, startupBusy);
    } finally {
      stopRunners();
      target.cleanUp();
    }
  }

  private double submitAll(JobStore store) throws Exception {
    int batch = 1000;
    java.time.Instant held = clock.instant().plus(Duration.ofDays(1));
    long start = System.nanoTime();
    for (int done = 0; done < options.jobs(); done += batch) {
      int n = Math.min(batch, options.jobs() - done);
      List<NewJob> jobs = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        jobs.add(NewJob.of(options.queue(), options.payload()).withRunAt(held));
      }
      store.submitBatch(jobs, clock).toCompletableFuture().get();
    }
    return options.jobs() / ((System.nanoTime() - start) / 1e9);
  }

  private double submitThroughApi(int port) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    URI base = URI.create("http://127.0.0.1:" + port);
    awaitApi(http, base);
    // Batches every 10 ms at the requested rate.
    int perTick = Math.max(1, options.rate() / 100);
    String body = batchBody(perTick, options.queue(), options.payload());
    long tickNanos = 10_000_000L;
    long start = System.nanoTime();
    int sent = 0;
    // Sent without waiting for each answer, so a slow answer does not lower the arrival rate.
    List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
    while (sent < options.jobs()) {
      int n = Math.min(perTick, options.jobs() - sent);
      HttpRequest req = HttpRequest.newBuilder(base.resolve("/api/v1/jobs/batch"))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(n == perTick ? body : batchBody(n, options.queue(), options.payload())))
          .build();
      pending.add(http.sendAsync(req, HttpResponse.BodyHandlers.ofString()));
      sent += n;
      long next = start + (sent / perTick) * tickNanos;
      long wait = next - System.nanoTime();
      if (wait > 0) {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      }
    }
    for (var f : pending) {
      HttpResponse<String> resp = f.get();
      if (resp.statusCode() != 201) {
        throw new IllegalStateException("bench submit failed: HTTP " + resp.statusCode() + " " + resp.body());
      }
    }
    return sent / ((System.nanoTime() - start) / 1e9);
  }

  private static String batchBody(int n, String queue, String payload) {
    StringBuilder sb = new StringBuilder("{\"jobs\":[");
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"queue\":\"").append(queue).append("\",\"payload\":")
          .append(payload).append('}');
    }
    return sb.append("]}").toString();
  }

  private void awaitApi(HttpClient http, URI base) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/api/v1/queues")).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not up yet
      }
      checkRunnersAlive();
      Thread.sleep(100);
    }
    throw new IllegalStateException("the first runner's API did not come up within 60 s (see " + options.dir() + ")");
  }

  private void startRunners(Path db, int firstPort) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    String classpath = System.getProperty("java.class.path");
    for (int i = 0; i < options.runners(); i++) {
      Path conf = options.dir().resolve("runner-" + i + ".conf");
      Files.writeString(conf, String.join("\n",
          "slotted {",
          "  node-id = \"bench-" + i + "\"",
          target.runnerConf(db),
          "  partitions = " + options.partitions(),
          "  tdma.enabled = " + options.tdma(),
          // Static membership: every runner knows its slot from the first cycle. Dynamic membership
          // converges within a few cycles, and runners joining meanwhile may contend (not steady state).
          "  tdma.membership = " + (options.dynamicMembership() ? "dynamic" : "static"),
          "  tdma.runner-index = " + i,
          "  tdma.runner-count = " + options.runners(),
          "  http.port = " + (i == 0 ? firstPort : 0),
          "  workers.capacity = " + options.workers(),
          options.claimAhead() >= 0 ? "  tdma.claim-ahead = " + options.claimAhead() : "",
          "  workers.log-dir = " + JSON.writeValueAsString(options.dir().resolve("logs").toString()),
          "  workers.pid-dir = " + JSON.writeValueAsString(options.dir().resolve("pids").toString()),
          "  schedules.journal-path = " + JSON.writeValueAsString(options.dir().resolve("journal.db").toString()),
          "  queues { noop { handler = noop }, sleep { handler = sleep } }",
          "}",
          "pekko.management.http.port = 0",
          ""));
      List<String> cmd = new ArrayList<>(Arrays.asList(java, "-Xms256m", "-cp", classpath));
      String agentFlag = System.getProperty("slotted.bench.jvm-flags");
      if (agentFlag != null && !agentFlag.isBlank()) {
        cmd.addAll(Arrays.asList(agentFlag.trim().split("\\s+")));
      }
      cmd.addAll(List.of("dev.slotted.orchestrator.app.Main", "serve", "-c", conf.toString()));
      File log = options.dir().resolve("runner-" + i + ".log").toFile();
      processes.add(new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.to(log)).start());
    }
  }

  private void checkRunnersAlive() {
    for (int i = 0; i < processes.size(); i++) {
      if (!processes.get(i).isAlive()) {
        throw new IllegalStateException("runner " + i + " exited with " + processes.get(i).exitValue()
            + " (see " + options.dir().resolve("runner-" + i + ".log") + ")");
      }
    }
  }

  private void awaitFinished(JobStore store) throws Exception {
    long deadline = System.nanoTime() + options.timeout().toNanos();
    while (System.nanoTime() < deadline) {
      long finished = 0;
      for (QueueCounts q : store.queueCounts(clock.instant()).toCompletableFuture().get()) {
        finished += q.succeeded() + q.dead() + q.cancelled();
      }
      if (finished >= options.jobs()) {
        return;
      }
      checkRunnersAlive();
      Thread.sleep(100);
    }
    // Not all finished: the report counts the rest as lost.
  }

  /**
   * Waits until every runner has published its counters once (it has opened the store, found its
   * slot and written in it), and returns the busy retries counted by then: those of starting up,
   * when a runner opens the store and registers before it has a slot. What follows is steady state.
   */
  private long awaitAllPublished(JobStore store) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (System.nanoTime() < deadline) {
      List<RunnerRow> rows = store.runners(clock.instant()).toCompletableFuture().get();
      long published = rows.stream().filter(r -> r.statusJson() != null && r.statusJson().contains("busyRetries")).count();
      if (published >= options.runners()) {
        // One more round of heartbeats: a runner that published early may still have met the
        // opening writes of one that started later.
        Thread.sleep(2 * 1000 + 200);
        return busyRetries(store.runners(clock.instant()).toCompletableFuture().get());
      }
      checkRunnersAlive();
      Thread.sleep(20);
    }
    throw new IllegalStateException("the runners did not all start within 120 s (see " + options.dir() + ")");
  }

  private static long busyRetries(List<RunnerRow> rows) throws IOException {
    long busy = 0;
    for (RunnerRow r : rows) {
      JsonNode status = r.statusJson() == null ? null : JSON.readTree(r.statusJson());
      if (status != null && status.has("busyRetries")) {
        busy += status.get("busyRetries").asLong();
      }
    }
    return busy;
  }

  /**
   * The figures come straight from the store with one query ({@link BenchAccess#jobTimes}):
   * paging 100k jobs through the API would take longer than the drain.
   */
  private Result collect(JobStore store, BenchAccess access, double submitRate, long startupBusy) throws Exception {
    List<Long> delays = new ArrayList<>(options.jobs());
    long firstStart = Long.MAX_VALUE;
    long lastEnd = Long.MIN_VALUE;
    long succeeded = 0;
    long duplicates = 0;
    // With --rate, the jobs of the first WARM_UP seconds are a warm-up (JIT compilation of the
    // runner's hot paths, connection set-up) and stay out of the delay percentiles; every job
    // still counts for lost and duplicates.
    long measuredFrom = Long.MIN_VALUE;
    for (BenchAccess.JobTimes j : access.jobTimes(Set.of("noop", "sleep"))) {
      if ("succeeded".equals(j.state())) {
        succeeded++;
      }
      duplicates += Math.max(0, j.attemptNo() - 1);
      if (j.startedAt() == null) {
        continue;
      }
      long started = j.startedAt();
      long firstAttempt = j.firstArchivedStart() == null ? started : Math.min(j.firstArchivedStart(), started);
      long due = j.runAt();
      if (measuredFrom == Long.MIN_VALUE) {
        measuredFrom = options.rate() > 0 ? due + WARM_UP.toMillis() : due;
      }
      if (due >= measuredFrom) {
        delays.add((firstAttempt - due) * 1_000_000L);
      }
      firstStart = Math.min(firstStart, firstAttempt);
      if (j.endedAt() != null) {
        lastEnd = Math.max(lastEnd, j.endedAt());
      }
    }
    long busy = busyRetries(store.runners(clock.instant()).toCompletableFuture().get()) - startupBusy;
    delays.sort(null);
    double drainSeconds = firstStart == Long.MAX_VALUE || lastEnd == Long.MIN_VALUE ? Double.NaN
        : Math.max(1, lastEnd - firstStart) / 1000.0;
    return new Result(options.jobs(), options.runners(),
        (options.tdma() ? "tdma" : "continuous") + (options.runners() > 1 ? (options.dynamicMembership() ? " dynamic" : " static") : "")
            + (options.rate() > 0 ? ", rate " + options.rate() + "/s" : ", burn-down")
            + (options.sleepMs() > 0 ? ", sleep " + options.sleepMs() + " ms" : ", no-op"),
        submitRate, options.jobs() / drainSeconds,
        percentile(delays, 0.50) / 1e6, percentile(delays, 0.99) / 1e6,
        busy, startupBusy, duplicates, options.jobs() - succeeded, options.workers(), options.sleepMs());
  }

  private static double percentile(List<Long> sorted, double p) {
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    int i = (int) Math.min(sorted.size() - 1, Math.round(p * (sorted.size() - 1)));
    return sorted.get(i);
  }

  private void stopRunners() throws InterruptedException {
    for (Process p : processes) {
      p.destroy(); // SIGTERM: graceful shutdown
    }
    for (Process p : processes) {
      if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
