package dev.slotted.orchestrator.schedule;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * The names of every schedule ever created, read from the journal's persistence ids (no second
 * registry to keep consistent). A deleted schedule keeps its name here: its entity's state is
 * empty, so callers spawn each entity and skip those whose {@link ScheduleEntity.Get} is empty.
 */
public final class ScheduleRegistry {

  private ScheduleRegistry() {}

  /** Sorted names; the query runs on the journal's own (Slick) threads. */
  public static CompletionStage<List<String>> names(ActorSystem<?> system) {
    JdbcReadJournal journal = PersistenceQuery.get(system)
        .getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
    return journal.currentPersistenceIds()
        .map(ScheduleEntity::nameOf)
        .filter(Optional::isPresent)
        .map(Optional::get)
        .runWith(Sink.seq(), system)
        .thenApply(names -> names.stream().sorted().distinct().toList());
  }
}
