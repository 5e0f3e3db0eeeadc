package dev.slotted.orchestrator.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every schedule route and rejection, against a real server, journal and store. */
class ScheduleRoutesTest {
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

  private static JsonNode created(String body) throws Exception {
    HttpResponse<String> r = server.post("/api/v1/schedules", body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return TestServer.json(r);
  }

  private static Map<String, Long> journal() throws Exception {
    return server.schedules.versions().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static List<String> fields(HttpResponse<String> r) throws Exception {
    List<String> out = new ArrayList<>();
    TestServer.json(r).path("errors").forEach(e -> out.add(e.get("field").asText()));
    return out;
  }

  @Test
  void createAnswers201WithTheScheduleItsNextFireTimesAndAnEmptyHistory() throws Exception {
    Instant before = Instant.now();
    JsonNode s = created("""
        {"name": "nightly", "cron": "0 3 * * *", "timezone": "Europe/Berlin",
         "job": {"queue": "reports", "payload": {"kind": "daily"}, "priority": 5, "tags": ["gpu"], "timeout": "1h"},
         "misfire": "catch-up", "overlap": "skip"}""");

    assertThat(s.get("name").asText()).isEqualTo("nightly");
    assertThat(s.get("cron").asText()).isEqualTo("0 3 * * *");
    assertThat(s.get("every").isNull()).isTrue();
    assertThat(s.get("timezone").asText()).isEqualTo("Europe/Berlin");
    assertThat(s.get("job").toString()).isEqualTo(
        "{\"queue\":\"reports\",\"payload\":{\"kind\":\"daily\"},\"priority\":5,\"maxAttempts\":null,"
            + "\"tags\":[\"gpu\"],\"timeout\":\"PT1H\"}");
    assertThat(s.get("misfire").asText()).isEqualTo("catch-up");
    assertThat(s.get("overlap").asText()).isEqualTo("skip");
    assertThat(s.get("paused").asBoolean()).isFalse();
    assertThat(Instant.parse(s.get("createdAt").asText())).isBetween(before.minusMillis(1), Instant.now());
    assertThat(s.get("lastFire").isNull()).isTrue();
    assertThat(s.get("recentFires")).isEmpty();
    assertThat(s.get("nextFireTimes")).hasSize(5);
    Instant first = Instant.parse(s.get("nextFireTimes").get(0).asText());
    assertThat(first.atZone(java.time.ZoneId.of("Europe/Berlin")).getHour()).isEqualTo(3);
    assertThat(first).isAfter(before);

    HttpResponse<String> got = server.get("/api/v1/schedules/nightly");
    assertThat(got.statusCode()).isEqualTo(200);
    assertThat(TestServer.json(got).get("job")).isEqualTo(s.get("job"));
  }

  @Test
  void anEveryScheduleIsAnchoredAtItsCreationSecond() throws Exception {
    JsonNode s = created("{\"name\": \"heartbeat\", \"every\": \"30s\", \"job\": {\"queue\": \"demo\"}}");
    assertThat(s.get("every").asText()).isEqualTo("PT30S");
    Instant anchor = Instant.parse(s.get("anchor").asText());
    assertThat(anchor.getNano()).isZero();
    assertThat(Instant.parse(s.get("nextFireTimes").get(1).asText()))
        .isEqualTo(Instant.parse(s.get("nextFireTimes").get(0).asText()).plusSeconds(30));
  }

  @Test
  void creatingAnExistingNameIs409AndWritesNothing() throws Exception {
    created("{\"name\": \"taken\", \"cron\": \"@hourly\", \"job\": {\"queue\": \"demo\"}}");
    Map<String, Long> before = journal();

    HttpResponse<String> r = server.post("/api/v1/schedules",
        "{\"name\": \"taken\", \"cron\": \"@daily\", \"job\": {\"queue\": \"demo\"}}");

    assertThat(r.statusCode()).isEqualTo(409);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(TestServer.json(r).get("detail").asText()).contains("taken");
    assertThat(journal()).isEqualTo(before);
    assertThat(TestServer.json(server.get("/api/v1/schedules/taken")).get("cron").asText()).isEqualTo("@hourly");
  }

  static Stream<Arguments> badSchedules() {
    String big = "\"" + "x".repeat(2100) + "\"";
    String job = "\"job\": {\"queue\": \"demo\"}";
    return Stream.of(
        Arguments.of("{\"name\": ", "malformed-json", null),
        Arguments.of("[]", "validation", "body"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"@daily\", " + job + ", \"colour\": \"red\"}", "validation", "colour"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"@daily\", \"job\": {\"queue\": \"demo\", \"bogus\": 1}}",
            "validation", "job.bogus"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"0 25 * * *\", " + job + "}", "validation", "cron"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"every day\", " + job + "}", "validation", "cron"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"0 0 31 2 *\", " + job + "}", "validation", "cron"),
        Arguments.of("{\"name\": \"b1\", \"cron\": 5, " + job + "}", "validation", "cron"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"@daily\", \"every\": \"1m\", " + job + "}", "validation", "cron"),
        Arguments.of("{\"name\": \"b1\", " + job + "}", "validation", "cron"),
        Arguments.of("{\"name\": \"b1\", \"every\": \"500ms\", " + job + "}", "validation", "every"),
        Arguments.of("{\"name\": \"b1\", \"every\": \"often\", " + job + "}", "validation", "every"),
        Arguments.of("{\"name\": \"b1\", \"every\": 10, " + job + "}", "validation", "every"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"@daily\", \"anchor\": \"2026-01-01T00:00:00Z\", " + job + "}",
            "validation", "anchor"),
        Arguments.of("{\"name\": \"b1\", \"every\": \"1m\", \"anchor\": \"yesterday\", " + job + "}", "validation", "anchor"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"@daily\", \"timezone\": \"Mars/Olympus\", " + job + "}",
            "validation", "timezone"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"@daily\", \"job\": {\"queue\": \"nowhere\"}}", "validation", "job.queue"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"@daily\", \"job\": {}}", "validation", "job.queue"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"@daily\"}", "validation", "job"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"@daily\", \"job\": \"demo\"}", "validation", "job"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"@daily\", \"job\": {\"queue\": \"demo\", \"priority\": 5000}}",
            "validation", "job.priority"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"@daily\", \"job\": {\"queue\": \"demo\", \"maxAttempts\": 0}}",
            "validation", "job.maxAttempts"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"@daily\", \"job\": {\"queue\": \"demo\", \"timeout\": \"soon\"}}",
            "validation", "job.timeout"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"@daily\", \"job\": {\"queue\": \"demo\", \"tags\": [\"a b\"]}}",
            "validation", "job.tags[0]"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"@daily\", \"job\": {\"queue\": \"demo\", \"payload\": " + big + "}}",
            "validation", "job.payload"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"@daily\", \"misfire\": \"sometimes\", " + job + "}", "validation", "misfire"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"@daily\", \"overlap\": \"queue\", " + job + "}", "validation", "overlap"),
        Arguments.of("{\"name\": \"b1\", \"cron\": \"@daily\", \"paused\": \"yes\", " + job + "}", "validation", "paused"),
        Arguments.of("{\"name\": \"Bad Name\", \"cron\": \"@daily\", " + job + "}", "validation", "name"),
        Arguments.of("{\"cron\": \"@daily\", " + job + "}", "validation", "name"));
  }

  @ParameterizedTest
  @MethodSource("badSchedules")
  void aBadScheduleIs400NamingTheFieldAndWritesNothing(String body, String type, String field) throws Exception {
    Map<String, Long> before = journal();

    HttpResponse<String> r = server.post("/api/v1/schedules", body);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    JsonNode p = TestServer.json(r);
    assertThat(p.get("type").asText()).endsWith("/" + type);
    assertThat(p.get("status").asInt()).isEqualTo(400);
    if (field != null) {
      assertThat(fields(r)).contains(field);
    }
    assertThat(journal()).isEqualTo(before);
  }

  @Test
  void theUnknownQueueErrorListsTheKnownQueues() throws Exception {
    HttpResponse<String> r = server.post("/api/v1/schedules",
        "{\"name\": \"q1\", \"cron\": \"@daily\", \"job\": {\"queue\": \"nowhere\"}}");
    assertThat(r.body()).contains("reports").contains("demo");
  }

  @Test
  void listShowsEverySchedule() throws Exception {
    created("{\"name\": \"list-a\", \"cron\": \"*/5 * * * *\", \"job\": {\"queue\": \"demo\"}}");
    created("{\"name\": \"list-b\", \"every\": \"1h\", \"paused\": true, \"job\": {\"queue\": \"demo\"}}");

    HttpResponse<String> r = server.get("/api/v1/schedules");

    assertThat(r.statusCode()).isEqualTo(200);
    List<String> names = new ArrayList<>();
    JsonNode b = null;
    for (JsonNode s : TestServer.json(r).get("items")) {
      names.add(s.get("name").asText());
      if (s.get("name").asText().equals("list-b")) {
        b = s;
      }
    }
    assertThat(names).contains("list-a", "list-b").isSorted();
    assertThat(b.get("paused").asBoolean()).isTrue();
    assertThat(b.get("nextFireTime").isNull()).as("a paused schedule has no next fire").isTrue();
    assertThat(server.get("/api/v1/schedules?limit=3").statusCode()).isEqualTo(400);
  }

  @Test
  void unknownNamesAre404() throws Exception {
    for (HttpResponse<String> r : List.of(
        server.get("/api/v1/schedules/ghost"),
        server.get("/api/v1/schedules/Not%20A%20Name"),
        server.put("/api/v1/schedules/ghost", "{\"cron\": \"@daily\", \"job\": {\"queue\": \"demo\"}}"),
        server.delete("/api/v1/schedules/ghost"),
        server.post("/api/v1/schedules/ghost/pause", null),
        server.post("/api/v1/schedules/ghost/resume", null),
        server.post("/api/v1/schedules/ghost/trigger", null),
        server.get("/api/v1/schedules/ghost/next"))) {
      assertThat(r.statusCode()).as(r.request().method() + " " + r.request().uri()).isEqualTo(404);
      assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    }
    assertThat(journal()).doesNotContainKey("ghost");
  }

  @Test
  void putReplacesTheSpecAndKeepsThePauseWhenLeftOut() throws Exception {
    created("{\"name\": \"edit\", \"cron\": \"0 3 * * *\", \"paused\": true, \"job\": {\"queue\": \"demo\"}}");

    HttpResponse<String> r = server.put("/api/v1/schedules/edit",
        "{\"cron\": \"0 4 * * *\", \"timezone\": \"Asia/Tokyo\", \"job\": {\"queue\": \"reports\", \"payload\": 7}}");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode s = TestServer.json(r);
    assertThat(s.get("cron").asText()).isEqualTo("0 4 * * *");
    assertThat(s.get("timezone").asText()).isEqualTo("Asia/Tokyo");
    assertThat(s.get("job").get("queue").asText()).isEqualTo("reports");
    assertThat(s.get("paused").asBoolean()).isTrue();

    JsonNode resumed = TestServer.json(server.put("/api/v1/schedules/edit",
        "{\"name\": \"edit\", \"cron\": \"0 4 * * *\", \"paused\": false, \"job\": {\"queue\": \"reports\"}}"));
    assertThat(resumed.get("paused").asBoolean()).isFalse();
    assertThat(resumed.get("nextFireTimes")).hasSize(5);
  }

  @Test
  void aBadPutIs400AndWritesNothing() throws Exception {
    created("{\"name\": \"edit2\", \"cron\": \"0 3 * * *\", \"job\": {\"queue\": \"demo\"}}");
    Map<String, Long> before = journal();

    HttpResponse<String> wrongName = server.put("/api/v1/schedules/edit2",
        "{\"name\": \"other\", \"cron\": \"0 4 * * *\", \"job\": {\"queue\": \"demo\"}}");
    HttpResponse<String> badCron = server.put("/api/v1/schedules/edit2",
        "{\"cron\": \"0 4 * *\", \"job\": {\"queue\": \"demo\"}}");
    HttpResponse<String> badQueue = server.put("/api/v1/schedules/edit2",
        "{\"cron\": \"0 4 * * *\", \"job\": {\"queue\": \"nowhere\"}}");

    assertThat(wrongName.statusCode()).isEqualTo(400);
    assertThat(fields(wrongName)).containsExactly("name");
    assertThat(fields(badCron)).containsExactly("cron");
    assertThat(fields(badQueue)).containsExactly("job.queue");
    assertThat(journal()).isEqualTo(before);
  }

  @Test
  void pauseAndResumeAreIdempotentAndShowInTheSchedule() throws Exception {
    created("{\"name\": \"pr\", \"every\": \"1m\", \"job\": {\"queue\": \"demo\"}}");

    HttpResponse<String> paused = server.post("/api/v1/schedules/pr/pause", null);
    assertThat(paused.statusCode()).isEqualTo(200);
    assertThat(TestServer.json(paused).get("paused").asBoolean()).isTrue();
    assertThat(TestServer.json(paused).get("nextFireTimes")).isEmpty();
    long version = journal().get("pr");
    assertThat(TestServer.json(server.post("/api/v1/schedules/pr/pause", null)).get("paused").asBoolean()).isTrue();
    assertThat(journal().get("pr")).as("a repeated pause writes nothing").isEqualTo(version);

    HttpResponse<String> resumed = server.post("/api/v1/schedules/pr/resume", null);
    assertThat(resumed.statusCode()).isEqualTo(200);
    assertThat(TestServer.json(resumed).get("paused").asBoolean()).isFalse();
    assertThat(TestServer.json(resumed).get("nextFireTimes")).hasSize(5);
  }

  @Test
  void triggerSubmitsTheJobNowWithTheQueueDefaultsAndRecordsIt() throws Exception {
    created("{\"name\": \"trig\", \"cron\": \"0 3 1 1 *\", \"paused\": true,"
        + " \"job\": {\"queue\": \"reports\", \"payload\": {\"a\": 1}, \"priority\": 9, \"tags\": [\"gpu\"]}}");
    Instant before = Instant.now();

    HttpResponse<String> r = server.post("/api/v1/schedules/trig/trigger", null);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    JsonNode job = TestServer.json(r);
    assertThat(job.get("queue").asText()).isEqualTo("reports");
    assertThat(job.get("state").asText()).isEqualTo("ready");
    assertThat(job.get("payload").toString()).isEqualTo("{\"a\":1}");
    assertThat(job.get("priority").asInt()).isEqualTo(9);
    assertThat(job.get("maxAttempts").asInt()).as("the queue's max-attempts").isEqualTo(3);
    assertThat(job.get("timeout").asText()).as("the queue's timeout").isEqualTo("PT1H");
    assertThat(job.get("tags").toString()).isEqualTo("[\"gpu\"]");
    assertThat(job.get("idempotencyKey").asText()).startsWith("schedule:trig:trigger:");
    assertThat(job.get("partitionKey").asText()).isEqualTo("schedule:trig");
    assertThat(Instant.parse(job.get("runAt").asText())).isBetween(before.minusMillis(1), Instant.now());
    assertThat(server.woken).contains(java.util.Set.of(job.get("partition").asInt()));

    JsonNode s = TestServer.json(server.get("/api/v1/schedules/trig"));
    assertThat(s.get("recentFires")).hasSize(1);
    JsonNode fire = s.get("recentFires").get(0);
    assertThat(fire.get("kind").asText()).isEqualTo("triggered");
    assertThat(fire.get("jobId").asText()).isEqualTo(job.get("id").asText());
    assertThat(s.get("lastFire").isNull()).as("a trigger is not a fire time").isTrue();
    assertThat(s.get("paused").asBoolean()).isTrue();
  }

  @Test
  void deleteAnswers204AndTheNameCanBeUsedAgain() throws Exception {
    created("{\"name\": \"gone\", \"cron\": \"@daily\", \"job\": {\"queue\": \"demo\"}}");

    HttpResponse<String> r = server.delete("/api/v1/schedules/gone");

    assertThat(r.statusCode()).isEqualTo(204);
    assertThat(server.get("/api/v1/schedules/gone").statusCode()).isEqualTo(404);
    assertThat(server.delete("/api/v1/schedules/gone").statusCode()).isEqualTo(404);
    List<String> names = new ArrayList<>();
    TestServer.json(server.get("/api/v1/schedules")).get("items").forEach(s -> names.add(s.get("name").asText()));
    assertThat(names).doesNotContain("gone");
    JsonNode again = created("{\"name\": \"gone\", \"cron\": \"@hourly\", \"job\": {\"queue\": \"demo\"}}");
    assertThat(again.get("cron").asText()).isEqualTo("@hourly");
  }

  @Test
  void nextShowsFireTimesAcrossDstWithTheirWallClockTime() throws Exception {
    created("{\"name\": \"ny\", \"cron\": \"30 2 * * *\", \"timezone\": \"America/New_York\", \"job\": {\"queue\": \"demo\"}}");

    HttpResponse<String> r = server.get("/api/v1/schedules/ny/next?from=2026-03-07T00:00:00Z&count=3");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode n = TestServer.json(r);
    assertThat(n.get("timezone").asText()).isEqualTo("America/New_York");
    assertThat(n.get("from").asText()).isEqualTo("2026-03-07T00:00:00Z");
    List<String> instants = new ArrayList<>();
    List<String> locals = new ArrayList<>();
    n.get("items").forEach(i -> {
      instants.add(i.get("instant").asText());
      locals.add(i.get("local").asText());
    });
    // 02:30 does not exist on 8 March 2026 in New York: it fires when the gap ends, 03:00 EDT.
    assertThat(instants).containsExactly("2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z");
    assertThat(locals).containsExactly("2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00");
    assertThat(TestServer.json(server.get("/api/v1/schedules/ny/next")).get("items")).hasSize(ScheduleRoutes.DEFAULT_NEXT);
    assertThat(TestServer.json(server.get("/api/v1/schedules/ny/next?count=100")).get("items")).hasSize(100);
  }

  @Test
  void badNextParametersAre400() throws Exception {
    created("{\"name\": \"nx\", \"cron\": \"@daily\", \"job\": {\"queue\": \"demo\"}}");
    assertThat(fields(server.get("/api/v1/schedules/nx/next?count=101"))).containsExactly("count");
    assertThat(fields(server.get("/api/v1/schedules/nx/next?count=0"))).containsExactly("count");
    assertThat(fields(server.get("/api/v1/schedules/nx/next?count=ten"))).containsExactly("count");
    assertThat(fields(server.get("/api/v1/schedules/nx/next?from=tomorrow"))).containsExactly("from");
    assertThat(fields(server.get("/api/v1/schedules/nx/next?until=2030-01-01T00:00:00Z"))).containsExactly("until");
    assertThat(server.get("/api/v1/schedules/nx/next?count=101").statusCode()).isEqualTo(400);
  }

  @Test
  void aServerWithoutSchedulesAnswers503() throws Exception {
    Path other = dir.resolve("plain");
    java.nio.file.Files.createDirectories(other);
    try (TestServer plain = TestServer.start(other, "", TestStores.sqlite(other))) {
      HttpResponse<String> r = plain.get("/api/v1/schedules");
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    }
  }
}
