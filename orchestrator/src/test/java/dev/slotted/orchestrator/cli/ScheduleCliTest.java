package dev.slotted.orchestrator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.slotted.orchestrator.http.TestServer;
import dev.slotted.orchestrator.http.TestStores;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code slotted schedule ...} run in-process against a real server: output and exit codes. */
class ScheduleCliTest {
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
    server = TestServer.startWithSchedules(dir, "", TestStores.sqlite(dir));
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  static Run run(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    if (args.length > 1) {
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

  @Test
  void addCreatesTheScheduleWithEveryOption() throws Exception {
    Path payload = dir.resolve("payload.json");
    Files.writeString(payload, "{\"report\": \"daily\"}");

    Run r = run("schedule", "add", "cli-nightly", "--cron", "0 3 * * *", "--timezone", "Europe/Berlin",
        "--queue", "reports", "--payload", "@" + payload, "--priority", "4", "--max-attempts", "2",
        "--tag", "gpu", "--timeout", "90s", "--misfire", "catch-up", "--overlap", "skip");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("Created schedule cli-nightly (cron 0 3 * * *, Europe/Berlin), next fire 20");
    Run shown = run("schedule", "show", "cli-nightly", "--json");
    assertThat(shown.exit()).isZero();
    JsonNode s = shown.json();
    assertThat(s.get("misfire").asText()).isEqualTo("catch-up");
    assertThat(s.get("overlap").asText()).isEqualTo("skip");
    assertThat(s.get("job").toString()).isEqualTo("{\"queue\":\"reports\",\"payload\":{\"report\":\"daily\"},"
        + "\"priority\":4,\"maxAttempts\":2,\"tags\":[\"gpu\"],\"timeout\":\"PT1M30S\"}");
  }

  @Test
  void addRejectionsExit2AndWriteNothing() throws Exception {
    Run neither = run("schedule", "add", "cli-bad", "--queue", "demo");
    Run both = run("schedule", "add", "cli-bad", "--cron", "@daily", "--every", "1m", "--queue", "demo");
    Run noQueue = run("schedule", "add", "cli-bad", "--cron", "@daily");
    Run badCron = run("schedule", "add", "cli-bad", "--cron", "61 * * * *", "--queue", "demo");
    Run badZone = run("schedule", "add", "cli-bad", "--cron", "@daily", "--timezone", "Moon/Base", "--queue", "demo");
    Run badQueue = run("schedule", "add", "cli-bad", "--every", "1m", "--queue", "nowhere");
    Run badPayload = run("schedule", "add", "cli-bad", "--every", "1m", "--queue", "demo", "--payload", "{nope");

    for (Run r : List.of(neither, both, noQueue, badCron, badZone, badQueue, badPayload)) {
      assertThat(r.exit()).as(r.err()).isEqualTo(2);
    }
    assertThat(badCron.err()).contains("cron:");
    assertThat(badZone.err()).contains("timezone:");
    assertThat(badQueue.err()).contains("job.queue:").contains("reports");
    assertThat(run("schedule", "show", "cli-bad").exit()).isEqualTo(1);
  }

  @Test
  void addingATakenNameExits1() {
    assertThat(run("schedule", "add", "cli-taken", "--every", "1h", "--queue", "demo").exit()).isZero();
    Run again = run("schedule", "add", "cli-taken", "--every", "2h", "--queue", "demo");
    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.err()).contains("already exists");
  }

  @Test
  void listShowsATableOrJson() throws Exception {
    run("schedule", "add", "cli-list", "--every", "5m", "--queue", "demo", "--paused");

    Run table = run("schedule", "list");
    Run json = run("schedule", "list", "--json");

    assertThat(table.exit()).isZero();
    assertThat(table.out().lines().findFirst().orElseThrow())
        .startsWith("NAME").contains("WHEN").contains("NEXT FIRE").contains("STATE");
    assertThat(table.out()).containsPattern("cli-list +every 5m +UTC +demo +- +- +paused");
    List<String> names = new ArrayList<>();
    json.json().get("items").forEach(i -> names.add(i.get("name").asText()));
    assertThat(names).contains("cli-list");
  }

  @Test
  void pauseResumeTriggerShowAndDelete() throws Exception {
    assertThat(run("schedule", "add", "cli-life", "--cron", "0 0 1 1 *", "--queue", "reports").exit()).isZero();

    Run paused = run("schedule", "pause", "cli-life");
    assertThat(paused.exit()).isZero();
    assertThat(paused.out()).isEqualTo("Paused schedule cli-life\n");
    assertThat(run("schedule", "show", "cli-life").out()).contains("state:").contains("paused")
        .contains("No next fire times (paused).");

    Run trigger = run("schedule", "trigger", "cli-life");
    assertThat(trigger.exit()).as(trigger.err()).isZero();
    assertThat(trigger.out()).matches("Triggered schedule cli-life: job \\S+ on reports \\(ready\\)\\n");
    Run shown = run("schedule", "show", "cli-life");
    assertThat(shown.out()).contains("FIRE TIME").contains("triggered");

    Run resumed = run("schedule", "resume", "cli-life");
    assertThat(resumed.exit()).isZero();
    assertThat(resumed.out()).startsWith("Resumed schedule cli-life, next fire 20");

    Run deleted = run("schedule", "delete", "cli-life");
    assertThat(deleted.exit()).isZero();
    assertThat(deleted.out()).isEqualTo("Deleted schedule cli-life\n");
    for (String cmd : List.of("show", "pause", "resume", "trigger", "delete", "next")) {
      Run r = run("schedule", cmd, "cli-life");
      assertThat(r.exit()).as(cmd + ": " + r.err()).isEqualTo(1);
      assertThat(r.err()).contains("no schedule named 'cli-life'");
    }
  }

  @Test
  void nextPrintsFireTimesWithTheirLocalTime() throws Exception {
    run("schedule", "add", "cli-syd", "--cron", "30 2 * * *", "--timezone", "Australia/Sydney", "--queue", "demo");

    Run r = run("schedule", "next", "cli-syd", "--from", "2026-10-03T00:00:00Z", "--count", "2");

    assertThat(r.exit()).as(r.err()).isZero();
    // Sydney springs forward at 02:00 on 4 October 2026: 02:30 fires at 03:00 AEDT.
    assertThat(r.out()).isEqualTo("""
        FIRE TIME (UTC)       LOCAL TIME (Australia/Sydney)
        2026-10-03T16:00:00Z  2026-10-04T03:00:00+11:00
        2026-10-04T15:30:00Z  2026-10-05T02:30:00+11:00
        """);
    assertThat(run("schedule", "next", "cli-syd", "--count", "101").exit()).isEqualTo(2);
    assertThat(run("schedule", "next", "cli-syd", "--from", "soon").exit()).isEqualTo(2);
  }

  @Test
  void scheduleWithoutASubcommandIsUsage() {
    Run r = run("schedule");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("subcommand");
  }
}
