package dev.slotted.orchestrator.schedule;

import dev.slotted.orchestrator.store.JournalStore;
import dev.slotted.orchestrator.store.postgres.PostgresJournal;
import dev.slotted.orchestrator.store.sqlite.SqliteJournal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Reads the schedule journal's sequence numbers directly, and fences a fire against concurrent
 * writers in other processes. Several runner processes share the journal, and each keeps its own
 * entity per schedule: an entity's state is stale as soon as another process appends to the same
 * schedule. The journal's highest sequence number per schedule tells whether a state is current
 * ({@link ScheduleEntity.Versioned#sequenceNr()}). The SQL lives in the store ({@link
 * JournalStore}); this class speaks in schedules.
 */
public final class JournalIndex implements AutoCloseable {

  /** The most a fenced action may hold the journal's write lock before the fence gives up. */
  static final Duration FENCE_TIMEOUT = JournalStore.FENCE_TIMEOUT;

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

  /** Every schedule's persistence id starts with this ("schedule|"). */
  private static final String PREFIX = ScheduleEntity.ENTITY_TYPE + org.apache.pekko.persistence.typed.PersistenceId.DefaultSeparator();

  private final JournalStore journal;

  private JournalIndex(JournalStore journal) {
    this.journal = journal;
  }

  /** Opens the journal of these settings: the SQLite file, or the PostgreSQL schema. */
  public static JournalIndex open(ScheduleSettings settings) {
    return settings.journalPostgres() == null ? open(settings.journalPath())
        : new JournalIndex(PostgresJournal.open(settings.journalPostgres()));
  }

  /** Opens the journal (whose schema must exist: {@link ScheduleJournal#ensureSchema}). */
  public static JournalIndex open(Path file) {
    return new JournalIndex(SqliteJournal.open(file));
  }

  /** The highest sequence number of every schedule ever created (deleted ones included), by name. */
  public CompletionStage<Map<String, Long>> versions() {
    return journal.highestSequenceNumbers(PREFIX).thenApply(byId -> {
      Map<String, Long> out = new TreeMap<>();
      byId.forEach((id, seq) -> ScheduleEntity.nameOf(id).ifPresent(name -> out.put(name, seq)));
      return out;
    });
  }

  /** The highest sequence number of one schedule; 0 when it never existed. */
  public CompletionStage<Long> version(String name) {
    return journal.highestSequenceNumber(ScheduleEntity.persistenceId(name).id());
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
   * milliseconds, inside this runner's window); other journal writers wait for it meanwhile. Only
   * the journal is locked, never the job store.
   */
  public <T> CompletionStage<T> fenced(
      String name, long expected, BooleanSupplier mayWrite, Supplier<CompletionStage<T>> action) {
    return journal.fenced(ScheduleEntity.persistenceId(name).id(), actual -> {
      if (actual != expected) {
        throw new StaleException(name, expected, actual);
      }
      if (!mayWrite.getAsBoolean()) {
        throw new WindowClosedException();
      }
      return action.get();
    });
  }

  @Override
  public void close() {
    journal.close();
  }
}
