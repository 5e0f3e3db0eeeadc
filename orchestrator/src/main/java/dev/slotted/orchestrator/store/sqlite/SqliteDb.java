package dev.slotted.orchestrator.store.sqlite;

import dev.slotted.orchestrator.store.SerialExecutor;
import dev.slotted.orchestrator.store.StoreException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteException;

/**
 * The connections of one SQLite file: a single writer reached only through a serial lane, and a
 * small pool of readers. Every write is one {@code BEGIN IMMEDIATE} transaction; SQLITE_BUSY makes
 * the whole transaction run again after each wait of the backoff list (busy_timeout is 0, so SQLite
 * itself never sleeps), and is surfaced as a {@link StoreException} once the list is used up.
 */
final class SqliteDb implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SqliteDb.class);
  private static final int SQLITE_BUSY = 5;

  /** Work inside one transaction. It may run more than once (busy retry): keep it free of side effects. */
  interface Work<T> {
    T run(Conn c) throws SQLException;
  }

  /**
   * Work inside one write transaction, given the time read inside it (after the write lock is
   * taken): the only time it may store or compare with. It may run more than once (busy retry), each
   * time with a fresh reading.
   */
  interface TimedWork<T> {
    T run(Conn c, Instant now) throws SQLException;
  }

  private interface Attempt<T> {
    T run() throws SQLException;
  }

  private final SqliteStoreSettings settings;
  private final Executor executor;
  private final SerialExecutor writeLane;
  private final AtomicLong busyRetries = new AtomicLong();
  private final BlockingQueue<Conn> readers;
  private Conn writer;
  private int openedReaders;
  private volatile boolean closed;

  SqliteDb(SqliteStoreSettings settings, Executor executor) {
    this.settings = settings;
    this.executor = executor;
    this.writeLane = new SerialExecutor(executor);
    this.readers = new ArrayBlockingQueue<>(settings.readPoolSize());
  }

  /** Opens the connections (on the write lane) and runs {@code init} on the writer before any use. */
  void open(Work<Void> init) {
    CompletableFuture<Void> opened = CompletableFuture.runAsync(() -> {
      try {
        Path parent = settings.path().toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        writer = connect(false);
        // Opening has no TDMA slot yet: a runner joining a busy database must outwait the others'
        // write bursts, so these two retry for up to OPEN_PATIENCE rather than the usual backoff.
        retryingPatiently("open", () -> {
          // journal_mode=WAL needs a moment of exclusive access on a fresh file: busy-retried too.
          writer.exec("PRAGMA journal_mode=WAL");
          return null;
        });
        retryingPatiently("migrate", () -> init.run(writer));
        for (int i = 0; i < settings.readPoolSize(); i++) {
          readers.add(connect(true));
          openedReaders++;
        }
      } catch (StoreException e) {
        throw e;
      } catch (Exception e) {
        throw new StoreException("cannot open the job store at " + settings.path() + ": " + e.getMessage(), e);
      }
    }, writeLane);
    try {
      opened.join();
    } catch (CompletionException e) {
      closeConnections();
      throw e.getCause() instanceof RuntimeException r ? r : new StoreException("cannot open", e.getCause());
    }
  }

  private Conn connect(boolean reader) throws SQLException {
    SQLiteConfig cfg = new SQLiteConfig();
    cfg.setBusyTimeout(0);
    cfg.setSynchronous(SQLiteConfig.SynchronousMode.valueOf(settings.synchronous()));
    cfg.setTempStore(SQLiteConfig.TempStore.MEMORY);
    Conn c = new Conn(cfg.createConnection("jdbc:sqlite:" + settings.path().toAbsolutePath()));
    if (reader) {
      c.exec("PRAGMA query_only = 1");
    }
    return c;
  }

  long busyRetries() {
    return busyRetries.get();
  }

  /** A write transaction that stores no time (a purge, a deregistration). */
  <T> CompletableFuture<T> write(String op, Work<T> work) {
    if (closed) {
      return CompletableFuture.failedFuture(new StoreException("the job store is closed"));
    }
    return CompletableFuture.supplyAsync(
        () -> retrying(op, () -> inTransaction(writer, "BEGIN IMMEDIATE", work)), writeLane);
  }

  /**
   * A write transaction on the single writer, serialized with every other write of this process.
   * {@code clock} is read once the write lock is held: a write that waited for the lane or for a
   * busy retry stores the time it ran.
   */
  <T> CompletableFuture<T> write(String op, Clock clock, TimedWork<T> work) {
    // inTransaction runs the work after BEGIN IMMEDIATE returned: the lock is ours when it reads.
    return write(op, c -> work.run(c, clock.instant()));
  }

  /** A read transaction (one snapshot) on a pooled reader; never takes the write lock. */
  <T> CompletableFuture<T> read(String op, Work<T> work) {
    if (closed) {
      return CompletableFuture.failedFuture(new StoreException("the job store is closed"));
    }
    return CompletableFuture.supplyAsync(() -> {
      Conn c = takeReader();
      try {
        return retrying(op, () -> inTransaction(c, "BEGIN", work));
      } finally {
        readers.add(c);
      }
    }, executor);
  }

  private Conn takeReader() {
    try {
      Conn c = readers.poll(30, TimeUnit.SECONDS);
      if (c == null) {
        throw new StoreException("no reader connection free for 30s");
      }
      return c;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while waiting for a reader connection", e);
    }
  }

  static <T> T inTransaction(Conn c, String begin, Work<T> work) throws SQLException {
    c.run(begin);
    T result;
    try {
      result = work.run(c);
    } catch (SQLException | RuntimeException | Error e) {
      rollback(c, e);
      throw e;
    }
    try {
      c.run("COMMIT");
    } catch (SQLException e) {
      rollback(c, e);
      throw e;
    }
    return result;
  }

  /** Only called once BEGIN succeeded (a failed BEGIN, e.g. SQLITE_BUSY, leaves no transaction). */
  private static void rollback(Conn c, Throwable cause) {
    try {
      c.run("ROLLBACK");
    } catch (SQLException rollback) {
      cause.addSuppressed(rollback);
    }
    try {
      // Nothing half-bound or half-batched survives a failed transaction (prepare resets too).
      c.resetAll();
    } catch (SQLException reset) {
      cause.addSuppressed(reset);
    }
  }

  /** How long opening the store keeps retrying SQLITE_BUSY. */
  static final Duration OPEN_PATIENCE = Duration.ofSeconds(60);

  private <T> T retryingPatiently(String op, Attempt<T> attempt) {
    long deadline = System.nanoTime() + OPEN_PATIENCE.toNanos();
    while (true) {
      try {
        return retrying(op, attempt);
      } catch (StoreException e) {
        if (!(e.getCause() instanceof SQLException sql) || !isBusy(sql) || System.nanoTime() > deadline) {
          throw e;
        }
        LOG.info("Store busy while opening ([{}]); waiting for the other runners' writes", op);
        sleep(Duration.ofMillis(50 + java.util.concurrent.ThreadLocalRandom.current().nextInt(200)));
      }
    }
  }

  private <T> T retrying(String op, Attempt<T> attempt) {
    List<Duration> backoff = settings.busyBackoff();
    for (int retry = 0; ; retry++) {
      try {
        return attempt.run();
      } catch (SQLException e) {
        if (!isBusy(e)) {
          throw new StoreException("store operation '" + op + "' failed: " + e.getMessage(), e);
        }
        if (retry >= backoff.size()) {
          throw new StoreException("store operation '" + op + "' failed: database busy after "
              + backoff.size() + " retries (another process holds the write lock)", e);
        }
        busyRetries.incrementAndGet();
        // Rare by design (TDMA): each one is worth a line, to find who wrote outside its slot.
        LOG.info("SQLITE_BUSY in [{}], retry [{}] in [{}]", op, retry + 1, backoff.get(retry));
        sleep(backoff.get(retry));
      }
    }
  }

  static boolean isBusy(SQLException e) {
    if (e instanceof SQLiteException s) {
      return (s.getResultCode().code & 0xff) == SQLITE_BUSY;
    }
    return (e.getErrorCode() & 0xff) == SQLITE_BUSY;
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted during busy backoff", e);
    }
  }

  /**
   * Refuses new work, lets queued writes finish, then closes every connection. Readers still in use
   * are waited for (up to 10 s each).
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      CompletableFuture.runAsync(() -> { }, writeLane).get(30, TimeUnit.SECONDS);
    } catch (RejectedExecutionException e) {
      LOG.warn("The store's executor is already shut down; closing the connections from [{}]",
          Thread.currentThread().getName());
    } catch (Exception e) {
      LOG.warn("Pending store writes did not finish within 30s; closing anyway", e);
    }
    closeConnections();
  }

  private void closeConnections() {
    List<Conn> toClose = new ArrayList<>();
    for (int i = 0; i < openedReaders; i++) {
      try {
        Conn c = readers.poll(10, TimeUnit.SECONDS);
        if (c != null) {
          toClose.add(c);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    toClose.forEach(Conn::close);
    if (writer != null) {
      writer.close();
      writer = null;
    }
  }
}
