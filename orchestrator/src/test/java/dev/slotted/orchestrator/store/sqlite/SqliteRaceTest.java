package dev.slotted.orchestrator.store.sqlite;

import static dev.slotted.orchestrator.store.JobStoreContractTest.at;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.protocol.NewJob;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tries to break G2 (one lease at a time, stale completions refused) and G1 (nothing lost) with
 * claimers that race on the same partitions: threads on two store instances of one file, and two
 * separate JVM processes. Normal claims hold a long lease and always complete; a few claims are
 * abandoned with an expired lease, reaped by someone, and claimed again. Afterwards every job must
 * have succeeded exactly once, every claim must have had its own token, no normal lease may have
 * been taken over, and every abandoned token must be refused.
 */
class SqliteRaceTest {
  private static final String QUEUE = "race";
  @TempDir Path dir;

  private static void submit(SqliteJobStore store, int total) {
    for (int done = 0; done < total; done += 1000) {
      List<NewJob> batch = new ArrayList<>();
      for (int i = done; i < Math.min(total, done + 1000); i++) {
        batch.add(NewJob.of(QUEUE, "{\"i\":" + i + "}").withPriority(i % 5).withMaxAttempts(1000));
      }
      store.submitBatch(batch, at(Instant.now())).toCompletableFuture().join();
    }
  }

  @Test
  void threadsOnTwoStoresOfOneFileNeverShareALease() throws Exception {
    Path db = dir.resolve("threads.db");
    int total = 3000;
    List<Duration> backoff = List.of(1, 2, 5, 10, 20, 50, 100, 200).stream().map(Duration::ofMillis).toList();
    SqliteStoreSettings settings = SqliteStoreSettings.defaults(db).withPartitions(1).withBusyBackoff(backoff);
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try (SqliteJobStore a = new SqliteJobStore(settings, pool); SqliteJobStore b = new SqliteJobStore(settings, pool)) {
      submit(a, total);
      List<Future<RaceWorker.Report>> futures = new ArrayList<>();
      ExecutorService claimers = Executors.newFixedThreadPool(6);
      try {
        for (int t = 0; t < 6; t++) {
          SqliteJobStore s = t % 2 == 0 ? a : b;
          RaceWorker w = new RaceWorker(s, "runner-" + t, 1, 0.03, 1000 + t, RaceWorker.allSucceeded(s, QUEUE, total));
          futures.add(claimers.submit(w::run));
        }
        List<RaceWorker.Report> reports = new ArrayList<>();
        for (Future<RaceWorker.Report> f : futures) {
          reports.add(f.get(120, TimeUnit.SECONDS));
        }
        verify(db, total, reports);
        assertThat(a.leaseRejections() + b.leaseRejections())
            .isEqualTo(reports.stream().mapToLong(RaceWorker.Report::staleRefused).sum());
      } finally {
        claimers.shutdownNow();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void twoProcessesOnOneFileNeverShareALease() throws Exception {
    Path db = dir.resolve("procs.db");
    int total = 4000;
    try (SqliteJobStore store = SqliteJobStore.open(SqliteStoreSettings.defaults(db).withPartitions(4))) {
      submit(store, total);
    }
    String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<Process> children = new ArrayList<>();
    List<Path> outs = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Path out = dir.resolve("child-" + i + ".out");
      outs.add(out);
      ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "-cp", classpath,
          RaceChild.class.getName(), db.toString(), "proc-" + i, Integer.toString(total), out.toString(),
          Integer.toString(7 + i));
      pb.redirectErrorStream(true);
      pb.redirectOutput(dir.resolve("child-" + i + ".log").toFile());
      children.add(pb.start());
    }
    // Both JVMs have opened the store before they are told to go, so they claim at the same moment.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    for (int i = 0; i < children.size(); i++) {
      while (!Files.exists(db.resolveSibling("ready-proc-" + i)) && children.get(i).isAlive()
          && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
    }
    Files.writeString(db.resolveSibling("go"), "go");
    for (int i = 0; i < children.size(); i++) {
      Process p = children.get(i);
      boolean exited = p.waitFor(120, TimeUnit.SECONDS);
      if (!exited) {
        children.forEach(Process::destroyForcibly);
      }
      assertThat(exited).as("child %d finished", i).isTrue();
      assertThat(p.exitValue()).as("child %d exit code; its log: %s", i, tail(dir.resolve("child-" + i + ".log"))).isZero();
    }
    List<RaceWorker.Report> reports = new ArrayList<>();
    long busyRetries = 0;
    for (Path out : outs) {
      List<RaceWorker.Claim> claims = new ArrayList<>();
      String[] summary = null;
      for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
        String[] f = line.split(" ");
        if (f[0].equals("C")) {
          claims.add(new RaceWorker.Claim(f[1], f[2], f[3].equals("A")));
        } else {
          summary = f;
        }
      }
      assertThat(summary).as("summary line of " + out).isNotNull();
      reports.add(new RaceWorker.Report(claims, Integer.parseInt(summary[1]), Integer.parseInt(summary[2]),
          Integer.parseInt(summary[3]), Integer.parseInt(summary[4]), Integer.parseInt(summary[5])));
      busyRetries += Long.parseLong(summary[6]);
    }
    // Both processes did real work on the same partitions.
    assertThat(reports.stream().map(RaceWorker.Report::accepted).toList()).allMatch(n -> n > 0);
    System.out.printf("two processes: claims %s, busy retries %d%n",
        reports.stream().map(r -> r.claims().size()).toList(), busyRetries);
    verify(db, total, reports);
  }

