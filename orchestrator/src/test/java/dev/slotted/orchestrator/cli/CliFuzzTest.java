package dev.slotted.orchestrator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.orchestrator.http.DbSnapshot;
import dev.slotted.orchestrator.http.RequestGen;
import dev.slotted.orchestrator.http.TestServer;
import dev.slotted.orchestrator.http.TestStores;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Generated {@code slotted submit} and {@code slotted schedule add} command lines (issue 9). Oracle:
 * exit 0, 1 (the name is taken) or 2 (rejected), never a server error; on 1 or 2 both SQLite
 * files are unchanged. {@code -Dfuzz.count=N} scales it like {@code HttpFuzzTest}.
 */
class CliFuzzTest {
  static final int COUNT = Math.max(50, Integer.getInteger("fuzz.count", 1500) / 5);
  static final long SEED = Long.getLong("fuzz.seed", 9L);

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

  private final RequestGen gen = new RequestGen(SEED);

  @Test
  void generatedCommandLinesExit0Or2AndRejectedOnesWriteNothing() throws Exception {
    int ok = 0;
    int refused = 0;
    for (int i = 0; i < COUNT; i++) {
      List<String> args = gen.chance(0.6) ? submit() : scheduleAdd();
      args.add("--server=" + server.base);
      TreeMap<String, String> before = DbSnapshot.of(dir.resolve("slotted.db"), dir.resolve("journal.db"));
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      CommandLine cl = SlottedCommand.commandLine();
      cl.setOut(new PrintWriter(out, true));
      cl.setErr(new PrintWriter(err, true));
      int exit = cl.execute(args.toArray(String[]::new));
      String what = esc(String.join(" ", args)) + " -> exit " + exit + ": " + esc(out + " " + err);
      assertThat(exit).as(what).isBetween(0, 2);
      assertThat(err.toString()).as(what).doesNotContain("(500").doesNotContain("(503").doesNotContainIgnoringCase("internal server error");
      if (exit == 0) {
        ok++;
      } else {
        refused++;
        assertThat(DbSnapshot.of(dir.resolve("slotted.db"), dir.resolve("journal.db"))).as(what).isEqualTo(before);
      }
    }
    System.out.printf("CliFuzzTest: seed %d, %d command lines, %d exit 0, %d refused%n", SEED, COUNT, ok, refused);
    assertThat(ok).isPositive();
    assertThat(refused).isPositive();
  }

  @Test
  void aLoneSurrogateInAnArgumentIsRefusedNotSentAsQuestionMark() throws Exception {
    for (List<String> args : List.of(
        List.of("submit", "demo", "--key=\udc00x"),
        List.of("submit", "demo", "--partition-key=x\ud800"),
        List.of("submit", "demo", "--payload={\"a\":\"\ud800\"}"),
        List.of("schedule", "add", "surrogate", "--cron=0 3 * * *", "--queue=demo", "--payload=\"\udc00\""))) {
      TreeMap<String, String> before = DbSnapshot.of(dir.resolve("slotted.db"), dir.resolve("journal.db"));
      List<String> all = new ArrayList<>(args);
      all.add("--server=" + server.base);
      StringWriter err = new StringWriter();
      CommandLine cl = SlottedCommand.commandLine();
      cl.setOut(new PrintWriter(new StringWriter(), true));
      cl.setErr(new PrintWriter(err, true));
      assertThat(cl.execute(all.toArray(String[]::new))).as(esc(args + " " + err)).isEqualTo(2);
      assertThat(DbSnapshot.of(dir.resolve("slotted.db"), dir.resolve("journal.db"))).isEqualTo(before);
    }
  }

  private String value(List<String> good, List<String> bad) {
    return gen.chance(0.75) ? gen.pick(good) : gen.chance(0.5) ? gen.pick(bad) : gen.pick(RequestGen.NASTY);
  }

  private List<String> submit() throws Exception {
    List<String> a = new ArrayList<>(List.of("submit", value(List.of("demo", "reports"), List.of("nope", "UPPER"))));
    if (gen.chance(0.5)) {
      a.add("--payload=" + (gen.chance(0.9) ? RequestGenWire.text(gen.payload(0)) : gen.pick(List.of("{", "", "@/nonexistent"))));
    }
    opt(a, "--priority", List.of("0", "5", "-1000"), List.of("1001", "x", "99999999999"));
    if (gen.chance(0.3)) {
      a.add(gen.chance(0.5) ? "--delay=" + value(RequestGen.GOOD_DURATIONS, RequestGen.BAD_DURATIONS)
          : "--at=" + value(RequestGen.GOOD_INSTANTS, RequestGen.BAD_INSTANTS));
    }
    opt(a, "--max-attempts", List.of("1", "3", "1000"), List.of("0", "1001"));
    opt(a, "--key", List.of(gen.uniqueKey(), "repeat"), List.of("x".repeat(201)));
    opt(a, "--partition-key", List.of("p1", "p2"), List.of("x".repeat(201)));
    opt(a, "--tag", List.of("gpu", "region-eu"), List.of("bad tag"));
    opt(a, "--timeout", RequestGen.GOOD_DURATIONS, RequestGen.BAD_DURATIONS);
    return a;
  }

  private List<String> scheduleAdd() throws Exception {
    List<String> a = new ArrayList<>(List.of("schedule", "add",
        value(List.of("cli-" + gen.rnd.nextInt(20)), List.of("UPPER", "x".repeat(70)))));
    if (gen.chance(0.6)) {
      a.add("--cron=" + value(RequestGen.GOOD_CRONS, RequestGen.BAD_CRONS));
    } else {
      a.add("--every=" + value(List.of("1s", "10s", "5m"), RequestGen.BAD_DURATIONS));
    }
    opt(a, "--timezone", RequestGen.GOOD_ZONES, RequestGen.BAD_ZONES);
    a.add("--queue=" + value(List.of("demo", "reports"), List.of("nope")));
    if (gen.chance(0.5)) {
      a.add("--payload=" + RequestGenWire.text(gen.payload(0)));
    }
    opt(a, "--priority", List.of("0", "5"), List.of("1001"));
    opt(a, "--max-attempts", List.of("1", "3"), List.of("0"));
    opt(a, "--tag", List.of("gpu"), List.of("bad tag"));
    opt(a, "--timeout", RequestGen.GOOD_DURATIONS, RequestGen.BAD_DURATIONS);
    opt(a, "--misfire", List.of("fire-once", "skip", "catch-up"), List.of("sometimes"));
    opt(a, "--overlap", List.of("allow", "skip"), List.of("never"));
    return a;
  }

  private void opt(List<String> a, String name, List<String> good, List<String> bad) {
    if (gen.chance(0.4)) {
      a.add(name + "=" + value(good, bad));
    }
  }

  private static String esc(String s) {
    StringBuilder b = new StringBuilder();
    for (char c : s.toCharArray()) {
      b.append(c < 0x20 || c > 0x7e ? String.format("\\u%04x", (int) c) : String.valueOf(c));
    }
    return b.length() > 2000 ? b.substring(0, 2000) + "..." : b.toString();
  }

  /** Payload JSON text as a user would type it (raw characters, lone surrogates included). */
  private static final class RequestGenWire {
    static String text(com.fasterxml.jackson.databind.JsonNode n) {
      return n.toString();
    }
  }
}
