package dev.slotted.orchestrator.store.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.slotted.orchestrator.store.StoreException;
import dev.slotted.orchestrator.store.StoreSettingsException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connections of one PostgreSQL store: a HikariCP pool whose connections use the store's
 * schema. Every write is one READ COMMITTED transaction on a pooled connection; a serialization
 * failure or a deadlock makes the whole transaction run again after each wait of the backoff
 * (counted as a busy retry). Unlike SQLite there is no single writer: rows are locked, not the file.
 */
final class PgDb implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PgDb.class);
  private static final List<Duration> BACKOFF =
      List.of(Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200),
          Duration.ofMillis(400));

  /** Work inside one transaction. It may run more than once (retry): keep it free of side effects. */
  interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  /** Serializes orchestrators creating the schema at once. */
  private static final long SCHEMA_LOCK = 0x536c6f74745363L;

  private final PostgresStoreSettings settings;
  private final Executor executor;
  private final AtomicLong busyRetries = new AtomicLong();
  private final HikariDataSource pool;
  private volatile boolean closed;

  /** Connects (retrying an unreachable server for the configured patience), creates the schema. */
  PgDb(PostgresStoreSettings settings, Executor executor) {
    this.settings = settings;
    this.executor = executor;
    awaitServer(settings);
    HikariConfig cfg = new HikariConfig();
    cfg.setPoolName("slotted-pg");
    cfg.setJdbcUrl(settings.url());
    if (!settings.user().isEmpty()) {
      cfg.setUsername(settings.user());
    }
    if (!settings.password().isEmpty()) {
      cfg.setPassword(settings.password());
    }
    cfg.setMaximumPoolSize(settings.poolSize());
    cfg.setMinimumIdle(Math.min(2, settings.poolSize()));
    // A startup parameter, not SET search_path: no statement, so no transaction left open.
    cfg.addDataSourceProperty("currentSchema", settings.schema());
    cfg.setAutoCommit(false);
    cfg.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
    cfg.setConnectionTimeout(30_000);
    // The claim statements are few and hot: let the driver prepare them server-side at once.
    cfg.addDataSourceProperty("prepareThreshold", "1");
    cfg.addDataSourceProperty("ApplicationName", "slotted");
    this.pool = new HikariDataSource(cfg);
  }

  /**
   * Opens one plain connection until the server answers. Refused credentials or a missing database
   * are a setting to fix (exit 2, naming the key); an unreachable server is retried with backoff
   * and reported at each try, then given up after {@code connectPatience}.
   */
  static void awaitServer(PostgresStoreSettings s) {
    long deadline = System.nanoTime() + s.connectPatience().toNanos();
    long waitMs = 250;
    for (int attempt = 1; ; attempt++) {
      Properties p = new Properties();
      if (!s.user().isEmpty()) {
        p.setProperty("user", s.user());
      }
      if (!s.password().isEmpty()) {
        p.setProperty("password", s.password());
      }
      p.setProperty("connectTimeout", "5");
      try (Connection c = DriverManager.getConnection(s.url(), p)) {
        // CREATE SCHEMA IF NOT EXISTS is not safe against a concurrent one (both may find it
        // missing, one then fails on the catalog's unique index): serialize under a lock.
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
          st.execute("SELECT pg_advisory_xact_lock(" + SCHEMA_LOCK + ")");
          st.execute("CREATE SCHEMA IF NOT EXISTS " + s.schema());
          c.commit();
        }
        if (attempt > 1) {
          LOG.info("PostgreSQL at [{}] answered after [{}] tries", redact(s.url()), attempt);
        }
        return;
      } catch (SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (state.equals("28P01") || state.equals("28000")) {
          throw new StoreSettingsException(s.password().isEmpty() ? "slotted.store.postgres.user" : "slotted.store.postgres.password",
              "PostgreSQL at " + redact(s.url()) + " refused the credentials: " + e.getMessage(), e);
        }
        if (state.equals("3D000")) {
          throw new StoreSettingsException("slotted.store.postgres.url",
              "PostgreSQL at " + redact(s.url()) + " has no such database: " + e.getMessage(), e);
        }
        if (state.equals("42501")) {
          throw new StoreSettingsException("slotted.store.postgres.schema",
              "the user may not create or use schema " + s.schema() + ": " + e.getMessage(), e);
        }
        if (!state.startsWith("08") && !state.equals("57P03")) {
          throw new StoreException("cannot open the PostgreSQL store at " + redact(s.url()) + ": " + e.getMessage(), e);
        }
        if (System.nanoTime() > deadline) {
          throw new StoreException("PostgreSQL at " + redact(s.url()) + " is unreachable after " + attempt
              + " tries over " + s.connectPatience().toSeconds() + "s: " + e.getMessage(), e);
        }
        LOG.warn("PostgreSQL at [{}] is unreachable ({}); try [{}], next in [{}ms]", redact(s.url()),
            e.getMessage(), attempt, waitMs);
        sleep(Duration.ofMillis(waitMs));
        waitMs = Math.min(5_000, waitMs * 2);
      }
    }
  }

  /** The URL without its query (which may carry a password). */
  static String redact(String url) {
    int q = url.indexOf('?');
    return q < 0 ? url : url.substring(0, q) + "?...";
  }

  long busyRetries() {
    return busyRetries.get();
  }

  /**
   * Work inside one write transaction, given the time read inside it (once the connection is
   * ours, before its first statement): the only time it may store or compare with. A retry reads
   * the clock again.
   */
  interface TimedWork<T> {
    T run(Connection c, Instant now) throws SQLException;
  }

  /** A write transaction that stores no time (a purge, a deregistration). */
  <T> CompletableFuture<T> write(String op, Work<T> work) {
    return run(op, work, false);
  }

  /** A write transaction whose {@code now} is read from {@code clock} inside it. */
  <T> CompletableFuture<T> write(String op, Clock clock, TimedWork<T> work) {
    return run(op, c -> work.run(c, clock.instant()), false);
  }

  /** A read transaction on a pooled connection (read-only, one statement snapshot each). */
  <T> CompletableFuture<T> read(String op, Work<T> work) {
    return run(op, work, true);
  }

  private <T> CompletableFuture<T> run(String op, Work<T> work, boolean readOnly) {
    if (closed) {
      return CompletableFuture.failedFuture(new StoreException("the job store is closed"));
    }
    return CompletableFuture.supplyAsync(() -> inTransaction(op, work, readOnly), executor);
  }

  /** Runs {@code work} now, on the calling thread (opening, migrations, tools). */
  <T> T inTransaction(String op, Work<T> work, boolean readOnly) {
    for (int retry = 0; ; retry++) {
      try (Connection c = pool.getConnection()) {
        try {
          T result = work.run(c);
          c.commit();
          return result;
        } catch (SQLException | RuntimeException | Error e) {
          try {
            c.rollback();
          } catch (SQLException rollback) {
            e.addSuppressed(rollback);
          }
          throw e;
        }
      } catch (SQLException e) {
        if (!isRetryable(e)) {
          throw new StoreException("store operation '" + op + "' failed: " + e.getMessage(), e);
        }
        if (retry >= BACKOFF.size()) {
          throw new StoreException("store operation '" + op + "' failed after " + BACKOFF.size()
              + " retries: " + e.getMessage(), e);
        }
        busyRetries.incrementAndGet();
        LOG.info("[{}] in [{}] ({}), retry [{}]", e.getSQLState(), op, e.getMessage(), retry + 1);
        long ms = BACKOFF.get(retry).toMillis();
        sleep(Duration.ofMillis(ms / 2 + ThreadLocalRandom.current().nextLong(ms / 2 + 1)));
      }
    }
  }

  /** Serialization failure or deadlock: nothing was written. (A lost connection is not retried: its commit may have happened.) */
  static boolean isRetryable(SQLException e) {
    String s = e.getSQLState();
    return s != null && (s.equals("40001") || s.equals("40P01"));
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while waiting to retry", e);
    }
  }

  PostgresStoreSettings settings() {
    return settings;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    pool.close();
  }
}