  private static void verify(Path db, int total, List<RaceWorker.Report> reports) throws Exception {
    Set<String> tokens = new HashSet<>();
    Map<String, Integer> normal = new HashMap<>();
    Map<String, Integer> abandoned = new HashMap<>();
    for (RaceWorker.Report r : reports) {
      for (RaceWorker.Claim c : r.claims()) {
        assertThat(tokens.add(c.token())).as("token handed out twice: " + c).isTrue();
        (c.abandoned() ? abandoned : normal).merge(c.jobId(), 1, Integer::sum);
      }
      assertThat(r.refusedNormal()).as("a live lease was taken over").isZero();
      assertThat(r.staleAccepted()).as("an abandoned, reclaimed token completed a job").isZero();
    }
    assertThat(reports.stream().mapToInt(RaceWorker.Report::accepted).sum()).isEqualTo(total);
    assertThat(normal).hasSize(total).allSatisfy((id, n) -> assertThat(n).as("normal claims of job " + id).isEqualTo(1));
    long abandonedClaims = abandoned.values().stream().mapToInt(Integer::intValue).sum();
    assertThat(reports.stream().mapToInt(RaceWorker.Report::staleRefused).sum()).isEqualTo(abandonedClaims);
    assertThat(abandonedClaims).as("some claims were abandoned and taken over").isPositive();

    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT state, count(*) FROM jobs GROUP BY state")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("succeeded");
        assertThat(rs.getInt(2)).isEqualTo(total);
        assertThat(rs.next()).as("every job succeeded").isFalse();
      }
      Map<String, List<String>> outcomes = new HashMap<>();
      // Archived attempts, plus the latest one, which the schema keeps on the job row.
      try (ResultSet rs = s.executeQuery("SELECT job_id, number, outcome FROM attempts UNION ALL"
          + " SELECT id, attempt_no, att_outcome FROM jobs WHERE att_started_at IS NOT NULL ORDER BY 1, 2")) {
        while (rs.next()) {
          List<String> list = outcomes.computeIfAbsent(Long.toString(rs.getLong(1)), k -> new ArrayList<>());
          assertThat(rs.getInt(2)).as("attempt numbers of job " + rs.getLong(1)).isEqualTo(list.size() + 1);
          list.add(rs.getString(3));
        }
      }
      assertThat(outcomes).hasSize(total);
      outcomes.forEach((id, list) -> {
        int expired = abandoned.getOrDefault(id, 0);
        assertThat(list).as("attempts of job " + id).hasSize(expired + 1);
        assertThat(list.subList(0, expired)).allMatch("lease_expired"::equals);
        assertThat(list.get(expired)).isEqualTo("succeeded");
      });
      try (ResultSet rs = s.executeQuery("SELECT state, n FROM queue_stats WHERE queue = '" + QUEUE + "' AND n <> 0")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("succeeded");
        assertThat(rs.getLong(2)).isEqualTo(total);
        assertThat(rs.next()).isFalse();
      }
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join(File.separator.equals("/") ? "\n" : "\r\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (Exception e) {
      return "(no log: " + e + ")";
    }
  }
}
