package dev.slotted.orchestrator.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Real runner processes ({@code java -jar slotted.jar serve}) on one SQLite file, for the
 * integration tests, and worker-only nodes ({@code slotted worker}) that join them over Pekko
 * Cluster on loopback. Each process has an index; a runner gets its own node id and HTTP port, a
 * worker node the node id it is given; the output of process N goes to runner-N.log in the test
 * directory.
 */
final class RunnerProcesses implements AutoCloseable {
  private final Path dir;
  private final Path db;
  private final String extraConf;
  private final List<Process> processes = new ArrayList<>();
  private final List<Integer> ports = new ArrayList<>();
  private final java.util.Map<Integer, Long> logStart = new java.util.HashMap<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private java.util.function.IntFunction<String> perRunnerConf = i -> "";

  RunnerProcesses(Path dir, String extraConf) {
    this.dir = dir;
    this.db = dir.resolve("slotted.db");
    this.extraConf = extraConf;
  }

  Path db() {
    return db;
  }

  /** Configuration for runner i alone, appended after the shared one (e.g. a journal of its own). */
  RunnerProcesses perRunner(java.util.function.IntFunction<String> conf) {
    this.perRunnerConf = conf;
    return this;
  }

  /** Sends a signal (STOP, CONT) to runner i. */
  void signal(int i, String name) throws Exception {
    Process p = new ProcessBuilder("kill", "-" + name, Long.toString(processes.get(i).pid())).inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("kill -" + name + " failed");
    }
  }

  static String jar() {
    String jar = System.getProperty("slotted.jar");
    if (jar == null || !Files.isRegularFile(Path.of(jar))) {
      throw new IllegalStateException("system property slotted.jar must point at the packaged jar (run with mvn verify)");
    }
    return jar;
  }

  /** Starts runner number {@code i} and returns its HTTP port. */
  int start(int i) throws IOException {
    Path log = dir.resolve("runner-" + i + ".log");
    logStart.put(i, Files.exists(log) ? Files.size(log) : 0L);
    int port = freePort();
    Path conf = dir.resolve("runner-" + i + ".conf");
    Files.writeString(conf, String.join("\n",
        "slotted {",
        "  node-id = \"it-" + i + "\"",
        "  store.sqlite.path = \"" + db + "\"",
        "  http.port = " + port,
        "  workers.log-dir = \"" + dir.resolve("logs-" + i) + "\"",
        "  tdma.runner-ttl = 4s",
        // The CI machine is shared and noisy: a wider guard absorbs a writer thread that is not
        // scheduled for tens of ms at the end of its window (the default is 20ms).
        "  tdma.guard = 50ms",
        "  queue-defaults.visibility-timeout = 3s",
        "}",
        "pekko.management.http.port = 0",
        extraConf,
        perRunnerConf.apply(i),
        ""));
    launch(i, "serve", conf, port);
    return port;
  }

  /**
   * Starts process {@code i} as a worker-only node named {@code nodeId} that joins the cluster at
   * {@code seedPort} (a runner's Artery port on loopback), with this extra configuration (tags,
   * capacity, queues).
   */
  void startWorker(int i, String nodeId, int seedPort, String conf) throws IOException {
    Path log = dir.resolve("runner-" + i + ".log");
    logStart.put(i, Files.exists(log) ? Files.size(log) : 0L);
    Path file = dir.resolve("worker-" + i + ".conf");
    Files.writeString(file, String.join("\n",
        "slotted {",
        "  node-id = \"" + nodeId + "\"",
        "  workers.log-dir = \"" + dir.resolve("logs-" + i) + "\"",
        "  workers.pid-dir = \"" + dir.resolve("pids-" + i) + "\"",
        "  metrics.actor-metrics = off",
        "}",
        "pekko.cluster.seed-nodes = [\"pekko://slotted@127.0.0.1:" + seedPort + "\"]",
        "pekko.remote.artery.canonical.port = 0",
        "pekko.management.http.port = 0",
        extraConf,
        conf,
        ""));
    launch(i, "worker", file, 0);
  }

  private void launch(int i, String command, Path conf, int port) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p = new ProcessBuilder(java, "-Xmx256m", "-jar", jar(), command, "-c", conf.toString())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("runner-" + i + ".log").toFile()))
        .start();
    while (processes.size() <= i) {
      processes.add(null);
      ports.add(0);
    }
    processes.set(i, p);
    ports.set(i, port);
  }

  Process process(int i) {
    return processes.get(i);
  }

  int port(int i) {
    return ports.get(i);
  }

  /** Waits until runner i answers on its API. */
  void awaitUp(int i, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    URI uri = URI.create("http://127.0.0.1:" + ports.get(i) + "/api/v1/queues");
    while (System.nanoTime() < deadline) {
      if (!processes.get(i).isAlive()) {
        String life = thisLife(i);
        if (!life.contains("Address already in use")) {
          throw new IllegalStateException("runner " + i + " exited: " + life);
        }
        // The free port picked for it was taken by another process before it bound: another one.
        start(i);
        uri = URI.create("http://127.0.0.1:" + ports.get(i) + "/api/v1/queues");
        continue;
      }
      try {
        if (http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not up yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("runner " + i + " did not come up: " + Files.readString(dir.resolve("runner-" + i + ".log")));
  }

  /** What runner i's current life wrote to its log (the file collects every life of runner i). */
  private String thisLife(int i) throws IOException {
    byte[] all = Files.readAllBytes(dir.resolve("runner-" + i + ".log"));
    int from = (int) Math.min(all.length, logStart.getOrDefault(i, 0L));
    return new String(all, from, all.length - from, java.nio.charset.StandardCharsets.UTF_8);
  }

  HttpResponse<String> post(int i, String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.get(i) + path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(int i, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.get(i) + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  void kill(int i) throws InterruptedException {
    Process p = processes.get(i);
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly(); // SIGKILL
    p.waitFor(10, TimeUnit.SECONDS);
  }

  /** SIGTERM, then waits for the graceful shutdown; returns the exit code. */
  int terminate(int i, Duration timeout) throws InterruptedException {
    Process p = processes.get(i);
    p.destroy();
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      return -1;
    }
    return p.exitValue();
  }

  String log(int i) throws IOException {
    return Files.readString(dir.resolve("runner-" + i + ".log"));
  }

  @Override
  public void close() throws Exception {
    for (Process p : processes) {
      if (p != null && p.isAlive()) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
