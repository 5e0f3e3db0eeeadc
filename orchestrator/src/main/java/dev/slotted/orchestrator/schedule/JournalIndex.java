package dev.slotted.orchestrator.schedule;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the schedule journal's sequence numbers directly, and fences a fire against concurrent
 * writers in other processes. Several runner processes share the journal file, and each keeps its
 * own entity per schedule: an entity's state is stale as soon as another process appends to the
 * same schedule. The journal's highest sequence number per schedule tells whether a state is
 * current ({@link ScheduleEntity.Versioned#sequenceNr()}).
 *
 * <p>One connection, used only by this class's own thread (never a Pekko dispatcher), so JDBC
 * stays off the actors' threads and the connection is never shared.
 */
public final class JournalIndex implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(JournalIndex.class);

  // The persistence ids of schedules are "schedule|<name>"; '}' sorts right after '|', so this
  // range is an index walk of the unique (persistence_id, sequence_number) index.
  private static final String VERSIONS = """
      SELECT persistence_id, MAX(sequence_number) FROM event_journal
      WHERE persistence_id >= 'schedule|' AND persistence_id < 'schedule}'
      GROUP BY persistence_id""";
  private static final String VERSION =
      "SELECT MAX(sequence_number) FROM event_journal WHERE persistence_id = ?";

  /** The most a fenced action may hold the journal's write lock before the fence gives up. */
  static final Duration FENCE_TIMEOUT = Duration.ofSeconds(5);

  /** Thrown by {@link #fenced} when another writer appended to the schedule since it was read. */
  public static final class StaleException extends RuntimeException {
    public StaleException(String name, long expected, long actual) {
      super("schedule '" + name + "' changed in the journal: expected sequence number " + expected
          + ", found " + actual, null, false, false);
    }
  }

  /** Thrown by {@link #fenced} when the caller's window closed before the action could start. */
  public static final class WindowClosedException extends RuntimeException {
    public WindowClosedException() {
      super("the runner's window closed", null, false, false);
    }
  }

  /** On PostgreSQL: the range above is a collation-dependent comparison there, LIKE is not. */
  private static final String VERSIONS_PG = "SELECT persistence_id, MAX(sequence_number) FROM event_journal"
      + " WHERE persistence_id LIKE 'schedule|%' GROUP BY persistence_id";

  private final Connection connection;
  private final ExecutorService thread;
  private final boolean postgres;

  private JournalIndex(Connection connection, ExecutorService thread, boolean postgres) {
    this.connection = connection;
    this.thread = thread;
    this.postgres = postgres;
  }

  /** Opens the journal of these settings: the SQLite file, or the PostgreSQL schema. */
  public static JournalIndex open(ScheduleSettings settings) {
    if (settings.journalPostgres() == null) {
      return open(settings.journalPath());
    }
    try {
      Connection c = dev.slotted.orchestrator.store.postgres.PostgresJournal.connect(settings.journalPostgres());
      return new JournalIndex(c, thread(), true);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot open the schedule journal in PostgreSQL: " + e.getMessage(), e);
    }
  }

  private static ExecutorService thread() {
    return Executors.newSingleThreadExecutor(r -> {
      Thread th = new Thread(r, "slotted-schedule-journal");
      th.setDaemon(true);
      return th;
    });
  }

  /** Opens the journal (whose schema must exist: {@link ScheduleJournal#ensureSchema}). */
  public static JournalIndex open(Path file) {
    try {
      Connection c = DriverManager.getConnection(ScheduleJournal.jdbcUrl(file));
      return new JournalIndex(c, thread(), false);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot open the schedule journal " + file + ": " + e.getMessage(), e);
    }
  }

  /** The highest sequence number of every schedule ever created (deleted ones included), by name. */
  public CompletionStage<Map<String, Long>> versions() {
    return CompletableFuture.supplyAsync(() -> {
      Map<String, Long> out = new TreeMap<>();
      try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery(postgres ? VERSIONS_PG : VERSIONS)) {
        while (rs.next()) {
          ScheduleEntity.nameOf(rs.getString(1)).ifPresent(name -> {
            try {
              out.put(name, rs.getLong(2));
            } catch (SQLException e) {
              throw new CompletionException(e);
            }
          });
        }
      } catch (SQLException e) {
        throw new CompletionException(e);
      }
      return out;
    }, thread);
  }

  /** The highest sequence number of one schedule; 0 when it never existed. */
  public CompletionStage<Long> version(String name) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return readVersion(name);
      } catch (SQLException e) {
        throw new CompletionException(e);
      }
    }, thread);
  }

  /**
   * Runs {@code action} (a job submit) while holding the journal's write lock, provided the
   * schedule's highest sequence number is still {@code expected}; fails with {@link
   * StaleException} otherwise, and with {@link WindowClosedException} when {@code mayWrite} says
   * no once the lock is held.
   *
   * <p>This makes a fire and any other process's change of the same schedule (a pause, above all)
   * mutually exclusive: the change's append waits for the lock, so it either lands before the
   * check, which then refuses to fire, or after the job was submitted, so the job was created
   * before the change was acknowledged. Without the lock, a pause acknowledged between the check
   * and the submit could still be followed by a fire. The lock is held for one submit (a few
   * milliseconds, inside this runner's window); other journal writers wait through their
   * busy_timeout meanwhile. Only the journal is locked, never the job store.
   */
  public <T> CompletionStage<T> fenced(
      String name, long expected, BooleanSupplier mayWrite, Supplier<CompletionStage<T>> action) {
    return CompletableFuture.supplyAsync(() -> {
      try (Statement st = connection.createStatement()) {
        if (postgres) {
          connection.setAutoCommit(false);
        } else {
          st.execute("BEGIN IMMEDIATE");
        }
        try {
          if (postgres) {
            // The journal's appends (ROW EXCLUSIVE) wait for this lock as they wait for SQLite's
            // write lock: the same fence, on the table instead of the file.
            st.execute("LOCK TABLE event_journal IN EXCLUSIVE MODE");
          }
          long actual = readVersion(name);
          if (actual != expected) {
            throw new StaleException(name, expected, actual);
          }
          if (!mayWrite.getAsBoolean()) {
            throw new WindowClosedException();
          }
          return await(action.get());
        } finally {
          // Nothing was written: commit and rollback both just release the lock.
          if (postgres) {
            connection.rollback();
            connection.setAutoCommit(true);
          } else {
            st.execute("ROLLBACK");
          }
        }
      } catch (SQLException e) {
        throw new CompletionException(e);
      }
    }, thread);
  }

  private long readVersion(String name) throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement(VERSION)) {
      ps.setString(1, ScheduleEntity.persistenceId(name).id());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : 0;
      }
    }
  }

  private static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(FENCE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new CompletionException(e.getCause());
    } catch (TimeoutException e) {
      // The lock is released with the action still pending: only a store stalled this long can
      // let it land after a concurrent change; the fire is then retried and deduplicated by key.
      throw new CompletionException(new TimeoutException("a fenced submit took over " + FENCE_TIMEOUT));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CompletionException(e);
    }
  }

  @Override
  public void close() {
    thread.shutdown();
    try {
      if (!thread.awaitTermination(5, TimeUnit.SECONDS)) {
        thread.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      connection.close();
    } catch (SQLException e) {
      LOG.warn("Closing the schedule journal connection failed: {}", e.toString());
    }
  }
}
