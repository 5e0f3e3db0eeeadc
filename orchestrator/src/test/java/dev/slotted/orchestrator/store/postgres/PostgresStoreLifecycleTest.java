package dev.slotted.orchestrator.store.postgres;

import static dev.slotted.orchestrator.store.JobStoreContractTest.at;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.slotted.orchestrator.store.ClaimRequest;
import dev.slotted.orchestrator.store.StoreException;
import dev.slotted.orchestrator.store.StoreSettingsException;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.NewJob;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Opening the PostgreSQL store: settings the server refuses name their key, an unreachable server
 * is retried then reported, migrations refuse a newer or edited schema, orchestrators opening an
 * empty database together migrate it once; and stores on one database never claim a job twice.
 */
class PostgresStoreLifecycleTest {
  private static final Instant T0 = Instant.parse("2026-12-01T06:00:00Z");

  private static String baseUrl() {
    String url = TestPostgres.url();
    return url.substring(0, url.indexOf('?'));
  }

  private static PostgresStoreSettings settings(String schema) {
    return PostgresStoreSettings.defaults(TestPostgres.url(), schema);
  }

  @Test
  void aWrongPasswordIsASettingToFixNamingItsKey() {
    PostgresStoreSettings s = new PostgresStoreSettings(baseUrl(), "slotted", "not-the-password", 2,
        TestPostgres.freshSchema("pw"), Duration.ofSeconds(5), 4, 1024);
    assertThatThrownBy(() -> PostgresJobStore.open(s))
        .isInstanceOf(StoreSettingsException.class)
        .hasMessageContaining("refused the credentials")
        .satisfies(e -> assertThat(((StoreSettingsException) e).key()).isEqualTo("slotted.store.postgres.password"));
  }

  @Test
  void aMissingDatabaseNamesTheUrl() {
    String url = baseUrl().replaceAll("/[^/]*$", "/no_such_db") + "?user=slotted&password=slotted";
    assertThatThrownBy(() -> PostgresJobStore.open(PostgresStoreSettings.defaults(url, "x")))
        .isInstanceOf(StoreSettingsException.class)
        .satisfies(e -> assertThat(((StoreSettingsException) e).key()).isEqualTo("slotted.store.postgres.url"));
  }

