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
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * G4 on PostgreSQL: an every-second schedule declared on three orchestrators that share one
 * PostgreSQL store but each keep their own schedule journal (as on three hosts). The runner owning
 * the schedule's partition is SIGKILLed: every fire time still has exactly one job, none missing.
 * Exactly-once rests on the store: a fire's job carries the idempotency key {@code
 * schedule:<name>:<fire time>}, unique in the jobs table, so a fire time fired twice (the new owner
 * catching up from its own journal) still makes one job.
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
            .perRunner(i -> "slotted.store.sqlite.path = \"" + dir.resolve("host-" + i).resolve("slotted.db") + "\"");
         JobStore store = PostgresJobStore.open(PostgresStoreSettings.defaults(url, schema))) {
      for (int i = 0; i < 3; i++) {
        runners.start(i);
      }
      for (int i = 0; i < 3; i++) {
        runners.awaitUp(i, Duration.ofSeconds(120));
      }
      // Partition p belongs to the runner of rank p mod N; ranks follow the node ids it-0..it-2.
      int victim = Partitioner.partitionOf("schedule:tick", null, PARTITIONS) % 3;
      Thread.sleep(12_000);
      runners.kill(victim);
      Instant killed = Instant.now();
      Thread.sleep(20_000);
      Instant end = Instant.now();

      TreeMap<Instant, String> ticks = fires(store);
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

  /** Fire instant -> job id; fails on a second job for one fire time. */
  private static TreeMap<Instant, String> fires(JobStore store) throws Exception {
    TreeMap<Instant, String> out = new TreeMap<>();
    String prefix = "schedule:tick:";
    String cursor = null;
    do {
      Page<Job> page = store.list(new JobQuery("ticks", null, 500, cursor)).toCompletableFuture().get();
      for (Job j : page.items()) {
        String key = j.idempotencyKey();
        if (key != null && key.startsWith(prefix) && !key.startsWith(prefix + "trigger:")) {
          assertThat(out.put(Instant.parse(key.substring(prefix.length())), j.id())).as("two jobs for %s", key).isNull();
        }
      }
      cursor = page.nextCursor();
    } while (cursor != null);
    return out;
  }
}
