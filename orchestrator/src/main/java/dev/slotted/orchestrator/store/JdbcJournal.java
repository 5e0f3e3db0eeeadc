package dev.slotted.orchestrator.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
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
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link JournalStore} over one JDBC connection, used only by its own thread (never a Pekko
 * dispatcher), so JDBC stays off the actors' threads and the connection is never shared. The
 * {@link Dialect} says how each database takes the journal's write lock.
 */
public final class JdbcJournal implements JournalStore {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcJournal.class);

  private static final String VERSION =
      "SELECT MAX(sequence_number) FROM event_journal WHERE persistence_id = ?";

  /** How a database lists ids by prefix and takes the journal's write lock. */
  public enum Dialect {
    /**
     * SQLite: the file's write lock ({@code BEGIN IMMEDIATE}); the prefix range is an index walk of
     * the unique (persistence_id, sequence_number) index ('|' + 1 is '}': ids are "schedule|name").
     */
    SQLITE("SELECT persistence_id, MAX(sequence_number) FROM event_journal"
        + " WHERE persistence_id >= ? AND persistence_id < ? GROUP BY persistence_id"),
    /**
     * PostgreSQL: the table's EXCLUSIVE lock, which the journal's appends (ROW EXCLUSIVE) wait for as
     * they wait for SQLite's write lock; LIKE, since a range is a collation-dependent comparison.
     */
    POSTGRES("SELECT persistence_id, MAX(sequence_number) FROM event_journal"
        + " WHERE persistence_id LIKE ? GROUP BY persistence_id");

    private final String byPrefix;

    Dialect(String byPrefix) {
      this.byPrefix = byPrefix;
    }
  }

  private final Connection connection;
  private final Dialect dialect;
  private final ExecutorService thread;

  /** Takes over {@code connection} (autocommit on), closed at {@link #close()}. */
  public JdbcJournal(Connection connection, Dialect dialect) {
    this.connection = connection;
    this.dialect = dialect;
    this.thread = Executors.newSingleThreadExecutor(r -> {
      Thread th = new Thread(r, "slotted-schedule-journal");
      th.setDaemon(true);
      return th;
    });
  }

  @Override
  public CompletionStage<Map<String, Long>> highestSequenceNumbers(String prefix) {
    return CompletableFuture.supplyAsync(() -> {
      Map<String, Long> out = new TreeMap<>();
      try (PreparedStatement ps = connection.prepareStatement(dialect.byPrefix)) {
        if (dialect == Dialect.SQLITE) {
          ps.setString(1, prefix);
          ps.setString(2, prefix.substring(0, prefix.length() - 1) + (char) (prefix.charAt(prefix.length() - 1) + 1));
        } else {
          ps.setString(1, prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%");
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.put(rs.getString(1), rs.getLong(2));
          }
        }
      } catch (SQLException e) {
        throw new CompletionException(new StoreException("reading the schedule journal: " + e.getMessage(), e));
      }
      return out;
    }, thread);
  }

  @Override
  public CompletionStage<Long> highestSequenceNumber(String persistenceId) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return readVersion(persistenceId);
      } catch (SQLException e) {
        throw new CompletionException(new StoreException("reading the schedule journal: " + e.getMessage(), e));
      }
    }, thread);
  }

  @Override
  public <T> CompletionStage<T> fenced(String persistenceId, LongFunction<CompletionStage<T>> action) {
    return CompletableFuture.supplyAsync(() -> {
      try (Statement st = connection.createStatement()) {
        if (dialect == Dialect.POSTGRES) {
          connection.setAutoCommit(false);
        } else {
          st.execute("BEGIN IMMEDIATE");
        }
        try {
          if (dialect == Dialect.POSTGRES) {
            st.execute("LOCK TABLE event_journal IN EXCLUSIVE MODE");
          }
          return await(action.apply(readVersion(persistenceId)));
        } finally {
          // Nothing was written: commit and rollback both just release the lock.
          if (dialect == Dialect.POSTGRES) {
            connection.rollback();
            connection.setAutoCommit(true);
          } else {
            st.execute("ROLLBACK");
          }
        }
      } catch (SQLException e) {
        throw new CompletionException(new StoreException("fencing the schedule journal: " + e.getMessage(), e));
      }
    }, thread);
  }

  private long readVersion(String persistenceId) throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement(VERSION)) {
      ps.setString(1, persistenceId);
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