  @Test
  void anUnreachableServerIsRetriedWithBackoffThenReported() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    PostgresStoreSettings s = PostgresStoreSettings.defaults("jdbc:postgresql://127.0.0.1:" + port + "/x", "x")
        .withConnectPatience(Duration.ofMillis(1500));
    long start = System.nanoTime();
    assertThatThrownBy(() -> PostgresJobStore.open(s))
        .isInstanceOf(StoreException.class)
        .isNotInstanceOf(StoreSettingsException.class)
        .hasMessageContaining("unreachable after")
        .hasMessageMatching("(?s).*after [2-9] tries.*");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(1500));
  }

  @Test
  void aDatabaseMigratedByANewerVersionIsRefused() throws Exception {
    String schema = TestPostgres.freshSchema("newer");
    PostgresJobStore.open(settings(schema)).close();
    sql(schema, "INSERT INTO schema_migrations VALUES (999, 'from the future', 'x', 0)");
    assertThatThrownBy(() -> PostgresJobStore.open(settings(schema)))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("schema version 999, newer than this version of Slotted knows");
  }

  @Test
  void anEditedMigrationIsRefused() throws Exception {
    String schema = TestPostgres.freshSchema("edited");
    PostgresJobStore.open(settings(schema)).close();
    sql(schema, "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1");
    assertThatThrownBy(() -> PostgresJobStore.open(settings(schema)))
        .hasMessageContaining("was changed after it was applied");
  }

  @Test
  void orchestratorsOpeningAnEmptyDatabaseTogetherMigrateItOnce() throws Exception {
    String schema = TestPostgres.freshSchema("together");
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<PostgresJobStore>> opened = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        opened.add(pool.submit(() -> {
          go.await();
          return PostgresJobStore.open(settings(schema));
        }));
      }
      go.countDown();
      for (Future<PostgresJobStore> f : opened) {
        f.get().close();
      }
      assertThat(sqlCount(schema, "SELECT count(*) FROM schema_migrations")).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }

  /** Two stores (two orchestrators) claim one partition as fast as they can: no job twice, none left. */
  @Test
  void storesSharingADatabaseNeverClaimTheSameJob() throws Exception {
    String schema = TestPostgres.freshSchema("race");
    int jobs = 2000;
    try (PostgresJobStore a = PostgresJobStore.open(settings(schema).withPartitions(1));
         PostgresJobStore b = PostgresJobStore.open(settings(schema).withPartitions(1))) {
      for (int i = 0; i < jobs; i += 500) {
        List<NewJob> batch = new ArrayList<>();
        for (int k = 0; k < 500; k++) {
          batch.add(NewJob.of("q", "{}"));
        }
        a.submitBatch(batch, at(T0)).toCompletableFuture().get();
      }
      Set<String> claimed = ConcurrentHashMap.newKeySet();
      List<String> duplicates = java.util.Collections.synchronizedList(new ArrayList<>());
      ExecutorService threads = Executors.newFixedThreadPool(4);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          PostgresJobStore s = t % 2 == 0 ? a : b;
          String runner = "r" + t;
          done.add(threads.submit(() -> {
            while (true) {
              List<ClaimedJob> got = s.claim(new ClaimRequest(0, Set.of(), Set.of(), 37, runner,
                  Duration.ofMinutes(5)), at(T0.plusSeconds(1))).toCompletableFuture().get();
              if (got.isEmpty()) {
                return null;
              }
              List<Completion> ok = new ArrayList<>();
              for (ClaimedJob j : got) {
                if (!claimed.add(j.id())) {
                  duplicates.add(j.id());
                }
                ok.add(Completion.succeeded(j, runner, T0.plusSeconds(2)));
              }
              assertThat(s.complete(ok, at(T0.plusSeconds(2))).toCompletableFuture().get())
                  .allMatch(r -> r.accepted());
            }
          }));
        }
        for (Future<?> f : done) {
          f.get();
        }
      } finally {
        threads.shutdownNow();
      }
      assertThat(duplicates).isEmpty();
      assertThat(claimed).hasSize(jobs);
      assertThat(a.queueCounts(T0).toCompletableFuture().get().get(0).succeeded()).isEqualTo(jobs);
    }
  }

  /**
   * Cristian's measurement once at open and again at each heartbeat: on one host the database's
   * clock is ours.
   */
  @Test
  void theStoreMeasuresTheDatabaseClockOffsetAtOpenAndAtEachHeartbeat() throws Exception {
    try (PostgresJobStore s = PostgresJobStore.open(settings(TestPostgres.freshSchema("clock")))) {
      var atOpen = s.clockOffset().orElseThrow();
      Thread.sleep(5);
      s.heartbeat("r-1", "{}", Duration.ofSeconds(5), at(Instant.now())).toCompletableFuture().get();
      var offset = s.clockOffset().orElseThrow();
      assertThat(offset.measuredAt()).isAfter(atOpen.measuredAt());
      assertThat(offset.uncertaintyMs()).isBetween(0L, 1000L);
      assertThat(Math.abs(offset.offsetMs())).isLessThanOrEqualTo(offset.uncertaintyMs() + 50);
    }
  }

  /** The offset is measured against the host clock the store was given (a skewed one here). */
  @Test
  void theOffsetIsMeasuredAgainstTheGivenHostClock() {
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    try (PostgresJobStore s = new PostgresJobStore(settings(TestPostgres.freshSchema("skewed")), pool,
        java.time.Clock.offset(java.time.Clock.systemUTC(), Duration.ofMillis(-4_500)))) {
      var offset = s.clockOffset().orElseThrow();
      assertThat(offset.offsetMs()).isBetween(4_500 - offset.uncertaintyMs() - 50, 4_500 + offset.uncertaintyMs() + 50);
    } finally {
      pool.shutdownNow();
    }
  }

  private static void sql(String schema, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(TestPostgres.url()); Statement st = c.createStatement()) {
      st.execute("SET search_path TO " + schema);
      st.execute(sql);
    }
  }

  private static long sqlCount(String schema, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(TestPostgres.url()); Statement st = c.createStatement()) {
      st.execute("SET search_path TO " + schema);
      try (var rs = st.executeQuery(sql)) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
