package dev.slotted.orchestrator.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.slotted.orchestrator.reconcile.Reconciler;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One whole runner in this JVM (store, TDMA runtime, workers, HTTP API) driven over real HTTP,
 * with real shell processes: retries to the dead-letter queue and back, and a cancel reaching a
 * running process.
 */
class SlottedAppTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir static Path dir;
  private static SlottedApp app;

  @BeforeAll
  static void start() {
    Config config = ConfigFactory.parseString(String.join("\n",
            "slotted {",
            "  node-id = app-test",
            "  store.sqlite.path = \"" + dir.resolve("slotted.db") + "\"",
            "  schedules.journal-path = \"" + dir.resolve("journal.db") + "\"",
            "  http.port = 0",
            "  workers.log-dir = \"" + dir.resolve("logs") + "\"",
            "  workers.pid-dir = \"" + dir.resolve("pids") + "\"",
            "  queues {",
            "    flaky { handler = sleep, max-attempts = 3, retry { policy = immediate } }",
            "    serial { handler = sleep, concurrency = 1 }",
            "    burn { handler = noop }",
            "    long { handler { type = shell, command = [\"sh\", \"-c\", \"echo $$ > \\\"$PIDFILE\\\"; exec sleep 60\"],"
                + " env { PIDFILE = \"" + dir.resolve("long.pid") + "\" }, kill-grace = 1s } }",
            "  }",
            "}",
            "pekko.management.http.port = 0"))
        .withFallback(ConfigFactory.load());
    app = SlottedApp.start(config);
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
  }

  @Test
  void aFailingJobReachesTheDeadLetterQueueWithItsHistoryAndARequeueRunsItAgain() throws Exception {
    JsonNode job = post("/api/v1/jobs", "{\"queue\":\"flaky\",\"payload\":{\"ms\":10,\"failFirst\":3}}", 201);
    String id = job.get("id").asText();
    JsonNode dead = awaitState(id, "dead", Duration.ofSeconds(20));
    assertThat(dead.get("attempts")).hasSize(3);
    dead.get("attempts").forEach(a -> assertThat(a.get("outcome").asText()).isEqualTo("failed"));
    assertThat(get("/api/v1/dead?queue=flaky").get("items").findValuesAsText("id")).contains(id);

    post("/api/v1/dead/" + id + "/requeue", "", 200);
    JsonNode done = awaitState(id, "succeeded", Duration.ofSeconds(20));
    assertThat(done.get("attempts")).hasSize(4);
    assertThat(done.get("attempts").get(3).get("number").asInt()).isEqualTo(4);
  }

  @Test
  void aCancelReachesTheRunningProcessWithinACycle() throws Exception {
    Path pidFile = dir.resolve("long.pid");
    JsonNode job = post("/api/v1/jobs", "{\"queue\":\"long\",\"payload\":{}}", 201);
    String id = job.get("id").asText();
    awaitState(id, "running", Duration.ofSeconds(20));
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while ((!Files.exists(pidFile) || Files.readString(pidFile).isBlank()) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    long pid = Long.parseLong(Files.readString(pidFile).trim());
    Optional<ProcessHandle> process = ProcessHandle.of(pid);
    assertThat(process).isPresent();

    JsonNode cancelled = post("/api/v1/jobs/" + id + "/cancel", "", 200);
    assertThat(cancelled.get("state").asText()).isEqualTo("cancelled");
    // The lease keeper sees the lost lease at its next window and stops the attempt; the shell
    // gets SIGTERM at once. One cycle is 1 s: allow a few for a loaded machine.
    assertThat(process.get().onExit().toCompletableFuture().completeOnTimeout(null, 5, java.util.concurrent.TimeUnit.SECONDS).get())
        .as("the sleep process ended").isNotNull();
    assertThat(process.get().isAlive()).isFalse();
    JsonNode after = get("/api/v1/jobs/" + id);
    assertThat(after.get("state").asText()).isEqualTo("cancelled");
    assertThat(after.get("attempts").get(0).get("outcome").asText()).isEqualTo("cancelled");
    post("/api/v1/jobs/" + id + "/cancel", "", 409);
  }

  @Test
  void serialAttemptsStartWhenTheirHandlerStartsOneAfterAnother() throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      ids.add(post("/api/v1/jobs", "{\"queue\":\"serial\",\"payload\":{\"ms\":100}}", 201).get("id").asText());
    }
    List<JsonNode> attempts = new ArrayList<>();
    for (String id : ids) {
      JsonNode job = awaitState(id, "succeeded", Duration.ofSeconds(30));
      assertThat(job.get("attempts")).hasSize(1);
      attempts.add(job.get("attempts").get(0));
    }
    attempts.sort(Comparator.comparing(a -> Instant.parse(a.get("startedAt").asText())));
    for (int i = 1; i < attempts.size(); i++) {
      Instant previousEnd = Instant.parse(attempts.get(i - 1).get("endedAt").asText());
      Instant start = Instant.parse(attempts.get(i).get("startedAt").asText());
      Instant previousStart = Instant.parse(attempts.get(i - 1).get("startedAt").asText());
      assertThat(start).as("attempt %d starts after the previous one", i).isAfter(previousStart);
      // concurrency = 1: the next handler starts once the previous ended, and (buffered) at once.
      assertThat(Duration.between(previousEnd, start)).as("gap before attempt %d", i)
          .isBetween(Duration.ZERO, Duration.ofMillis(250));
    }
  }

  @Test
  void aHigherPriorityJobSubmittedLaterStartsBeforeTheWaitingLowerOnes() throws Exception {
    List<String> low = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      low.add(post("/api/v1/jobs", "{\"queue\":\"serial\",\"priority\":0,\"payload\":{\"ms\":100}}", 201)
          .get("id").asText());
    }
    awaitState(low.get(0), "succeeded", Duration.ofSeconds(30));
    String high = post("/api/v1/jobs", "{\"queue\":\"serial\",\"priority\":10,\"payload\":{\"ms\":100}}", 201)
        .get("id").asText();
    Instant highStart = Instant.parse(awaitState(high, "succeeded", Duration.ofSeconds(30))
        .get("attempts").get(0).get("startedAt").asText());
    long after = 0;
    for (String id : low) {
      Instant start = Instant.parse(awaitState(id, "succeeded", Duration.ofSeconds(30))
          .get("attempts").get(0).get("startedAt").asText());
      if (start.isAfter(highStart)) {
        after++;
      }
    }
    // At most one running and one buffered low job were ahead of it when it came.
    assertThat(after).as("low-priority jobs that started after the high one").isGreaterThanOrEqualTo(8);
  }

  @Test
  void aReconcilerThatFailsMidBurnDownResumesAndNoJobIsLostOrRunTwice() throws Exception {
    StringBuilder body = new StringBuilder("{\"jobs\":[");
    int n = 1000;
    for (int i = 0; i < n; i++) {
      body.append(i == 0 ? "" : ",").append("{\"queue\":\"burn\",\"partitionKey\":\"k" + i + "\"}");
    }
    body.append("]}");
    // Every Reconciler is hit while the jobs are being claimed.
    List<org.apache.pekko.actor.typed.ActorRef<Reconciler.Command>> reconcilers = new ArrayList<>();
    for (int p = 0; p < app.store().partitions(); p++) {
      reconcilers.add(org.apache.pekko.actor.typed.javadsl.Adapter.toTyped(app.system().classicSystem()
          .actorSelection("/user/runner/reconciler-" + p).resolveOne(Duration.ofSeconds(5))
          .toCompletableFuture().get()));
    }
    JsonNode items = post("/api/v1/jobs/batch", body.toString(), 201).get("items");
    for (var r : reconcilers) {
      r.tell(new Reconciler.InjectFault(new IllegalStateException("injected fault")));
    }
    Thread.sleep(300); // and once more, after they restarted
    for (var r : reconcilers) {
      r.tell(new Reconciler.InjectFault(new IllegalStateException("injected fault, again")));
    }
    for (JsonNode item : items) {
      JsonNode job = awaitState(item.get("id").asText(), "succeeded", Duration.ofSeconds(60));
      assertThat(job.get("attempts")).as("attempts of job %s", job.get("id")).hasSize(1);
    }
  }

  private static JsonNode awaitState(String id, String state, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    JsonNode job = null;
    while (System.nanoTime() < deadline) {
      job = get("/api/v1/jobs/" + id);
      if (job.get("state").asText().equals(state)) {
        return job;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("job " + id + " did not reach " + state + ": " + job);
  }

  private static JsonNode get(String path) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET %s: %s", path, r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private static JsonNode post(String path, String body, int expected) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri(path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("POST %s: %s", path, r.body()).isEqualTo(expected);
    return JSON.readTree(r.body());
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + app.port() + path);
  }
}
