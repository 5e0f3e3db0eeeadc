package dev.slotted.orchestrator.cli;

import static dev.slotted.orchestrator.store.JobStoreContractTest.at;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.slotted.orchestrator.http.TestServer;
import dev.slotted.orchestrator.store.ClaimRequest;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The client commands, run in-process against a real server: output and exit codes. */
class CliTest {
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  static TestServer server;

  record Run(int exit, String out, String err) {
    JsonNode json() throws Exception {
      return JSON.readTree(out);
    }
  }

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(dir, "", dev.slotted.orchestrator.http.TestStores.sqlite(dir));
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  static Run run(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    if (all.stream().noneMatch(a -> a.startsWith("--server"))) {
      all.add("--server=" + server.base);
    }
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = SlottedCommand.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(all.toArray(String[]::new));
    return new Run(exit, out.toString(), err.toString());
  }

  private static String submitId(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("submit"));
    all.addAll(List.of(args));
    all.add("--json");
    Run r = run(all.toArray(String[]::new));
    assertThat(r.exit()).as(r.err()).isZero();
    return r.json().get("id").asText();
  }

  @Test
  void submitPrintsTheNewJobAndExits0() throws Exception {
    Run r = run("submit", "cli", "--payload", "{\"day\": \"2026-11-21\"}", "--priority", "7", "--max-attempts", "2",
        "--key", "cli-key-1", "--partition-key", "p1", "--tag", "gpu", "--tag", "region-eu", "--timeout", "90s",
        "--delay", "1h");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).matches("(?s)Submitted job \\S+ to cli \\(scheduled, runs at \\S+Z\\)\\n");
    String id = r.out().split(" ")[2];
    JsonNode job = TestServer.json(server.get("/api/v1/jobs/" + id));
    assertThat(job.get("payload").get("day").asText()).isEqualTo("2026-11-21");
    assertThat(job.get("priority").asInt()).isEqualTo(7);
    assertThat(job.get("maxAttempts").asInt()).isEqualTo(2);
    assertThat(job.get("partitionKey").asText()).isEqualTo("p1");
    assertThat(job.get("tags").toString()).isEqualTo("[\"gpu\",\"region-eu\"]");
    assertThat(job.get("timeout").asText()).isEqualTo("PT1M30S");

    Run again = run("submit", "cli", "--key", "cli-key-1");
    assertThat(again.exit()).isZero();
    assertThat(again.out()).contains("Job " + id + " already exists with key cli-key-1");
  }

  @Test
  void submitReadsThePayloadFromAFileAndPrintsJsonWithJsonFlag() throws Exception {
    Path file = dir.resolve("payload.json");
    Files.writeString(file, "{\"rows\": [1, 2, 3]}");
    Run r = run("submit", "cli", "--payload", "@" + file, "--at", "2030-01-01T00:00:00Z", "--json");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.json().get("payload").toString()).isEqualTo("{\"rows\":[1,2,3]}");
    assertThat(r.json().get("runAt").asText()).isEqualTo("2030-01-01T00:00:00Z");
  }

  @Test
  void rejectedSubmitExits2AndPrintsEachField() throws Exception {
    long count = server.countJobs();
    Run r = run("submit", "nowhere", "--priority", "5000", "--timeout", "soon");

    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("rejected by the server (400")
        .containsPattern("(?m)^  queue: unknown queue 'nowhere'; known queues: .*cli.*$")
        .containsPattern("(?m)^  priority: .*-1000 and 1000.*$")
        .containsPattern("(?m)^  timeout: .*soon.*$");
    assertThat(server.countJobs()).isEqualTo(count);
  }

  @Test
  void badLocalInputExits2WithoutCallingTheServer() throws Exception {
    long count = server.countJobs();
    Run badJson = run("submit", "cli", "--payload", "{nope");
    assertThat(badJson.exit()).isEqualTo(2);
    assertThat(badJson.err()).contains("--payload is not valid JSON");

    Run missingFile = run("submit", "cli", "--payload", "@" + dir.resolve("absent.json"));
    assertThat(missingFile.exit()).isEqualTo(2);
    assertThat(missingFile.err()).contains("cannot read the payload file");

    Run both = run("submit", "cli", "--delay", "1s", "--at", "2030-01-01T00:00:00Z");
    assertThat(both.exit()).isEqualTo(2);
    assertThat(both.err()).contains("mutually exclusive");

    Run noQueue = run("submit");
    assertThat(noQueue.exit()).isEqualTo(2);
    Run notANumber = run("submit", "cli", "--priority", "high");
    assertThat(notANumber.exit()).isEqualTo(2);
    Run badServer = run("queues", "--server", "ftp://example");
    assertThat(badServer.exit()).isEqualTo(2);
    assertThat(badServer.err()).contains("--server must be an http");
    assertThat(server.countJobs()).isEqualTo(count);
  }

  @Test
  void jobShowsFieldsAndAttemptsTable() throws Exception {
    String id = submitId("cli", "--key", "job-view", "--payload", "[1,2]");
    Run fresh = run("job", id);
    assertThat(fresh.exit()).isZero();
    assertThat(fresh.out())
        .containsPattern("(?m)^id:\\s+" + id + "$")
        .containsPattern("(?m)^queue:\\s+cli$")
        .containsPattern("(?m)^state:\\s+ready$")
        .containsPattern("(?m)^attempts:\\s+0 of 5$")
        .containsPattern("(?m)^idempotencyKey:\\s+job-view$")
        .containsPattern("(?m)^partitionKey:\\s+-$")
        .containsPattern("(?m)^timeout:\\s+1h$")
        .containsPattern("(?m)^payload:\\s+\\[1,2\\]$")
        .contains("No attempts yet.");

    makeDead(id);
    Run dead = run("job", id);
    assertThat(dead.out()).containsPattern("(?m)^#\\s+RUNNER\\s+WORKER\\s+STARTED\\s+ENDED\\s+OUTCOME\\s+EXIT\\s+ERROR$")
        .containsPattern("(?m)^1\\s+cli-runner\\s+w-9\\s+\\S+Z\\s+\\S+Z\\s+failed\\s+4\\s+exit code 4$");

    Run json = run("job", id, "--json");
    assertThat(json.json().get("state").asText()).isEqualTo("dead");
  }

  @Test
  void missingJobExits1() {
    Run r = run("job", "no-such-job");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("no job with id 'no-such-job'").contains("404");
  }

  @Test
  void jobsListsAPageAndPointsAtTheNext() throws Exception {
    for (int i = 0; i < 3; i++) {
      submitId("paging", "--payload", String.valueOf(i));
    }
    Run r = run("jobs", "--queue", "paging", "--limit", "2");
    assertThat(r.exit()).as(r.err()).isZero();
    String[] lines = r.out().split("\n");
    assertThat(lines[0]).matches("ID\\s+QUEUE\\s+STATE\\s+PRIORITY\\s+ATTEMPTS\\s+CREATED\\s+RUN AT");
    assertThat(lines[1]).matches("\\S+\\s+paging\\s+ready\\s+0\\s+0/5\\s+\\S+Z\\s+\\S+Z");
    assertThat(lines[1].indexOf("paging")).isEqualTo(lines[0].indexOf("QUEUE"));
    assertThat(lines).hasSize(4);
    assertThat(lines[3]).startsWith("(more: slotted jobs --cursor ");

    String cursor = lines[3].substring("(more: slotted jobs --cursor ".length(), lines[3].length() - 1);
    Run next = run("jobs", "--queue", "paging", "--limit", "2", "--cursor", cursor, "--json");
    assertThat(next.exit()).isZero();
    assertThat(next.json().get("items").size()).isBetween(1, 2);

    Run bad = run("jobs", "--limit", "0");
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.err()).contains("limit:");
    Run badState = run("jobs", "--state", "sleeping");
    assertThat(badState.exit()).isEqualTo(2);
    assertThat(badState.err()).contains("state:");
    assertThat(run("jobs", "--queue", "empty").out()).isEqualTo("No jobs.\n");
  }

  @Test
  void cancelExits0ThenExits1WhenAlreadyFinished() throws Exception {
    String id = submitId("cli");
    Run r = run("cancel", id);
    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEqualTo("Cancelled job " + id + " (cancelled)\n");
    Run again = run("cancel", id);
    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.err()).contains("cancelled").contains("409");
  }

  @Test
  void deadListsDeadJobsAndRequeueBringsOneBack() throws Exception {
    String id = submitId("dlq", "--key", "dead-one");
    makeDead(id);

    Run dead = run("dead", "--queue", "dlq");
    assertThat(dead.exit()).isZero();
    assertThat(dead.out()).containsPattern("(?m)^ID\\s+QUEUE\\s+ATTEMPTS\\s+FINISHED\\s+LAST ERROR$")
        .containsPattern("(?m)^" + id + "\\s+dlq\\s+1/1\\s+\\S+Z\\s+exit code 4$");

    Run requeue = run("requeue", id);
    assertThat(requeue.exit()).as(requeue.err()).isZero();
    assertThat(requeue.out()).isEqualTo("Requeued job " + id + " (ready, 1 earlier attempts kept)\n");
    Run again = run("requeue", id);
    assertThat(again.exit()).isEqualTo(1);
  }

  @Test
  void queuesAndRunnersPrintTables() throws Exception {
    Run q = run("queues");
    assertThat(q.exit()).isZero();
    assertThat(q.out()).containsPattern("(?m)^QUEUE\\s+SCHEDULED\\s+READY\\s+RUNNING\\s+SUCCEEDED\\s+DEAD\\s+CANCELLED\\s+OLDEST READY$")
        .containsPattern("(?m)^empty\\s+0\\s+0\\s+0\\s+0\\s+0\\s+0\\s+-$");
    assertThat(run("queues", "--json").json().get("items").size()).isEqualTo(server.settings.queues().size());

    Run r = run("runners");
    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .containsPattern("(?m)^ID\\s+SLOT\\s+ALIVE\\s+CYCLE\\s+WINDOW\\s+PARTITIONS\\s+LAST WORK\\s+OVERRUNS\\s+RUNNING\\s+BUFFERED$")
        .containsPattern("(?m)^host-a-17\\s+0/2\\s+yes\\s+1s\\s+20ms\\.\\.480ms\\s+0,2,4\\s+12ms\\s+3\\s+7\\s+40$");
  }

  @Test
  void noServerExits1WithAPlainMessage() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Run r = run("queues", "--server", "http://127.0.0.1:" + port);
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err().strip()).isEqualTo("slotted: no server at http://127.0.0.1:" + port
        + " (connection refused). Start one with ./slotted serve, or point --server / SLOTTED_SERVER at it.");
  }

  static void makeDead(String id) throws Exception {
    int partition = TestServer.json(server.get("/api/v1/jobs/" + id)).get("partition").asInt();
    Instant now = Instant.now();
    List<ClaimedJob> claimed = server.store.claim(new ClaimRequest(partition, Set.of(), Set.of(), 1000,
        "cli-runner", Duration.ofSeconds(30)), at(now)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    List<Completion> done = new ArrayList<>();
    for (ClaimedJob c : claimed) {
      done.add(c.id().equals(id)
          ? Completion.failed(c, false, "exit code 4", 4, "tail", "w-9", now.plusMillis(3))
          : Completion.succeeded(c, "w-9", now.plusMillis(3)));
    }
    server.store.complete(done, at(now.plusMillis(3))).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
