package dev.slotted.orchestrator.store;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.LongFunction;

/**
 * The schedules' event journal as the runtime reads it beside pekko-persistence-jdbc (which writes
 * it): the highest sequence number of each persistence id, and a fence that holds the journal's
 * write lock around an action. SQLite ({@code sqlite.SqliteJournal}: its own file) and PostgreSQL
 * ({@code postgres.PostgresJournal}: the job store's schema) implement it; no JDBC type crosses it.
 * Every method runs on the journal's own thread and returns at once.
 */
public interface JournalStore extends AutoCloseable {

  /** The most a fenced action may hold the journal's write lock before the fence gives up. */
  Duration FENCE_TIMEOUT = Duration.ofSeconds(5);

  /** The highest sequence number of every persistence id that starts with {@code prefix}. */
  CompletionStage<Map<String, Long>> highestSequenceNumbers(String prefix);

  /** The highest sequence number of one persistence id; 0 when it has no events. */
  CompletionStage<Long> highestSequenceNumber(String persistenceId);

  /**
   * Takes the journal's write lock (every append of every process waits for it), reads the highest
   * sequence number of {@code persistenceId}, and runs {@code action} with it; the lock is held until
   * the stage the action returns completes, at most {@link #FENCE_TIMEOUT}. Nothing is written to
   * the journal: the lock is released by a rollback. An exception the action throws fails the stage.
   */
  <T> CompletionStage<T> fenced(String persistenceId, LongFunction<CompletionStage<T>> action);

  @Override
  void close();
}
