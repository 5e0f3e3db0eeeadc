package dev.slotted.orchestrator.store.sqlite;

import static dev.slotted.orchestrator.store.JobStoreContractTest.at;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dev.slotted.orchestrator.store.StoreException;
import dev.slotted.orchestrator.store.Submitted;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.NewJob;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What is particular to the SQLite store: the file, its migrations, its settings, SQLITE_BUSY. */
class SqliteStoreLifecycleTest {
  private static final Instant T0 = Instant.parse("2026-11-22T03:00:00Z");
  @TempDir Path dir;

  private static Map<Integer, String> migrations(Path db) throws Exception {
    Map<Integer, String> out = new TreeMap<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT version, checksum || '@' || applied_at FROM schema_migrations")) {
      while (rs.next()) {
        out.put(rs.getInt(1), rs.getString(2));
      }
    }
    return out;
  }

  private static void sql(Path db, String statement) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
      s.executeUpdate(statement);
    }
  }

  @Test
  void reopeningAppliesNothingAndKeepsTheJobs() throws Exception {
    Path db = dir.resolve("data/slotted.db");
    String id;
    try (SqliteJobStore s = SqliteJobStore.open(SqliteStoreSettings.defaults(db))) {
      id = s.submit(NewJob.of("q", "{}"), at(T0)).toCompletableFuture().join().job().id();
    }
    Map<Integer, String> first = migrations(db);
    assertThat(first).containsOnlyKeys(1);
    try (SqliteJobStore s = SqliteJobStore.open(SqliteStoreSettings.defaults(db))) {
      assertThat(s.get(id).toCompletableFuture().join()).map(Job::state).contains(JobState.READY);
    }
    assertThat(migrations(db)).isEqualTo(first);
  }

  @Test
  void aDatabaseFromANewerVersionIsRefused() throws Exception {
    Path db = dir.resolve("newer.db");
    SqliteJobStore.open(SqliteStoreSettings.defaults(db)).close();
    sql(db, "INSERT INTO schema_migrations VALUES (999, 'from the future', 'x', 0)");
    assertThatThrownBy(() -> SqliteJobStore.open(SqliteStoreSettings.defaults(db)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("schema version 999")
        .hasMessageContaining("newer than this version of Slotted knows");
  }

  @Test
  void anEditedAppliedMigrationIsRefused() throws Exception {
    Path db = dir.resolve("edited.db");
    SqliteJobStore.open(SqliteStoreSettings.defaults(db)).close();
    sql(db, "UPDATE schema_migrations SET checksum = 'tampered' WHERE version = 1");
    assertThatThrownBy(() -> SqliteJobStore.open(SqliteStoreSettings.defaults(db)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("was changed after it was applied");
  }

  @Test
  void migrationsAreFoundInsideAJarToo() throws Exception {
    Path jar = dir.resolve("m.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      // Directory entries, as the jar and shade plugins write them.
      out.putNextEntry(new JarEntry("db/"));
      out.closeEntry();
      out.putNextEntry(new JarEntry("db/migration/"));
      out.closeEntry();
      for (String name : List.of("db/migration/V001__one.sql", "db/migration/V002__two_words.sql")) {
        out.putNextEntry(new JarEntry(name));
        out.write(("CREATE TABLE t" + name.length() + " (x);").getBytes());
        out.closeEntry();
      }
    }
    try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
      List<Migrations.Migration> found = Migrations.load(loader);
      assertThat(found).extracting(Migrations.Migration::version).containsExactly(1, 2);
      assertThat(found.get(1).description()).isEqualTo("two words");
    }
    for (String dirUrl : List.of("db/migration", "db/migration/")) {
      URL url = new URL("jar:" + jar.toUri() + "!/" + dirUrl);
      assertThat(Migrations.list(url)).as(dirUrl).containsOnlyKeys("V001__one.sql", "V002__two_words.sql");
    }
  }

  @Test
  void thePartitionCountIsFixedWhenTheDatabaseIsCreated() {
    Path db = dir.resolve("parts.db");
    try (SqliteJobStore s = SqliteJobStore.open(SqliteStoreSettings.defaults(db).withPartitions(16))) {
      assertThat(s.partitions()).isEqualTo(16);
    }
    try (SqliteJobStore s = SqliteJobStore.open(SqliteStoreSettings.defaults(db).withPartitions(4))) {
      assertThat(s.partitions()).as("the configured 4 is ignored").isEqualTo(16);
      Job j = s.submit(NewJob.of("q", "{}").withPartitionKey("k"), at(T0)).toCompletableFuture().join().job();
      assertThat(j.partition()).isEqualTo(s.partitionOf("k", null)).isBetween(0, 15);
    }
  }

  @Test
  void settingsComeFromConfigAndBadValuesNameTheirKey() {
    Config reference = ConfigFactory.defaultReference();
    SqliteStoreSettings s = SqliteStoreSettings.fromConfig(reference);
    assertThat(s.path()).isEqualTo(Path.of("data/slotted.db"));
    assertThat(s.synchronous()).isEqualTo("NORMAL");
    assertThat(s.readPoolSize()).isEqualTo(2);
    assertThat(s.busyBackoff()).containsExactly(Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200));
    assertThat(s.partitions()).isEqualTo(16);
    assertThat(s.maxPayloadBytes()).isEqualTo(262144);

    Config full = ConfigFactory.parseString("slotted.store.sqlite.synchronous = full\nslotted.partitions = 3")
        .withFallback(reference);
    assertThat(SqliteStoreSettings.fromConfig(full).synchronous()).isEqualTo("FULL");
    assertThat(SqliteStoreSettings.fromConfig(full).partitions()).isEqualTo(3);

    for (String[] bad : new String[][] {
        {"slotted.store.sqlite.synchronous = OFF", "slotted.store.sqlite.synchronous"},
        {"slotted.store.sqlite.read-pool-size = 0", "slotted.store.sqlite.read-pool-size"},
        {"slotted.store.sqlite.busy-backoff = [-5ms]", "slotted.store.sqlite.busy-backoff"},
        {"slotted.store.sqlite.busy-backoff = [soon]", "slotted.store.sqlite.busy-backoff"},
        {"slotted.partitions = 0", "slotted.partitions"},
        {"slotted.store.sqlite.path = \"\"", "slotted.store.sqlite.path"}}) {
      Config c = ConfigFactory.parseString(bad[0]).withFallback(reference);
      assertThatThrownBy(() -> SqliteStoreSettings.fromConfig(c))
          .as(bad[0]).isInstanceOf(ConfigException.class).hasMessageContaining(bad[1]);
    }
  }

  @Test
  void busyIsRetriedWithBackoffThenSurfacedAndCounted() throws Exception {
    Path db = dir.resolve("busy.db");
    SqliteStoreSettings settings = SqliteStoreSettings.defaults(db)
        .withBusyBackoff(List.of(Duration.ofMillis(5), Duration.ofMillis(5)));
    try (SqliteJobStore s = SqliteJobStore.open(settings);
        Connection other = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement lock = other.createStatement()) {
      lock.execute("BEGIN IMMEDIATE");
      CompletableFuture<Submitted> f = s.submit(NewJob.of("q", "{}"), at(T0)).toCompletableFuture();
      assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS))
          .hasCauseInstanceOf(StoreException.class)
          .hasMessageContaining("busy after 2 retries");
      assertThat(s.busyRetries()).isEqualTo(2);
      // Reads never need the write lock.
      assertThat(s.list(new dev.slotted.orchestrator.store.JobQuery(null, null, 10, null))
          .toCompletableFuture().get(10, TimeUnit.SECONDS).items()).isEmpty();
      lock.execute("ROLLBACK");
      assertThat(s.submit(NewJob.of("q", "{}"), at(T0)).toCompletableFuture().get(10, TimeUnit.SECONDS).created()).isTrue();
      assertThat(s.busyRetries()).isEqualTo(2);
    }
  }

  @Test
  void aWriteThatMeetsBusyWaitsAndThenSucceeds() throws Exception {
    Path db = dir.resolve("busy2.db");
    SqliteStoreSettings settings = SqliteStoreSettings.defaults(db)
        .withBusyBackoff(List.of(Duration.ofMillis(20), Duration.ofMillis(20), Duration.ofMillis(20),
            Duration.ofMillis(20), Duration.ofSeconds(30)));
    try (SqliteJobStore s = SqliteJobStore.open(settings);
        Connection other = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement lock = other.createStatement()) {
      lock.execute("BEGIN IMMEDIATE");
      CompletableFuture<Submitted> f = s.submit(NewJob.of("q", "{}"), at(T0)).toCompletableFuture();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (s.busyRetries() < 1 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(f).isNotDone();
      lock.execute("ROLLBACK");
      assertThat(f.get(40, TimeUnit.SECONDS).created()).isTrue();
      assertThat(s.busyRetries()).isBetween(1L, 5L);
    }
  }

  @Test
  void aClosedStoreRefusesWork() {
    SqliteJobStore s = SqliteJobStore.open(SqliteStoreSettings.defaults(dir.resolve("closed.db")));
    s.close();
    s.close();
    assertThatThrownBy(() -> s.submit(NewJob.of("q", "{}"), at(T0)).toCompletableFuture().join())
        .hasCauseInstanceOf(StoreException.class);
    assertThatThrownBy(() -> s.get("1").toCompletableFuture().join()).hasCauseInstanceOf(StoreException.class);
  }

  @Test
  void anUnwritablePathFailsWithTheReason() throws Exception {
    Path file = dir.resolve("plain-file");
    Files.writeString(file, "x");
    assertThatThrownBy(() -> SqliteJobStore.open(SqliteStoreSettings.defaults(file.resolve("sub/x.db"))))
        .isInstanceOf(StoreException.class).hasMessageContaining("cannot open the job store");
  }

  @Test
  void queueStatsMatchAFullCountAfterAMixedWorkload() throws Exception {
    Path db = dir.resolve("stats.db");
    try (SqliteJobStore s = SqliteJobStore.open(SqliteStoreSettings.defaults(db).withPartitions(2))) {
      List<NewJob> jobs = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        NewJob j = NewJob.of("q" + (i % 3), "{}").withMaxAttempts(1 + i % 2);
        jobs.add(i % 10 == 0 ? j.withRunAt(T0.plusSeconds(5)) : j);
      }
      s.submitBatch(jobs, at(T0)).toCompletableFuture().join();
      Instant now = T0.plusSeconds(10);
      for (int p = 0; p < 2; p++) {
        var claimed = s.claim(new dev.slotted.orchestrator.store.ClaimRequest(p, java.util.Set.of(), java.util.Set.of(),
            100, "r", Duration.ofSeconds(1)), at(now)).toCompletableFuture().join();
        List<dev.slotted.protocol.Completion> done = new ArrayList<>();
        for (int i = 0; i < claimed.size(); i++) {
          var c = claimed.get(i);
          if (i % 4 == 0) {
            done.add(dev.slotted.protocol.Completion.succeeded(c, "w", now));
          } else if (i % 4 == 1) {
            done.add(dev.slotted.protocol.Completion.failed(c, true, "x", null, null, "w", now));
          } else if (i % 4 == 2) {
            s.cancel(c.id(), at(now)).toCompletableFuture().join();
          }
        }
        s.complete(done, at(now)).toCompletableFuture().join();
        s.reapExpired(p, at(now.plusSeconds(2))).toCompletableFuture().join();
      }
      s.purge(now.plusSeconds(1), T0, 20).toCompletableFuture().join();
      Map<String, Long> kept = new TreeMap<>();
      for (var q : s.queueCounts(now).toCompletableFuture().join()) {
        kept.put(q.queue() + "/scheduled", q.scheduled());
        kept.put(q.queue() + "/ready", q.ready());
        kept.put(q.queue() + "/running", q.running());
        kept.put(q.queue() + "/succeeded", q.succeeded());
        kept.put(q.queue() + "/dead", q.dead());
        kept.put(q.queue() + "/cancelled", q.cancelled());
      }
      Map<String, Long> counted = new TreeMap<>(kept);
      counted.replaceAll((k, v) -> 0L);
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT queue, state, count(*) FROM jobs GROUP BY queue, state")) {
        while (rs.next()) {
          counted.put(rs.getString(1) + "/" + rs.getString(2), rs.getLong(3));
        }
      }
      assertThat(kept).isEqualTo(counted);
      assertThat(kept.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(280);
    }
  }
}
