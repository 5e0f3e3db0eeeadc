package dev.slotted.orchestrator.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.orchestrator.store.JobQuery;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.Page;
import dev.slotted.orchestrator.store.Partitioner;
import dev.slotted.orchestrator.store.postgres.PostgresJobStore;
import dev.slotted.orchestrator.store.postgres.PostgresStoreSettings;
import dev.slotted.orchestrator.store.postgres.TestPostgres;
import dev.slotted.protocol.Job;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * G4 on PostgreSQL: three orchestrators share one PostgreSQL database, whose schema holds the job
 * store and the schedules' journal (pekko-persistence-jdbc's PostgreSQL tables); each keeps its
 * other files apart, as on three hosts. An every-second schedule declared on all three, and one
 * created through one orchestrator's API: the runner owning the declared schedule's partition is
 * SIGKILLed, and every fire time still has exactly one job, none missing; the API-created schedule
 * is read through the other orchestrators, paused through a third, and never fires after the
 * pause was acknowledged.
 */
class PostgresSchedulesIT {
  private static final int PARTITIONS = 16;

  @TempDir Path dir;

  @Test
  void anEverySecondScheduleFiresOncePerFireTimeThroughTheOwnersKill() throws Exception {
    String url = TestPostgres.url();
    String schema = TestPostgres.freshSchema("sched");
    String conf = String.join("\n",
        "slotted.queues { ticks { handler = noop } }",
        "slotted.schedules.declared = [ { name = tick, every = 1s, job { queue = ticks } } ]",
        "slotted.store.kind = postgres",
        "slotted.store.postgres { url = \"" + url + "\", user = \"\", password = \"\", schema = " + schema + " }");
    try (RunnerProcesses runners = new RunnerProcesses(dir, conf)
            .perRunner(i -> "slotted.store.sqlite.path = \"" + dir.resolve("host-" + i).resolve("slotted.db") + "\"\n"
                + "slotted.schedules.journal-path = \"" + dir.resolve("host-" + i).resolve("journal.db") + "\"");
         JobStore store = PostgresJobStore.open(PostgresStoreSettings.defaults(url, schema))) {
      for (int i = 0; i < 3; i++) {
        runners.start(i);
      }
      for (int i = 0; i < 3; i++) {
        runners.awaitUp(i, Duration.ofSeconds(120));
      }
      // Partition p belongs to the runner of rank p mod N; ranks follow the node ids it-0..it-2.
      int victim = Partitioner.partitionOf("schedule:tick", null, PARTITIONS) % 3;
      int other = (victim + 1) % 3;
      int third = (victim + 2) % 3;
      HttpResponse<String> made = runners.post(other, "/api/v1/schedules",
          "{\"name\": \"made\", \"every\": \"1s\", \"job\": {\"queue\": \"ticks\"}}");
      assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
      for (int i : new int[] {victim, third}) {
        HttpResponse<String> seen = runners.get(i, "/api/v1/schedules/made");
        assertThat(seen.statusCode()).as("the schedule made through runner %d, read through %d: %s", other, i,
            seen.body()).isEqualTo(200);
      }
      Thread.sleep(4_000);
      HttpResponse<String> paused = runners.post(third, "/api/v1/schedules/made/pause", "");
      Instant pauseAcked = Instant.now();
      assertThat(paused.statusCode()).as(paused.body()).isEqualTo(200);
      Thread.sleep(8_000);
      runners.kill(victim);
      Instant killed = Instant.now();
      Thread.sleep(20_000);
      Instant end = Instant.now();

      TreeMap<Instant, Instant> madeFires = fires(store, "made");
      assertThat(madeFires).as("fires of the API-made schedule before its pause").isNotEmpty();
      assertThat(madeFires.values()).allSatisfy(createdAt -> assertThat(createdAt).isBefore(pauseAcked));
      assertThat(runners.get(victim == 0 ? 1 : 0, "/api/v1/schedules/made").body()).contains("\"paused\":true");

      TreeMap<Instant, Instant> ticks = fires(store, "tick");
      assertThat(ticks).isNotEmpty();
      Instant first = ticks.firstKey().plusSeconds(2);
      List<Instant> expected = new ArrayList<>();
      for (Instant t = first; !t.isAfter(end.minusSeconds(3)); t = t.plusSeconds(1)) {
        expected.add(t);
      }
      assertThat(ticks.keySet()).as("tick fire times (runner %d killed at %s)", victim, killed).containsAll(expected);
      assertThat(expected.stream().filter(t -> t.isAfter(killed))).as("fire times after the kill").hasSizeGreaterThan(10);
    }
  }

  /** Fire instant -> the job's creation; fails on a second job for one fire time. */
  private static TreeMap<Instant, Instant> fires(JobStore store, String name) throws Exception {
    TreeMap<Instant, Instant> out = new TreeMap<>();
    String prefix = "schedule:" + name + ":";
    String cursor = null;
    do {
      Page<Job> page = store.list(new JobQuery("ticks", null, 500, cursor)).toCompletableFuture().get();
      for (Job j : page.items()) {
        String key = j.idempotencyKey();
        if (key != null && key.startsWith(prefix) && !key.startsWith(prefix + "trigger:")) {
          assertThat(out.put(Instant.parse(key.substring(prefix.length())), j.createdAt())).as("two jobs for %s", key)
              .isNull();
        }
      }
      cursor = page.nextCursor();
    } while (cursor != null);
    return out;
  }
}
