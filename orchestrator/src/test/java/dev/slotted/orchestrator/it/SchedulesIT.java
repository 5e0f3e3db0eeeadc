package dev.slotted.orchestrator.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.slotted.orchestrator.store.Partitioner;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Schedules on real runner processes sharing one SQLite file (G4), in one run:
 *
 * <ol>
 *   <li>two runners fire an every-second schedule for ~40 s while the runner that owns it is
 *       SIGKILLed halfway: every fire time has exactly one job, none missing;
 *   <li>a schedule paused through the other runner's API never fires after the pause was
 *       acknowledged;
 *   <li>every runner is stopped, then one restarts with a short misfire threshold: each misfire
 *       policy treats the outage as specified, and the pause survived the restart.
 * </ol>
 */
class SchedulesIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int PARTITIONS = 16;
  /**
   * Short, for a short outage, yet above what a cold runner's first passes may take: a fire time
   * that waits longer than this for its pass counts as missed too.
   */
  private static final Duration THRESHOLD = Duration.ofSeconds(5);
  private static final int MAX_CATCH_UP = 3;
  private static final String QUEUES = "slotted.queues { ticks { handler = noop } }";

  @TempDir Path dir;

  /** Fire instant -> job created_at, for one schedule. */
  private TreeMap<Instant, Instant> fires(RunnerProcesses runners, String name) throws Exception {
    TreeMap<Instant, Instant> out = new TreeMap<>();
    String prefix = "schedule:" + name + ":";
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + runners.db());
         PreparedStatement ps = c.prepareStatement(
             "SELECT idempotency_key, created_at FROM jobs WHERE idempotency_key LIKE ? ORDER BY id")) {
      ps.setString(1, prefix + "%");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String key = rs.getString(1);
          if (key.startsWith(prefix + "trigger:")) {
            continue;
          }
          Instant fire = Instant.parse(key.substring(prefix.length()));
          assertThat(out.put(fire, Instant.ofEpochMilli(rs.getLong(2)))).as("two jobs for %s", key).isNull();
        }
      }
    }
    return out;
  }

  private static void create(RunnerProcesses runners, int via, String body) throws Exception {
    HttpResponse<String> r = runners.post(via, "/api/v1/schedules", body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
  }

  private static JsonNode schedule(RunnerProcesses runners, int via, String name) throws Exception {
    HttpResponse<String> r = runners.get(via, "/api/v1/schedules/" + name);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  /** The runner (0 or 1; ids sort it-0 before it-1) that owns a schedule while both are up. */
  private static int owner(String name) {
    return Partitioner.partitionOf("schedule:" + name, null, PARTITIONS) % 2;
  }

  private static List<Instant> everySecond(Instant from, Instant to) {
    List<Instant> out = new ArrayList<>();
    for (Instant t = from; !t.isAfter(to); t = t.plusSeconds(1)) {
      out.add(t);
    }
    return out;
  }

  @Test
  void schedulesFireExactlyOnceThroughAKillAnOutageAndARestart() throws Exception {
    try (RunnerProcesses two = new RunnerProcesses(dir, QUEUES)) {
      // One after the other: two runners creating the same database at once can collide.
      two.start(0);
      two.awaitUp(0, Duration.ofSeconds(90));
      two.start(1);
      two.awaitUp(1, Duration.ofSeconds(90));

      int victim = owner("tick");
      int survivor = 1 - victim;
      create(two, survivor, "{\"name\": \"tick\", \"every\": \"1s\", \"job\": {\"queue\": \"ticks\"}}");
      for (String policy : List.of("fire-once", "skip", "catch-up")) {
        create(two, 0, "{\"name\": \"m-" + policy + "\", \"every\": \"1s\", \"misfire\": \"" + policy
            + "\", \"job\": {\"queue\": \"ticks\"}}");
      }
      create(two, 0, "{\"name\": \"held\", \"every\": \"1s\", \"job\": {\"queue\": \"ticks\"}}");
      Instant firstTick = Instant.parse(schedule(two, victim, "tick").get("anchor").asText()).plusSeconds(1);

      // A pause acknowledged by one runner holds on the other.
      Thread.sleep(4_000);
      HttpResponse<String> paused = two.post(1 - owner("held"), "/api/v1/schedules/held/pause", "");
      Instant pauseAcked = Instant.now();
      assertThat(paused.statusCode()).as(paused.body()).isEqualTo(200);

      Thread.sleep(16_000);
      two.kill(victim);
      Instant killed = Instant.now();
      Thread.sleep(20_000);
      Instant end = Instant.now();

      // 1. Exactly one job per fire time, before, during and after the takeover.
      TreeMap<Instant, Instant> ticks = fires(two, "tick");
      List<Instant> expected = everySecond(firstTick, end.minusSeconds(3));
      assertThat(ticks.keySet()).as("tick fire times (runner %d killed at %s)", victim, killed)
          .containsAll(expected);
      assertThat(ticks.firstKey()).isEqualTo(firstTick);
      Map<Instant, Instant> afterKill = ticks.tailMap(killed.minusSeconds(1));
      System.out.println("SchedulesIT: runner " + victim + " killed at " + killed + "; tick fires after it (fire -> created): "
          + afterKill.entrySet().stream().limit(8).map(e -> e.getKey() + " -> " + e.getValue()).toList());
      assertThat(afterKill).as("fires after the kill").hasSizeGreaterThan(10);

      // 2. Nothing fired after the pause was acknowledged.
      TreeMap<Instant, Instant> held = fires(two, "held");
      assertThat(held).isNotEmpty();
      assertThat(held.values()).allSatisfy(createdAt -> assertThat(createdAt).isBefore(pauseAcked));

      // 3. Every runner stops; the misfire schedules miss the outage.
      assertThat(two.terminate(survivor, Duration.ofSeconds(60))).as("exited within the grace").isNotEqualTo(-1);
    }
    Instant stopped = Instant.now();
    Map<String, Instant> lastBefore = new TreeMap<>();
    try (RunnerProcesses probe = new RunnerProcesses(dir, QUEUES)) {
      for (String policy : List.of("fire-once", "skip", "catch-up")) {
        lastBefore.put(policy, fires(probe, "m-" + policy).lastKey());
      }
    }
    Thread.sleep(8_000);

    String shortThreshold = QUEUES + "\nslotted.schedules { misfire-threshold = " + THRESHOLD.toMillis()
        + "ms, max-catch-up = " + MAX_CATCH_UP + " }";
    try (RunnerProcesses one = new RunnerProcesses(dir, shortThreshold)) {
      Instant restart = Instant.now();
      one.start(0);
      one.awaitUp(0, Duration.ofSeconds(90));
      // Wait for a few on-time fires of every schedule after the restart.
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < deadline) {
        boolean all = true;
        for (String policy : lastBefore.keySet()) {
          all &= fires(one, "m-" + policy).tailMap(restart).size() >= 3;
        }
        if (all) {
          break;
        }
        Thread.sleep(500);
      }

      for (String policy : lastBefore.keySet()) {
        TreeMap<Instant, Instant> f = fires(one, "m-" + policy);
        Instant last = lastBefore.get(policy);
        assertThat(last).isBefore(stopped);
        NavigableMap<Instant, Instant> after = f.tailMap(last, false);
        String what = policy + " fired after the outage: " + after.entrySet().stream()
            .map(e -> e.getKey() + " (submitted " + e.getValue() + ")").collect(Collectors.joining(", "));
        System.out.println("SchedulesIT: " + what);
        assertThat(after).as(what).isNotEmpty();
        // The first pass after the restart planned as of its first submit: fire times more than
        // the threshold older than that were missed, the others were on time.
        Instant firstPass = after.values().stream().min(Instant::compareTo).orElseThrow();
        Instant cut = firstPass.minus(THRESHOLD);
        List<Instant> missed = everySecond(last.plusSeconds(1), cut.minusNanos(1)).stream()
            .filter(t -> t.isBefore(cut)).toList();
        List<Instant> onTime = everySecond(missed.get(missed.size() - 1).plusSeconds(1), after.lastKey());
        assertThat(missed).as(what).hasSizeGreaterThan(MAX_CATCH_UP);
        assertThat(onTime).as(what).hasSizeGreaterThanOrEqualTo(3);
        // Every on-time fire time fired, without a gap from the restart on.
        assertThat(after.keySet()).as(what).containsAll(onTime);
        List<Instant> missedFired = after.keySet().stream().filter(missed::contains).toList();
        switch (policy) {
          case "fire-once" -> assertThat(missedFired).as(what).containsExactly(missed.get(missed.size() - 1));
          case "skip" -> {
            assertThat(missedFired).as(what).isEmpty();
            JsonNode s = schedule(one, 0, "m-skip");
            List<String> skips = new ArrayList<>();
            s.get("recentFires").forEach(r -> {
              if (r.get("kind").asText().equals("skipped")) {
                skips.add(r.get("fireInstant").asText() + "/" + r.get("reason").asText());
              }
            });
            assertThat(skips).as(what).containsExactly(missed.get(missed.size() - 1) + "/misfire");
          }
          default -> assertThat(missedFired).as(what)
              .isEqualTo(missed.subList(missed.size() - MAX_CATCH_UP, missed.size()));
        }
      }

      // The pause survived every runner's restart, and the paused schedule stays quiet.
      JsonNode held = schedule(one, 0, "held");
      assertThat(held.get("paused").asBoolean()).isTrue();
      assertThat(held.get("nextFireTimes")).isEmpty();
      assertThat(fires(one, "held").values()).allSatisfy(createdAt -> assertThat(createdAt).isBefore(stopped));
      // The entities replayed their history: the audit trail is intact after the restart.
      JsonNode tick = schedule(one, 0, "tick");
      assertThat(tick.get("recentFires")).hasSize(20);
      assertThat(Instant.parse(tick.get("lastFire").asText())).isAfter(restart);
      assertThat(one.log(0)).doesNotContain("ERROR");
    }
  }
}
