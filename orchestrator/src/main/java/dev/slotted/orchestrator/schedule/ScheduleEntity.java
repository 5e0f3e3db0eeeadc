package dev.slotted.orchestrator.schedule;

import dev.slotted.protocol.FieldError;
import dev.slotted.protocol.ValidationException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.event.Level;

/**
 * One schedule (DESIGN §6): an event-sourced entity whose events are the schedule's audit trail.
 * It validates and records what happened; it does not fire. The runtime plans fires from its
 * state ({@link ScheduleFiring#plan}), submits the jobs, then records each fire here.
 *
 * <p>Refusals are {@link StatusReply} errors carrying {@link ValidationException}, {@link
 * ScheduleNotFoundException} or {@link ScheduleExistsException}. Recording a fire time already
 * recorded changes nothing and succeeds, so a replayed fire is harmless.
 *
 * <p>A write that fails (e.g. another process appended to the same schedule first, which the
 * journal's unique (persistence_id, sequence_number) refuses) restarts the entity with backoff;
 * the restart replays the journal, so the entity then sees the other writer's events. The command
 * whose write failed is then refused with {@link ScheduleConflictException}, so its caller can
 * retry at once instead of waiting for a timeout.
 */
public final class ScheduleEntity
    extends EventSourcedBehavior<ScheduleEntity.Command, ScheduleEntity.Event, ScheduleState> {

  /** Entity type in the persistence id: {@code schedule|<name>}. */
  public static final String ENTITY_TYPE = "schedule";

  private static final int SNAPSHOT_EVERY = 100;

  // ---- protocol --------------------------------------------------------------------------------

  public sealed interface Command {}

  /** Creates the schedule; refused when it exists. */
  public record Create(ScheduleSpec spec, Instant at, ActorRef<StatusReply<ScheduleState>> replyTo)
      implements Command {}

  /** Replaces the schedule's spec; refused when it does not exist. */
  public record Update(ScheduleSpec spec, Instant at, ActorRef<StatusReply<ScheduleState>> replyTo)
      implements Command {}

  /** Creates or replaces (declared schedules at start, HTTP PUT); no event when nothing changes. */
  public record Upsert(ScheduleSpec spec, Instant at, ActorRef<StatusReply<ScheduleState>> replyTo)
      implements Command {}

  public record Pause(Instant at, ActorRef<StatusReply<ScheduleState>> replyTo) implements Command {}

  /** Resumes; fire times that passed while paused are not fired. */
  public record Resume(Instant at, ActorRef<StatusReply<ScheduleState>> replyTo) implements Command {}

  public record Delete(Instant at, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /**
   * Records that the job of a fire time was submitted. {@code manual}: a trigger, which is kept in
   * the history but does not move the cursor.
   */
  public record RecordFire(
      Instant fireInstant, String jobId, boolean manual, Instant at,
      ActorRef<StatusReply<ScheduleState>> replyTo) implements Command {}

  /** Records a fire time that was deliberately not fired (overlap, or missed under skip). */
  public record RecordSkip(
      Instant fireInstant, String reason, Instant at, ActorRef<StatusReply<ScheduleState>> replyTo)
      implements Command {}

  /** The state; empty when there is no schedule of this name. */
  public record Get(ActorRef<Optional<ScheduleState>> replyTo) implements Command {}

  /** The state with the sequence number of the last event it reflects (see {@link Versioned}). */
  public record GetVersioned(ActorRef<Versioned> replyTo) implements Command {}

  /**
   * A state and the journal sequence number of the latest event applied to it. Another process
   * may have appended events since: comparing {@code sequenceNr} with the journal's highest one
   * tells whether this state is current.
   */
  public record Versioned(Optional<ScheduleState> state, long sequenceNr) {
    public static final Versioned NONE = new Versioned(Optional.empty(), 0);
  }

  /** Stops the entity (passivation); the next spawn replays the journal. */
  public enum Stop implements Command { INSTANCE }

  public sealed interface Event extends ScheduleJournalSerializable {}

  public record Created(ScheduleSpec spec, Instant at) implements Event {}

  public record Updated(ScheduleSpec spec, Instant at) implements Event {}

  public record Paused(Instant at) implements Event {}

  public record Resumed(Instant at) implements Event {}

  public record Fired(Instant fireInstant, String jobId, boolean manual, Instant at) implements Event {}

  public record Skipped(Instant fireInstant, String reason, Instant at) implements Event {}

  public record Deleted(Instant at) implements Event {}

  // ---- behavior --------------------------------------------------------------------------------

  private final String name;
  private final int maxPayloadBytes;
  private final ActorContext<Command> context;
  /**
   * Refuses the command whose event is being written, should the write fail. Kept outside the
   * state on purpose: this object outlives the restart that a failed write causes (the restart
   * rebuilds the state from the journal), and at most one write is in flight at a time.
   */
  private Runnable onWriteFailed;

  private ScheduleEntity(ActorContext<Command> context, String name, int maxPayloadBytes) {
    // A conflict with another process's write is recovered by the restart: WARN, and ERROR only
    // when it keeps failing (the journal itself is broken).
    super(persistenceId(name),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(100), Duration.ofSeconds(5), 0.2)
            .withLogLevel(Level.WARN)
            .withCriticalLogLevel(Level.ERROR, 5));
    this.name = name;
    this.maxPayloadBytes = maxPayloadBytes;
    this.context = context;
  }

  public static Behavior<Command> create(String name, ScheduleSettings settings) {
    if (name == null || !ScheduleSpec.NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("not a schedule name: " + name);
    }
    return Behaviors.setup(ctx -> new ScheduleEntity(ctx, name, settings.maxPayloadBytes()));
  }

  public static PersistenceId persistenceId(String name) {
    return PersistenceId.of(ENTITY_TYPE, name);
  }

  /** The schedule name of a persistence id of this entity type, if it is one. */
  public static Optional<String> nameOf(String persistenceId) {
    String prefix = ENTITY_TYPE + PersistenceId.DefaultSeparator();
    return persistenceId.startsWith(prefix)
        ? Optional.of(persistenceId.substring(prefix.length()))
        : Optional.empty();
  }

  @Override
  public ScheduleState emptyState() {
    return ScheduleState.EMPTY;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    // Snapshots only shorten recovery; events are never deleted (they are the audit trail).
    return RetentionCriteria.snapshotEvery(SNAPSHOT_EVERY, 2);
  }

  @Override
  public CommandHandler<Command, Event, ScheduleState> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Create.class, this::onCreate)
        .onCommand(Update.class, this::onUpdate)
        .onCommand(Upsert.class, this::onUpsert)
        .onCommand(Pause.class, this::onPause)
        .onCommand(Resume.class, this::onResume)
        .onCommand(Delete.class, this::onDelete)
        .onCommand(RecordFire.class, this::onRecordFire)
        .onCommand(RecordSkip.class, this::onRecordSkip)
        .onCommand(Get.class, this::onGet)
        .onCommand(GetVersioned.class, this::onGetVersioned)
        .onCommand(Stop.class, (s, c) -> Effect().stop())
        .build();
  }

  @Override
  public EventHandler<ScheduleState, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(Created.class, (s, e) -> s.created(e.spec(), e.at()))
        .onEvent(Updated.class, (s, e) -> s.updated(e.spec(), e.at()))
        .onEvent(Paused.class, (s, e) -> s.paused(e.at()))
        .onEvent(Resumed.class, (s, e) -> s.resumed(e.at()))
        .onEvent(Fired.class, (s, e) -> s.fired(e.fireInstant(), e.jobId(), e.manual(), e.at()))
        .onEvent(Skipped.class, (s, e) -> s.skipped(e.fireInstant(), e.reason(), e.at()))
        .onEvent(Deleted.class, (s, e) -> ScheduleState.EMPTY)
        .build();
  }

  // ---- command handlers ------------------------------------------------------------------------

  private Effect<Event, ScheduleState> onCreate(ScheduleState state, Create c) {
    if (state.exists()) {
      return Effect().reply(c.replyTo(), StatusReply.error(new ScheduleExistsException(name)));
    }
    Optional<ValidationException> invalid = check(c.spec());
    if (invalid.isPresent()) {
      return Effect().reply(c.replyTo(), StatusReply.error(invalid.get()));
    }
    return write(new Created(withAnchor(c.spec(), null, c.at()), c.at()), c.replyTo(), StatusReply::success);
  }

  private Effect<Event, ScheduleState> onUpdate(ScheduleState state, Update c) {
    if (!state.exists()) {
      return Effect().reply(c.replyTo(), StatusReply.error(new ScheduleNotFoundException(name)));
    }
    return replace(state, c.spec(), c.at(), c.replyTo());
  }

  private Effect<Event, ScheduleState> onUpsert(ScheduleState state, Upsert c) {
    if (!state.exists()) {
      return onCreate(state, new Create(c.spec(), c.at(), c.replyTo()));
    }
    return replace(state, c.spec(), c.at(), c.replyTo());
  }

  private Effect<Event, ScheduleState> replace(
      ScheduleState state, ScheduleSpec spec, Instant at, ActorRef<StatusReply<ScheduleState>> replyTo) {
    Optional<ValidationException> invalid = check(spec);
    if (invalid.isPresent()) {
      return Effect().reply(replyTo, StatusReply.error(invalid.get()));
    }
    ScheduleSpec next = withAnchor(spec, state.spec(), at);
    if (next.equals(state.spec())) {
      return Effect().reply(replyTo, StatusReply.success(state));
    }
    return write(new Updated(next, at), replyTo, StatusReply::success);
  }

  private Effect<Event, ScheduleState> onPause(ScheduleState state, Pause c) {
    if (!state.exists()) {
      return Effect().reply(c.replyTo(), StatusReply.error(new ScheduleNotFoundException(name)));
    }
    if (state.paused()) {
      return Effect().reply(c.replyTo(), StatusReply.success(state));
    }
    return write(new Paused(c.at()), c.replyTo(), StatusReply::success);
  }

  private Effect<Event, ScheduleState> onResume(ScheduleState state, Resume c) {
    if (!state.exists()) {
      return Effect().reply(c.replyTo(), StatusReply.error(new ScheduleNotFoundException(name)));
    }
    if (!state.paused()) {
      return Effect().reply(c.replyTo(), StatusReply.success(state));
    }
    return write(new Resumed(c.at()), c.replyTo(), StatusReply::success);
  }

  private Effect<Event, ScheduleState> onDelete(ScheduleState state, Delete c) {
    if (!state.exists()) {
      return Effect().reply(c.replyTo(), StatusReply.error(new ScheduleNotFoundException(name)));
    }
    return write(new Deleted(c.at()), c.replyTo(), s -> StatusReply.ack());
  }

  private Effect<Event, ScheduleState> onRecordFire(ScheduleState state, RecordFire c) {
    if (!state.exists()) {
      return Effect().reply(c.replyTo(), StatusReply.error(new ScheduleNotFoundException(name)));
    }
    if (alreadyRecorded(state, c)) {
      return Effect().reply(c.replyTo(), StatusReply.success(state));
    }
    return write(new Fired(c.fireInstant(), c.jobId(), c.manual(), c.at()), c.replyTo(), StatusReply::success);
  }

  private Effect<Event, ScheduleState> onRecordSkip(ScheduleState state, RecordSkip c) {
    if (!state.exists()) {
      return Effect().reply(c.replyTo(), StatusReply.error(new ScheduleNotFoundException(name)));
    }
    if (!c.fireInstant().isAfter(state.cursor())) {
      return Effect().reply(c.replyTo(), StatusReply.success(state));
    }
    return write(new Skipped(c.fireInstant(), c.reason(), c.at()), c.replyTo(), StatusReply::success);
  }

  private Effect<Event, ScheduleState> onGet(ScheduleState state, Get c) {
    return Effect().reply(c.replyTo(), state.exists() ? Optional.of(state) : Optional.empty());
  }

  private Effect<Event, ScheduleState> onGetVersioned(ScheduleState state, GetVersioned c) {
    return Effect().reply(c.replyTo(), new Versioned(
        state.exists() ? Optional.of(state) : Optional.empty(), lastSequenceNumber(context)));
  }

  /** Persists, then replies; a failed write is answered after the restart (see {@link #onWriteFailed}). */
  private <T> Effect<Event, ScheduleState> write(
      Event event, ActorRef<StatusReply<T>> replyTo, org.apache.pekko.japi.function.Function<ScheduleState, StatusReply<T>> reply) {
    onWriteFailed = () -> replyTo.tell(StatusReply.error(new ScheduleConflictException(name)));
    return Effect().persist(event).thenRun(() -> onWriteFailed = null).thenReply(replyTo, reply);
  }

  @Override
  public SignalHandler<ScheduleState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          if (onWriteFailed != null) {
            onWriteFailed.run();
            onWriteFailed = null;
          }
        })
        .build();
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private static boolean alreadyRecorded(ScheduleState state, RecordFire c) {
    if (!c.manual()) {
      // Fire times are recorded in order, so one at or before the last is a replay.
      return state.lastFire() != null && !c.fireInstant().isAfter(state.lastFire());
    }
    return state.recentFires().stream().anyMatch(r -> r.kind() == ScheduleState.FireRecord.Kind.TRIGGERED
        && r.fireInstant().equals(c.fireInstant()) && r.jobId().equals(c.jobId()));
  }

  private Optional<ValidationException> check(ScheduleSpec spec) {
    if (spec == null) {
      return Optional.of(new ValidationException("spec", "is required"));
    }
    List<FieldError> errors = new ArrayList<>(spec.validate(maxPayloadBytes));
    if (spec.name() != null && !spec.name().equals(name)) {
      errors.add(new FieldError("name", "must be '" + name + "' (the schedule addressed), got '"
          + spec.name() + "'"));
    }
    return errors.isEmpty() ? Optional.empty() : Optional.of(new ValidationException(errors));
  }

  /**
   * An {@code every} schedule without an anchor keeps its previous anchor, or is anchored now (to
   * the second, so fire times and their idempotency keys stay readable).
   */
  private static ScheduleSpec withAnchor(ScheduleSpec spec, ScheduleSpec previous, Instant at) {
    if (spec.every() == null || spec.anchor() != null) {
      return spec;
    }
    if (previous != null && previous.anchor() != null) {
      return spec.withAnchor(previous.anchor());
    }
    return spec.withAnchor(at.truncatedTo(ChronoUnit.SECONDS));
  }
}
