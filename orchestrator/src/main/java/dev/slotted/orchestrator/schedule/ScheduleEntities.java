package dev.slotted.orchestrator.schedule;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The parent of this process's schedule entities: at most one live entity per schedule name, so
 * the HTTP API and the firer of one process never race each other's writes. Entities are spawned
 * on first use, replaced on {@link Evict} (the next use replays the journal, which is how a stale
 * entity catches up with another process's events) and passivated when idle.
 */
public final class ScheduleEntities extends AbstractBehavior<ScheduleEntities.Command> {

  /** Entities unused for this long are stopped; their state is one journal replay away. */
  static final Duration IDLE = Duration.ofMinutes(2);

  public sealed interface Command {}

  /** Delivers a command to the entity of {@code name}, spawning it when needed. */
  public record Forward(String name, ScheduleEntity.Command command) implements Command {}

  /**
   * Stops the current entity of {@code name} once it has handled what it was sent; the next
   * {@link Forward} spawns a fresh one that recovers from the journal.
   */
  public record Evict(String name) implements Command {}

  private enum Passivate implements Command {
    INSTANCE
  }

  private record Live(ActorRef<ScheduleEntity.Command> ref, Instant lastUsed) {}

  private final ScheduleSettings settings;
  private final Clock clock;
  private final Map<String, Live> live = new HashMap<>();
  private long incarnation;

  public static Behavior<Command> create(ScheduleSettings settings, Clock clock) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new ScheduleEntities(ctx, timers, settings, clock)));
  }

  private ScheduleEntities(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, ScheduleSettings settings, Clock clock) {
    super(ctx);
    this.settings = settings;
    this.clock = clock;
    timers.startTimerWithFixedDelay(Passivate.INSTANCE, IDLE.dividedBy(2));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Forward.class, this::onForward)
        .onMessage(Evict.class, this::onEvict)
        .onMessageEquals(Passivate.INSTANCE, this::onPassivate)
        .build();
  }

  private Behavior<Command> onForward(Forward f) {
    Live entity = live.get(f.name());
    if (entity == null) {
      // A fresh name per incarnation: the evicted one may still be finishing its mailbox.
      entity = new Live(getContext().spawn(ScheduleEntity.create(f.name(), settings),
          "schedule-" + f.name() + "-" + (++incarnation)), null);
    }
    live.put(f.name(), new Live(entity.ref(), clock.instant()));
    entity.ref().tell(f.command());
    return this;
  }

  private Behavior<Command> onEvict(Evict e) {
    Live entity = live.remove(e.name());
    if (entity != null) {
      entity.ref().tell(ScheduleEntity.Stop.INSTANCE);
    }
    return this;
  }

  private Behavior<Command> onPassivate() {
    Instant cut = clock.instant().minus(IDLE);
    for (Iterator<Live> it = live.values().iterator(); it.hasNext(); ) {
      Live entity = it.next();
      if (entity.lastUsed().isBefore(cut)) {
        entity.ref().tell(ScheduleEntity.Stop.INSTANCE);
        it.remove();
      }
    }
    return this;
  }
}
