package dev.slotted.orchestrator.http;

import static dev.slotted.orchestrator.store.JobStoreContractTest.at;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.slotted.orchestrator.store.ClaimRequest;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every route and every rejection of the API, against a real server and a real store. */
class HttpApiTest {
  @TempDir static Path dir;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(dir, "", TestStores.sqlite(dir));
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private static JsonNode submitOk(String body) throws Exception {
    HttpResponse<String> r = server.post("/api/v1/jobs", body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return TestServer.json(r);
  }

  // ---- submit ----------------------------------------------------------------------------------

  @Test
  void submitAnswers201WithTheJobInTheDesignedShape() throws Exception {
    Instant before = Instant.now();
    HttpResponse<String> r = server.post("/api/v1/jobs", """
        {"queue": "reports", "payload": {"day": "2026-11-21", "n": [1, 2.50]}, "priority": 5,
         "idempotencyKey": "report-2026-11-21", "tags": ["gpu"], "timeout": "90s", "delay": "1h"}""");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonNode job = TestServer.json(r);
    assertThat(job.get("id").isTextual()).isTrue();
    assertThat(job.get("queue").asText()).isEqualTo("reports");
    assertThat(job.get("state").asText()).isEqualTo("scheduled");
    assertThat(job.get("payload").toString()).isEqualTo("{\"day\":\"2026-11-21\",\"n\":[1,2.50]}");
    assertThat(job.get("priority").asInt()).isEqualTo(5);
    assertThat(job.get("maxAttempts").asInt()).as("the queue's max-attempts").isEqualTo(3);
    assertThat(job.get("attemptCount").asInt()).isZero();
    assertThat(job.get("idempotencyKey").asText()).isEqualTo("report-2026-11-21");
    assertThat(job.get("partitionKey").isNull()).isTrue();
    assertThat(job.get("partition").asInt()).isBetween(0, server.settings.partitions() - 1);
    assertThat(job.get("tags").toString()).isEqualTo("[\"gpu\"]");
    assertThat(job.get("timeout").asText()).isEqualTo("PT1M30S");
    Instant runAt = Instant.parse(job.get("runAt").asText());
    assertThat(runAt).isBetween(before.plus(Duration.ofHours(1)), Instant.now().plus(Duration.ofHours(1)));
    assertThat(job.get("runAt").asText()).endsWith("Z");
    assertThat(Instant.parse(job.get("createdAt").asText())).isBetween(before.minusMillis(1), Instant.now());
    assertThat(job.get("finishedAt").isNull()).isTrue();
    assertThat(job.get("attempts").isArray()).isTrue();
    assertThat(job.get("attempts")).isEmpty();
    assertThat(server.woken).contains(Set.of(job.get("partition").asInt()));

    HttpResponse<String> got = server.get("/api/v1/jobs/" + job.get("id").asText());
    assertThat(got.statusCode()).isEqualTo(200);
    assertThat(TestServer.json(got)).isEqualTo(job);
  }

  @Test
  void repeatedIdempotencyKeyAnswers200WithTheFirstJobAndWritesNothing() throws Exception {
    JsonNode first = submitOk("{\"queue\": \"reports\", \"idempotencyKey\": \"same-key\", \"payload\": 1}");
    long count = server.countJobs();

    HttpResponse<String> again = server.post("/api/v1/jobs",
        "{\"queue\": \"reports\", \"idempotencyKey\": \"same-key\", \"payload\": 2}");

    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(TestServer.json(again).get("id")).isEqualTo(first.get("id"));
    assertThat(TestServer.json(again).get("payload").asInt()).isEqualTo(1);
    assertThat(server.countJobs()).isEqualTo(count);
  }

  @Test
  void queueDefaultsFillWhatTheRequestLeavesOut() throws Exception {
    JsonNode job = submitOk("{\"queue\": \"demo\"}");
    assertThat(job.get("state").asText()).isEqualTo("ready");
    assertThat(job.get("maxAttempts").asInt()).isEqualTo(5);
    assertThat(job.get("timeout").asText()).isEqualTo("PT1H");
    assertThat(job.get("priority").asInt()).isZero();
    assertThat(job.get("payload").isNull()).isTrue();

    JsonNode custom = submitOk("""
        {"queue": "demo", "maxAttempts": 1000, "priority": -1000, "runAt": "2030-01-01T00:00:00+02:00",
         "partitionKey": "tenant-7", "timeout": "PT10S",
         "retry": {"policy": "exponential", "initial": "500ms", "multiplier": 1.5, "max": "5m", "jitter": "none"}}""");
    assertThat(custom.get("maxAttempts").asInt()).isEqualTo(1000);
    assertThat(custom.get("priority").asInt()).isEqualTo(-1000);
    assertThat(custom.get("runAt").asText()).isEqualTo("2029-12-31T22:00:00Z");
    assertThat(custom.get("partitionKey").asText()).isEqualTo("tenant-7");
    assertThat(custom.get("timeout").asText()).isEqualTo("PT10S");
  }

  static Stream<Arguments> badSubmissions() {
    String big = "\"" + "x".repeat(2100) + "\"";
    return Stream.of(
        Arguments.of("{\"queue\": ", "malformed-json", null),
        Arguments.of("{\"queue\": \"reports\"} trailing", "malformed-json", null),
        Arguments.of("{\"queue\": \"reports\", \"queue\": \"demo\"}", "malformed-json", null),
        Arguments.of("", "malformed-json", null),
        Arguments.of("[]", "validation", "body"),
        Arguments.of("{}", "validation", "queue"),
        Arguments.of("{\"queue\": \"reports\", \"colour\": \"red\"}", "validation", "colour"),
        Arguments.of("{\"queue\": \"reports\", \"retry\": {\"policy\": \"fixed\", \"delay\": \"1s\", \"bogus\": 1}}",
            "validation", "retry.bogus"),
        Arguments.of("{\"queue\": 7}", "validation", "queue"),
        Arguments.of("{\"queue\": \"nowhere\"}", "validation", "queue"),
        Arguments.of("{\"queue\": \"reports\", \"priority\": \"5\"}", "validation", "priority"),
        Arguments.of("{\"queue\": \"reports\", \"priority\": 1001}", "validation", "priority"),
        Arguments.of("{\"queue\": \"reports\", \"priority\": 1.5}", "validation", "priority"),
        Arguments.of("{\"queue\": \"reports\", \"priority\": 99999999999}", "validation", "priority"),
        Arguments.of("{\"queue\": \"reports\", \"maxAttempts\": 0}", "validation", "maxAttempts"),
        Arguments.of("{\"queue\": \"reports\", \"maxAttempts\": 1001}", "validation", "maxAttempts"),
        Arguments.of("{\"queue\": \"reports\", \"timeout\": \"ten seconds\"}", "validation", "timeout"),
        Arguments.of("{\"queue\": \"reports\", \"timeout\": \"0s\"}", "validation", "timeout"),
        Arguments.of("{\"queue\": \"reports\", \"timeout\": 10}", "validation", "timeout"),
        Arguments.of("{\"queue\": \"reports\", \"runAt\": \"tomorrow\"}", "validation", "runAt"),
        Arguments.of("{\"queue\": \"reports\", \"runAt\": \"2030-01-01T00:00:00Z\", \"delay\": \"1s\"}",
            "validation", "delay"),
        Arguments.of("{\"queue\": \"reports\", \"delay\": \"PT-5S\"}", "validation", "delay"),
        Arguments.of("{\"queue\": \"reports\", \"payload\": " + big + "}", "validation", "payload"),
        Arguments.of("{\"queue\": \"reports\", \"idempotencyKey\": \"" + "k".repeat(201) + "\"}",
            "validation", "idempotencyKey"),
        Arguments.of("{\"queue\": \"reports\", \"idempotencyKey\": \"\"}", "validation", "idempotencyKey"),
        Arguments.of("{\"queue\": \"reports\", \"partitionKey\": 5}", "validation", "partitionKey"),
        Arguments.of("{\"queue\": \"reports\", \"tags\": \"gpu\"}", "validation", "tags"),
        Arguments.of("{\"queue\": \"reports\", \"tags\": [1]}", "validation", "tags[0]"),
        Arguments.of("{\"queue\": \"reports\", \"tags\": [\"no spaces\"]}", "validation", "tags[0]"),
        Arguments.of("{\"queue\": \"reports\", \"retry\": \"fast\"}", "validation", "retry"),
        Arguments.of("{\"queue\": \"reports\", \"retry\": {\"policy\": \"sometimes\"}}", "validation", "retry.policy"),
        Arguments.of("{\"queue\": \"reports\", \"retry\": {\"policy\": \"fixed\"}}", "validation", "retry.delay"),
        Arguments.of("{\"queue\": \"reports\", \"retry\": {\"policy\": \"fixed\", \"delay\": \"1s\", \"initial\": \"1s\"}}",
            "validation", "retry.initial"),
        Arguments.of("{\"queue\": \"reports\", \"retry\": {\"initial\": \"1h\", \"max\": \"1s\"}}", "validation", "retry"),
        Arguments.of("{\"queue\": \"reports\", \"retry\": {\"multiplier\": 0.5}}", "validation", "retry"),
        Arguments.of("{\"queue\": \"reports\", \"retry\": {\"jitter\": \"some\"}}", "validation", "retry.jitter"));
  }

  @ParameterizedTest
  @MethodSource("badSubmissions")
  void badSubmissionIsA400ProblemNamingTheFieldAndWritesNothing(String body, String type, String field)
      throws Exception {
    long count = server.countJobs();

    HttpResponse<String> r = server.post("/api/v1/jobs", body);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertProblem(r, 400);
    JsonNode p = TestServer.json(r);
    assertThat(p.get("type").asText()).endsWith("/" + type);
    if (field != null) {
      assertThat(p.get("errors")).extracting(e -> e.get("field").asText()).contains(field);
    }
    assertThat(server.countJobs()).isEqualTo(count);
  }

  @Test
  void unknownQueueDetailListsTheKnownQueues() throws Exception {
    HttpResponse<String> r = server.post("/api/v1/jobs", "{\"queue\": \"nowhere\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(TestServer.json(r).get("detail").asText()).contains("nowhere", "reports", "demo", "dlq");
  }

  @Test
  void everyErrorOfARequestIsReported() throws Exception {
    HttpResponse<String> r = server.post("/api/v1/jobs",
        "{\"queue\": \"reports\", \"priority\": 5000, \"maxAttempts\": -1, \"extra\": true}");
    assertThat(TestServer.json(r).get("errors")).extracting(e -> e.get("field").asText())
        .containsExactlyInAnyOrder("priority", "maxAttempts", "extra");
  }

  @Test
  void bodyOverMaxBodyIs413AndWritesNothing() throws Exception {
    long count = server.countJobs();
    String body = "{\"queue\": \"reports\", \"payload\": \"" + "x".repeat(70_000) + "\"}";

    HttpResponse<String> sized = server.post("/api/v1/jobs", body);
    // Without a Content-Length (chunked), the limit applies while the body streams in.
    HttpResponse<String> chunked = server.send(HttpRequest.newBuilder(server.base.resolve("/api/v1/jobs"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofInputStream(
            () -> new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)))));

    for (HttpResponse<String> r : List.of(sized, chunked)) {
      assertThat(r.statusCode()).as(r.body()).isEqualTo(413);
      assertProblem(r, 413);
      assertThat(TestServer.json(r).get("detail").asText()).contains("65536");
    }
    assertThat(server.countJobs()).isEqualTo(count);
  }

  // ---- batch -----------------------------------------------------------------------------------

  @Test
  void batchWritesAllJobsAndAnswers201WithItems() throws Exception {
    long count = server.countJobs();
    HttpResponse<String> r = server.post("/api/v1/jobs/batch", """
        {"jobs": [{"queue": "demo", "payload": 1}, {"queue": "demo", "payload": 2, "priority": 3},
                  {"queue": "reports", "delay": "10m"}]}""");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    JsonNode items = TestServer.json(r).get("items");
    assertThat(items).hasSize(3);
    assertThat(items.get(1).get("priority").asInt()).isEqualTo(3);
    assertThat(items.get(2).get("state").asText()).isEqualTo("scheduled");
    assertThat(TestServer.json(r).has("nextCursor")).isFalse();
    assertThat(server.countJobs()).isEqualTo(count + 3);
  }

  @Test
  void batchWithOneBadJobWritesNone() throws Exception {
    long count = server.countJobs();
    HttpResponse<String> r = server.post("/api/v1/jobs/batch",
        "{\"jobs\": [{\"queue\": \"demo\"}, {\"queue\": \"demo\", \"priority\": 2000}, {\"queue\": \"x\"}]}");

    assertThat(r.statusCode()).isEqualTo(400);
    assertProblem(r, 400);
    assertThat(TestServer.json(r).get("errors")).extracting(e -> e.get("field").asText())
        .containsExactly("jobs[1].priority", "jobs[2].queue");
    assertThat(server.countJobs()).isEqualTo(count);
  }

  @Test
  void batchShapeIsChecked() throws Exception {
    long count = server.countJobs();
    StringBuilder tooMany = new StringBuilder("{\"jobs\": [");
    for (int i = 0; i < 1001; i++) {
      tooMany.append(i == 0 ? "" : ",").append("{\"queue\":\"demo\"}");
    }
    tooMany.append("]}");
    for (String body : List.of("{\"jobs\": []}", tooMany.toString(), "{\"jobs\": {}}", "{}", "{\"jobs\": [5]}")) {
      HttpResponse<String> r = server.post("/api/v1/jobs/batch", body);
      assertThat(r.statusCode()).as(body.length() > 100 ? "1001 jobs" : body).isEqualTo(400);
      assertThat(TestServer.json(r).get("errors").get(0).get("field").asText()).startsWith("jobs").isNotEqualTo("");
    }
    assertThat(TestServer.json(server.post("/api/v1/jobs/batch", "{\"jobs\": [{\"queue\": \"demo\"}], \"atomic\": true}"))
        .get("errors").get(0).get("field").asText()).isEqualTo("atomic");
    assertThat(server.countJobs()).isEqualTo(count);
  }

  // ---- get, list -------------------------------------------------------------------------------

  @Test
  void unknownJobIs404Problem() throws Exception {
    HttpResponse<String> r = server.get("/api/v1/jobs/no-such-job");
    assertThat(r.statusCode()).isEqualTo(404);
    assertProblem(r, 404);
    assertThat(TestServer.json(r).get("detail").asText()).contains("no-such-job");
  }

  @Test
  void paginationWalksEveryJobOnceNewestFirst() throws Exception {
    Set<String> submitted = new HashSet<>();
    for (int i = 0; i < 7; i++) {
      submitted.add(submitOk("{\"queue\": \"paging\", \"payload\": " + i + "}").get("id").asText());
    }

    List<String> seen = new ArrayList<>();
    List<Integer> payloads = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      HttpResponse<String> r = server.get("/api/v1/jobs?queue=paging&limit=3"
          + (cursor == null ? "" : "&cursor=" + java.net.URLEncoder.encode(cursor, StandardCharsets.UTF_8)));
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode page = TestServer.json(r);
      page.get("items").forEach(j -> {
        seen.add(j.get("id").asText());
        payloads.add(j.get("payload").asInt());
      });
      cursor = page.has("nextCursor") ? page.get("nextCursor").asText() : null;
      pages++;
      assertThat(pages).isLessThanOrEqualTo(4);
    } while (cursor != null);

    assertThat(seen).doesNotHaveDuplicates().hasSize(7);
    assertThat(new HashSet<>(seen)).isEqualTo(submitted);
    assertThat(payloads).containsExactly(6, 5, 4, 3, 2, 1, 0);
  }

