package dev.slotted.orchestrator.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dashboard's routes without a browser: the page and its scripts, the live feed, find by key. */
class DashboardRoutesTest {
  @TempDir static Path dir;
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(dir, "", TestStores.sqlite(dir));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void thePageAndItsModulesComeFromTheJarWithAStrictContentSecurityPolicy() throws Exception {
    HttpResponse<String> page = server.get("/");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
    assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(
        v -> assertThat(v).contains("default-src 'self'"));
    assertThat(page.body()).contains("/ui/app.js");
    for (String asset : new String[] {"app.js", "util.js", "overview.js", "jobs.js", "job.js", "dead.js",
        "schedules.js", "runners.js", "charts.js"}) {
      HttpResponse<String> js = server.get("/ui/" + asset);
      assertThat(js.statusCode()).as(asset).isEqualTo(200);
      assertThat(js.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).contains("javascript"));
    }
    assertThat(server.get("/ui/style.css").headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/css"));
    assertThat(server.get("/ui/missing.js").statusCode()).isEqualTo(404);
    assertThat(server.get("/ui/..%2Freference.conf").statusCode()).isEqualTo(404);
  }

  @Test
  void theFeedPushesSnapshotsOfQueuesRunnersAndTheNewestJob() throws Exception {
    String id = TestServer.json(server.post("/api/v1/jobs", "{\"queue\":\"reports\",\"payload\":{}}")).get("id").asText();
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<Stream<String>> r = http.send(HttpRequest.newBuilder(server.base.resolve("/api/v1/events"))
        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofLines());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("text/event-stream");
    JsonNode snap = null;
    Iterator<String> lines = r.body().iterator();
    String event = null;
    while (snap == null && lines.hasNext()) {
      String line = lines.next();
      if (line.startsWith("event:")) {
        event = line.substring(6).trim();
      } else if (line.startsWith("data:") && "snapshot".equals(event)) {
        JsonNode n = Json.MAPPER.readTree(line.substring(5));
        if (id.equals(n.path("newestJobId").asText())) {
          snap = n;
        }
      }
    }
    r.body().close();
    assertThat(snap).isNotNull();
    assertThat(snap.get("queues").findValuesAsText("queue")).contains("reports", "demo", "empty");
    assertThat(snap.get("runners").get(0).get("id").asText()).isEqualTo("host-a-17");
    assertThat(snap.get("history").get("succeeded").get("reports")).hasSize(90);
    assertThat(snap.get("jobsVersion").asText()).isNotEmpty();
  }

  @Test
  void aJobIsFoundByItsIdempotencyKeyInAnyQueueOrInOne() throws Exception {
    server.post("/api/v1/jobs", "{\"queue\":\"paging\",\"payload\":{},\"idempotencyKey\":\"find-me\"}");
    server.post("/api/v1/jobs", "{\"queue\":\"demo\",\"payload\":{},\"idempotencyKey\":\"find-me\"}");
    server.post("/api/v1/jobs", "{\"queue\":\"demo\",\"payload\":{},\"idempotencyKey\":\"someone-else\"}");
    JsonNode any = TestServer.json(server.get("/api/v1/jobs?idempotencyKey=find-me"));
    assertThat(any.get("items").findValuesAsText("queue")).containsExactlyInAnyOrder("paging", "demo");
    JsonNode one = TestServer.json(server.get("/api/v1/jobs?idempotencyKey=find-me&queue=demo"));
    assertThat(one.get("items")).hasSize(1);
    assertThat(one.get("items").get(0).get("idempotencyKey").asText()).isEqualTo("find-me");
    assertThat(TestServer.json(server.get("/api/v1/jobs?idempotencyKey=nobody")).get("items")).isEmpty();
  }
}
