package dev.slotted.orchestrator.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.slotted.orchestrator.store.JobQuery;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.Page;
import dev.slotted.orchestrator.store.QueueCounts;
import dev.slotted.orchestrator.store.RunnerRow;
import dev.slotted.orchestrator.store.postgres.PostgresJobStore;
import dev.slotted.orchestrator.store.postgres.PostgresStoreSettings;
import dev.slotted.orchestrator.store.postgres.TestPostgres;
import dev.slotted.protocol.Attempt;
import dev.slotted.protocol.AttemptOutcome;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three orchestrator processes on one PostgreSQL database, each with its own HTTP port and its own
 * local files (as on three hosts): one is SIGKILLed mid-run, another SIGSTOPped past its leases and
 * then resumed. Every job still succeeds exactly once, the paused runner's late completions are
 * refused (G2), and no two attempts of a job overlap. Before the run, every runner's row in
 * {@code /api/v1/runners} shows its measured offset to the database clock.
 */
class PostgresMultiRunnerIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void threeOrchestratorsOnePostgresAKillAndAPauseEveryJobSucceedsExactlyOnce() throws Exception {
    String url = TestPostgres.url();
    String schema = TestPostgres.freshSchema("multi");
    String conf = String.join("\n",
        "slotted.queues { work { handler = sleep, max-attempts = 10 } }",
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
      MultiRunnerIT.awaitMembership(store, 3, Duration.ofSeconds(60));
      Thread.sleep(2000);
      // Each runner measured its offset to the database clock (one host: near zero) and any
      // runner's slot table shows every runner's.
      JsonNode table = JSON.readTree(runners.get(0, "/api/v1/runners").body());
      List<JsonNode> rows = new ArrayList<>();
      table.path("items").forEach(rows::add);
      assertThat(rows).as("slot table %s", table).hasSize(3).allSatisfy(r -> {
        assertThat(r.has("clockOffsetMs")).as("clockOffsetMs in %s", r).isTrue();
        assertThat(Math.abs(r.get("clockOffsetMs").asLong()))
            .isLessThanOrEqualTo(r.get("clockUncertaintyMs").asLong() + 250);
      });

      int jobs = 10_000;
      for (int b = 0; b < jobs / 500; b++) {
        StringBuilder body = new StringBuilder("{\"jobs\":[");
        for (int i = 0; i < 500; i++) {
          // Mostly short jobs; every 50th runs 1.5 s so that the kill and the pause catch some mid-run.
          int ms = i % 50 == 0 ? 1500 : 2;
          body.append(i == 0 ? "" : ",").append("{\"queue\":\"work\",\"payload\":{\"ms\":" + ms + "}}");
        }
        body.append("]}");
        assertThat(runners.post(b % 3, "/api/v1/jobs/batch", body.toString()).statusCode()).isEqualTo(201);
      }
      MultiRunnerIT.awaitRunningOn(store, "it-2", Duration.ofSeconds(60));
      runners.kill(2); // SIGKILL mid-run
      MultiRunnerIT.awaitRunningOn(store, "it-1", Duration.ofSeconds(60));
      runners.signal(1, "STOP"); // past its 3 s leases and its 4 s membership
      Thread.sleep(9000);
      runners.signal(1, "CONT");

      MultiRunnerIT.awaitFinished(store, jobs, Duration.ofSeconds(240));
      List<Job> all = MultiRunnerIT.allJobs(store);
      assertThat(all).hasSize(jobs);
      long expired = 0;
      for (Job j : all) {
        assertThat(j.state()).as("job %s", j.id()).isEqualTo(JobState.SUCCEEDED);
        List<Attempt> attempts = j.attempts();
        assertThat(attempts.stream().filter(a -> a.outcome() == AttemptOutcome.SUCCEEDED))
            .as("successful attempts of job %s", j.id()).hasSize(1);
        for (int i = 1; i < attempts.size(); i++) {
          assertThat(attempts.get(i).startedAt()).as("attempt %d of job %s", i + 1, j.id())
              .isAfterOrEqualTo(attempts.get(i - 1).endedAt());
        }
        expired += attempts.stream().filter(a -> a.outcome() == AttemptOutcome.LEASE_EXPIRED).count();
      }
      assertThat(expired).as("attempts of the killed and the paused runner that ended as lease_expired").isPositive();
      assertThat(all.stream().map(j -> j.attempts().get(j.attempts().size() - 1).runner().substring(0, 4)).distinct())
          .as("runners that finished jobs").contains("it-0", "it-1");
      // The resumed runner first registers again and waits for its slot (its lease expired in the
      // pause), then writes its late completions and publishes its counters in its next window.
      long rejected = 0;
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (rejected == 0 && System.nanoTime() < deadline) {
        rejected = status(store, "it-1", "leaseRejections");
        Thread.sleep(200);
      }
      assertThat(rejected).as("late completions of the paused runner, refused and counted").isPositive();
      System.out.printf("PostgresMultiRunnerIT: %d jobs, %d lease_expired attempts, %d late completions of the"
          + " paused runner refused%n", jobs, expired, rejected);
    }
  }

  private static long status(JobStore store, String prefix, String field) throws Exception {
    long sum = 0;
    for (RunnerRow r : store.runners(Instant.now()).toCompletableFuture().get()) {
      if (r.id().startsWith(prefix) && r.statusJson() != null) {
        JsonNode s = JSON.readTree(r.statusJson());
        sum += s.path(field).asLong();
      }
    }
    return sum;
  }




}