  @Test
  void listFiltersByState() throws Exception {
    submitOk("{\"queue\": \"paging\", \"delay\": \"1h\"}");
    JsonNode page = TestServer.json(server.get("/api/v1/jobs?queue=paging&state=scheduled&limit=500"));
    assertThat(page.get("items")).isNotEmpty()
        .allSatisfy(j -> assertThat(j.get("state").asText()).isEqualTo("scheduled"));
    JsonNode all = TestServer.json(server.get("/api/v1/jobs?queue=&state=&limit=&cursor="));
    assertThat(all.get("items").size()).isBetween(1, HttpApi.DEFAULT_LIMIT);
  }

  @Test
  void badListParametersAre400NamingTheParameter() throws Exception {
    for (String[] c : List.of(
        new String[] {"limit=0", "limit"}, new String[] {"limit=501", "limit"},
        new String[] {"limit=abc", "limit"}, new String[] {"state=bogus", "state"},
        new String[] {"colour=red", "colour"}, new String[] {"queue=a&queue=b", "queue"},
        new String[] {"cursor=not-a-cursor", "cursor"})) {
      HttpResponse<String> r = server.get("/api/v1/jobs?" + c[0]);
      assertThat(r.statusCode()).as(c[0]).isEqualTo(400);
      assertProblem(r, 400);
      assertThat(TestServer.json(r).get("errors").get(0).get("field").asText()).isEqualTo(c[1]);
    }
    HttpResponse<String> dead = server.get("/api/v1/dead?state=ready");
    assertThat(dead.statusCode()).isEqualTo(400);
  }

