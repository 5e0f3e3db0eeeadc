package dev.slotted.orchestrator.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 9: each input that used to leak into the store, answer 500, or be read as something else.
 * Every rejection is a 400 problem naming the field, and the database files are unchanged.
 */
class BadInputTest {
  @TempDir static Path dir;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.startWithSchedules(dir, "", TestStores.sqlite(dir));
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private static TreeMap<String, String> snapshot() throws Exception {
    return DbSnapshot.of(dir.resolve("slotted.db"), dir.resolve("journal.db"));
  }

  /** Posts (or puts) {@code body}; asserts a 400 problem naming {@code field} and no change to the files. */
  private static void refused(String method, String path, String body, String field) throws Exception {
    TreeMap<String, String> before = snapshot();
    HttpResponse<String> r = method.equals("PUT") ? server.put(path, body) : server.post(path, body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(fields(r)).as(r.body()).contains(field);
    assertThat(snapshot()).isEqualTo(before);
  }

  private static List<String> fields(HttpResponse<String> r) throws Exception {
    List<String> out = new ArrayList<>();
    TestServer.json(r).path("errors").forEach(e -> out.add(e.get("field").asText()));
    return out;
  }

  @Test
  void aRejectedBatchLeavesNothingBehindForTheNextOne() throws Exception {
    HttpResponse<String> k1 = server.post("/api/v1/jobs", "{\"queue\":\"demo\",\"idempotencyKey\":\"batch-k1\"}");
    assertThat(k1.statusCode()).isEqualTo(201);
    refused("POST", "/api/v1/jobs/batch", """
        {"jobs":[{"queue":"demo","delay":"1h","payload":{"from":"REJECTED"}},
                 {"queue":"demo","runAt":"+1000000000-01-01T00:00:00Z"}]}""", "jobs[1].runAt");
    HttpResponse<String> r = server.post("/api/v1/jobs/batch", """
        {"jobs":[{"queue":"demo","delay":"1h","payload":{"from":"innocent"}},
                 {"queue":"demo","idempotencyKey":"batch-k1"}]}""");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    JsonNode items = TestServer.json(r).get("items");
    assertThat(items.get(1).get("id").asText()).isEqualTo(TestServer.json(k1).get("id").asText());
    JsonNode stored = TestServer.json(server.get("/api/v1/jobs/" + items.get(0).get("id").asText()));
    assertThat(stored.get("payload").toString()).isEqualTo("{\"from\":\"innocent\"}");
  }

  @ParameterizedTest
  @ValueSource(strings = {"payload", "idempotencyKey", "partitionKey"})
  void aLoneSurrogateIsA400NamingTheFieldAndNothingIsWritten(String field) throws Exception {
    String value = field.equals("payload") ? "{\"from\":\"\\ud800\"}" : "\"\\udc00x\"";
    refused("POST", "/api/v1/jobs", "{\"queue\":\"demo\",\"" + field + "\":" + value + "}",
        field.equals("payload") ? "payload.from" : field);
    refused("POST", "/api/v1/jobs/batch", "{\"jobs\":[{\"queue\":\"demo\"},{\"queue\":\"demo\",\"" + field + "\":"
        + value + "}]}", field.equals("payload") ? "jobs[1].payload.from" : "jobs[1]." + field);
  }

  @Test
  void aLoneSurrogateInAFieldNameOrAnUnknownQueueIsA400() throws Exception {
    // Jackson itself refuses a broken surrogate pair in a field name: malformed JSON, no field.
    TreeMap<String, String> before = snapshot();
    HttpResponse<String> r = server.post("/api/v1/jobs", "{\"queue\":\"demo\",\"payload\":{\"\\ud800\":1}}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(snapshot()).isEqualTo(before);
    refused("POST", "/api/v1/jobs", "{\"queue\":\"x\\ud800\"}", "queue");
  }

  @Test
  void nulIsRefusedInKeysAndKeptInPayloads() throws Exception {
    refused("POST", "/api/v1/jobs", "{\"queue\":\"demo\",\"idempotencyKey\":\"a\\u0000b\"}", "idempotencyKey");
    HttpResponse<String> r = server.post("/api/v1/jobs", "{\"queue\":\"demo\",\"payload\":\"a\\u0000b\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    String id = TestServer.json(r).get("id").asText();
    assertThat(TestServer.json(server.get("/api/v1/jobs/" + id)).get("payload").textValue()).isEqualTo("a\u0000b");
  }

  @Test
  void aScheduleWithALoneSurrogateIsRefusedAndListingKeepsWorking() throws Exception {
    refused("POST", "/api/v1/schedules", """
        {"name":"poison","cron":"0 3 * * *","job":{"queue":"demo","payload":{"x":"\\ud800"}}}""", "job.payload.x");
    assertThat(server.get("/api/v1/schedules").statusCode()).isEqualTo(200);
  }

  @Test
  void overflowsAre400sNamingTheField() throws Exception {
    refused("POST", "/api/v1/jobs", "{\"queue\":\"demo\",\"timeout\":\"PT9999999999999H\"}", "timeout");
    refused("POST", "/api/v1/jobs", "{\"queue\":\"demo\",\"delay\":\"PT2562047788015H\"}", "delay");
    refused("POST", "/api/v1/jobs", "{\"queue\":\"demo\",\"runAt\":\"+300000000-01-01T00:00:00Z\"}", "runAt");
    refused("POST", "/api/v1/jobs", "{\"queue\":\"demo\",\"runAt\":\"-300000000-01-01T00:00:00Z\"}", "runAt");
    refused("POST", "/api/v1/jobs", "{\"queue\":\"demo\",\"retry\":{\"policy\":\"fixed\",\"delay\":\"PT9999999999999H\"}}",
        "retry.delay");
    refused("POST", "/api/v1/schedules", """
        {"name":"big-timeout","cron":"0 3 * * *","job":{"queue":"demo","timeout":"PT9999999999999H"}}""",
        "job.timeout");
    refused("POST", "/api/v1/schedules", """
        {"name":"big-timeout","cron":"0 3 * * *","job":{"queue":"demo","timeout":"31d"}}""", "job.timeout");
    HttpResponse<String> created = server.post("/api/v1/schedules",
        "{\"name\":\"nightly\",\"cron\":\"0 3 * * *\",\"job\":{\"queue\":\"demo\"}}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    HttpResponse<String> next = server.get("/api/v1/schedules/nightly/next?from=%2B999999999-12-31T23:59:59Z");
    assertThat(next.statusCode()).as(next.body()).isEqualTo(400);
    assertThat(fields(next)).contains("from");
  }

  @Test
  void aSubMillisecondTimeoutIsRefusedLikeZero() throws Exception {
    refused("POST", "/api/v1/jobs", "{\"queue\":\"demo\",\"timeout\":\"PT0.0001S\"}", "timeout");
    refused("POST", "/api/v1/jobs", "{\"queue\":\"demo\",\"timeout\":\"0s\"}", "timeout");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "   ", "GMT+5", "+05:00"})
  void blankAndOffsetTimezonesAreRefused(String tz) throws Exception {
    refused("POST", "/api/v1/schedules", "{\"name\":\"tz\",\"cron\":\"0 3 * * *\",\"timezone\":\"" + tz
        + "\",\"job\":{\"queue\":\"demo\"}}", "timezone");
  }

  @Test
  void tooLongUrisAndTooLargeHeadersAreProblems() throws Exception {
    HttpResponse<String> uri = server.get("/api/v1/jobs/" + "x".repeat(10_000));
    assertThat(uri.statusCode()).isEqualTo(414);
    assertThat(uri.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(TestServer.json(uri).get("status").asInt()).isEqualTo(414);
    HttpResponse<String> headers = server.get("/api/v1/queues", "X-Big", "y".repeat(20_000));
    assertThat(headers.statusCode()).isEqualTo(431);
    assertThat(headers.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(TestServer.json(headers).get("status").asInt()).isEqualTo(431);
  }
}