  // ---- cancel, dead letters, requeue -----------------------------------------------------------

  @Test
  void cancelThenCancelAgainIs409() throws Exception {
    String id = submitOk("{\"queue\": \"demo\"}").get("id").asText();

    HttpResponse<String> r = server.post("/api/v1/jobs/" + id + "/cancel", null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(TestServer.json(r).get("state").asText()).isEqualTo("cancelled");
    assertThat(TestServer.json(r).get("finishedAt").isNull()).isFalse();

    HttpResponse<String> again = server.post("/api/v1/jobs/" + id + "/cancel", null);
    assertThat(again.statusCode()).isEqualTo(409);
    assertProblem(again, 409);
    assertThat(server.post("/api/v1/jobs/missing-id/cancel", null).statusCode()).isEqualTo(404);
  }

  @Test
  void deadJobShowsInTheDeadListAndRequeueKeepsItsHistory() throws Exception {
    JsonNode job = submitOk("{\"queue\": \"dlq\", \"partitionKey\": \"dead-letters\"}");
    String id = job.get("id").asText();
    makeDead(job.get("partition").asInt(), id);

    JsonNode dead = TestServer.json(server.get("/api/v1/dead?queue=dlq"));
    assertThat(dead.get("items")).extracting(j -> j.get("id").asText()).contains(id);
    assertThat(dead.get("items")).allSatisfy(j -> {
      assertThat(j.get("state").asText()).isEqualTo("dead");
      assertThat(j.get("queue").asText()).isEqualTo("dlq");
    });
    JsonNode deadJob = TestServer.json(server.get("/api/v1/jobs/" + id));
    assertThat(deadJob.get("attempts")).hasSize(1);
    JsonNode attempt = deadJob.get("attempts").get(0);
    assertThat(attempt.get("number").asInt()).isEqualTo(1);
    assertThat(attempt.get("outcome").asText()).isEqualTo("failed");
    assertThat(attempt.get("error").asText()).isEqualTo("exit code 3");
    assertThat(attempt.get("exitCode").asInt()).isEqualTo(3);
    assertThat(attempt.get("worker").asText()).isEqualTo("w-1");
    assertThat(attempt.get("runner").asText()).isEqualTo("test-runner");
    server.woken.clear();

    HttpResponse<String> r = server.post("/api/v1/dead/" + id + "/requeue", null);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode requeued = TestServer.json(r);
    assertThat(requeued.get("state").asText()).isEqualTo("ready");
    assertThat(requeued.get("attemptCount").asInt()).isZero();
    assertThat(requeued.get("attempts")).hasSize(1);
    assertThat(server.woken).containsExactly(Set.of(job.get("partition").asInt()));
    assertThat(TestServer.json(server.get("/api/v1/dead?queue=dlq")).get("items"))
        .extracting(j -> j.get("id").asText()).doesNotContain(id);

    HttpResponse<String> again = server.post("/api/v1/dead/" + id + "/requeue", null);
    assertThat(again.statusCode()).isEqualTo(409);
    assertProblem(again, 409);
    assertThat(server.post("/api/v1/dead/missing-id/requeue", null).statusCode()).isEqualTo(404);
  }

  static void makeDead(int partition, String id) throws Exception {
    Instant now = Instant.now();
    List<ClaimedJob> claimed = server.store.claim(new ClaimRequest(partition, Set.of("dlq"), Set.of(), 100,
        "test-runner", Duration.ofSeconds(30)), at(now)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    ClaimedJob c = claimed.stream().filter(j -> j.id().equals(id)).findFirst().orElseThrow();
    server.store.complete(List.of(Completion.failed(c, false, "exit code 3", 3, "boom", "w-1", now.plusMillis(5))),
        at(now.plusMillis(5))).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  // ---- attempt logs, queues, runners, metrics --------------------------------------------------

  @Test
  void attemptLogIsServedAsTextAnd404WhenAbsent() throws Exception {
    String id = submitOk("{\"queue\": \"demo\"}").get("id").asText();
    Path file = server.logDir.resolve(id).resolve("1.log");
    Files.createDirectories(file.getParent());
    Files.writeString(file, "line one\nline two ünïcode\n");

    HttpResponse<String> r = server.get("/api/v1/jobs/" + id + "/attempts/1/log");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
    assertThat(r.body()).isEqualTo("line one\nline two ünïcode\n");

    HttpResponse<String> missing = server.get("/api/v1/jobs/" + id + "/attempts/2/log");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertProblem(missing, 404);
    assertThat(server.get("/api/v1/jobs/%2E%2E/attempts/1/log").statusCode()).isEqualTo(404);
  }

  @Test
  void queuesListsEveryConfiguredQueueWithCounts() throws Exception {
    submitOk("{\"queue\": \"reports\", \"delay\": \"1h\"}");
    HttpResponse<String> r = server.get("/api/v1/queues");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode items = TestServer.json(r).get("items");
    assertThat(items).extracting(q -> q.get("queue").asText())
        .containsAll(server.settings.queues().keySet());
    JsonNode empty = find(items, "empty");
    for (String f : List.of("scheduled", "ready", "running", "succeeded", "dead", "cancelled", "oldestReadyAgeMs")) {
      assertThat(empty.get(f).asLong()).as(f).isZero();
    }
    assertThat(find(items, "reports").get("scheduled").asLong()).isPositive();
  }

  private static JsonNode find(JsonNode items, String queue) {
    for (JsonNode q : items) {
      if (q.get("queue").asText().equals(queue)) {
        return q;
      }
    }
    throw new AssertionError("no queue " + queue + " in " + items);
  }

  @Test
  void runnersShowsTheSlotTable() throws Exception {
    HttpResponse<String> r = server.get("/api/v1/runners");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(TestServer.json(r)).isEqualTo(Json.MAPPER.readTree("""
        {"items": [{"id": "host-a-17", "index": 0, "count": 2, "alive": true, "cycle": "PT1S",
                    "windowStart": "PT0.02S", "windowEnd": "PT0.48S", "partitions": [0, 2, 4],
                    "lastSlotWorkMs": 12, "overruns": 3, "buffered": 40, "running": 7}]}"""));
  }

  @Test
  void metricsServesThePrometheusText() throws Exception {
    HttpResponse<String> r = server.get("/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain").contains("0.0.4");
    assertThat(r.body()).contains("slotted_jobs_submitted_total{queue=\"reports\"} 1");
  }

  // ---- routing errors --------------------------------------------------------------------------

  @Test
  void unknownRouteIs404AndWrongMethodIs405AsProblems() throws Exception {
    HttpResponse<String> r = server.get("/api/v1/nothing-here");
    assertThat(r.statusCode()).isEqualTo(404);
    assertProblem(r, 404);
    assertThat(server.get("/nothing-here").statusCode()).isEqualTo(404);
    assertThat(server.get("/").statusCode()).as("the dashboard").isEqualTo(200);

    HttpResponse<String> m = server.send(HttpRequest.newBuilder(server.base.resolve("/api/v1/jobs")).DELETE());
    assertThat(m.statusCode()).isEqualTo(405);
    assertProblem(m, 405);
    assertThat(server.post("/api/v1/queues", "{}").statusCode()).isEqualTo(405);
    assertThat(server.get("/api/v1/jobs/batch").statusCode()).as("GET of a job named batch").isEqualTo(404);
  }

  static void assertProblem(HttpResponse<String> r, int status) throws Exception {
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    JsonNode p = TestServer.json(r);
    assertThat(p.get("status").asInt()).isEqualTo(status);
    assertThat(p.get("type").asText()).isNotBlank();
    assertThat(p.get("title").asText()).isNotBlank();
    assertThat(p.get("detail").asText()).isNotBlank();
  }
}
