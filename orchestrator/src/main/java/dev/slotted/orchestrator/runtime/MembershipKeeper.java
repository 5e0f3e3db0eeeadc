package dev.slotted.orchestrator.runtime;

import dev.slotted.orchestrator.clock.Membership;
import dev.slotted.orchestrator.clock.SlotClock;
import dev.slotted.orchestrator.clock.SlotMath;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.RunnerRow;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Dynamic membership (DESIGN §2, join window). Twice a cycle it reads the runner rows (a read: no
 * slot needed) and tells the SlotClock this runner's slot in the next cycle, by {@link
 * Membership#forCycle}: every runner derives the same membership for a cycle from the same rows,
 * whenever it read them, so all of them switch at the same boundary and no two windows overlap.
 *
 * <p>A runner whose own row expired (a pause outlived its lease) has no slot; it registers again
 * with one write in the middle of a gap between two windows ({@link SlotMath#joinAt}), the only
 * write of this process that does not go through the window owner, and is admitted {@link
 * Membership#ADMISSION_CYCLES} cycles later.
 */
public final class MembershipKeeper extends AbstractBehavior<MembershipKeeper.Command> {

  /** What the membership keeper accepts. */
  public sealed interface Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  private enum Join implements Command {
    INSTANCE
  }

  private record Rows(List<RunnerRow> rows, Throwable error) implements Command {}

  private record Joined(Instant expiresAt, Throwable error) implements Command {}

  private final JobStore store;
  private final String runnerId;
  private final long cycleMs;
  private final long guardMs;
  private final Duration runnerTtl;
  private final Clock clock;
  private final ActorRef<SlotClock.Command> slotClock;
  private final TimerScheduler<Command> timers;
  private Membership.Assignment told;
  private boolean reading;
  private boolean joining;

  /**
   * @param store the store itself, not the windowed one: the join write happens without a slot
   * @param initial the assignment the SlotClock started with
   */
  public static Behavior<Command> create(JobStore store, String runnerId, Duration cycle, Duration guard,
      Duration runnerTtl, Membership.Assignment initial, Clock clock, ActorRef<SlotClock.Command> slotClock) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new MembershipKeeper(ctx, timers, store, runnerId,
        cycle, guard, runnerTtl, initial, clock, slotClock)));
  }

  private MembershipKeeper(ActorContext<Command> ctx, TimerScheduler<Command> timers, JobStore store,
      String runnerId, Duration cycle, Duration guard, Duration runnerTtl, Membership.Assignment initial,
      Clock clock, ActorRef<SlotClock.Command> slotClock) {
    super(ctx);
    this.timers = timers;
    this.store = store;
    this.runnerId = runnerId;
    this.cycleMs = cycle.toMillis();
    this.guardMs = guard.toMillis();
    this.runnerTtl = runnerTtl;
    this.told = initial;
    this.clock = clock;
    this.slotClock = slotClock;
    timers.startTimerWithFixedDelay(Tick.INSTANCE, cycle.dividedBy(2));
    ctx.getSelf().tell(Tick.INSTANCE);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(Rows.class, this::onRows)
        .onMessageEquals(Join.INSTANCE, this::onJoin)
        .onMessage(Joined.class, this::onJoined)
        .build();
  }

  private Behavior<Command> onTick() {
    if (!reading) {
      reading = true;
      getContext().pipeToSelf(store.runners(clock.instant()), Rows::new);
    }
    return this;
  }

  private Behavior<Command> onRows(Rows r) {
    reading = false;
    if (r.error() != null) {
      getContext().getLog().warn("Reading the runner rows failed: {}", r.error().toString());
      return this;
    }
    long now = clock.millis();
    long next = Math.floorDiv(now, cycleMs) + 1;
    Membership.Assignment a = Membership.forCycle(r.rows(), runnerId, next, cycleMs);
    if (!a.equals(told)) {
      getContext().getLog().info("From cycle [{}]: runner [{}] is {} of [{}]", next, runnerId,
          a.member() ? "index [" + a.index() + "]" : "without a slot", a.count());
      told = a;
    }
    // Told every time: the clock may have given up its slot on its own (its lease expired), and
    // an unchanged membership costs it nothing.
    slotClock.tell(new SlotClock.SetMembership(a.index(), a.count(), next));
    RunnerRow own = r.rows().stream().filter(row -> row.id().equals(runnerId)).findFirst().orElse(null);
    if (!joining && (own == null || own.expiresAt().toEpochMilli() <= now)) {
      joining = true;
      int members = Membership.forCycle(r.rows(), runnerId, Math.floorDiv(now, cycleMs), cycleMs).count();
      long at = SlotMath.joinAt(now + 1, cycleMs, members, guardMs);
      getContext().getLog().info("Own runner row {}: registering again in the gap at [{}]",
          own == null ? "is gone" : "expired", Instant.ofEpochMilli(at));
      timers.startSingleTimer(Join.INSTANCE, Duration.ofMillis(Math.max(0, at - now)));
    }
    return this;
  }

  private Behavior<Command> onJoin() {
    Instant now = clock.instant();
    getContext().pipeToSelf(store.heartbeat(runnerId, "{}", runnerTtl, clock),
        (v, err) -> new Joined(now.plus(runnerTtl), err));
    return this;
  }

  private Behavior<Command> onJoined(Joined j) {
    joining = false;
    if (j.error() != null) {
      getContext().getLog().warn("Registering again failed; trying at the next gap: {}", j.error().toString());
    } else {
      slotClock.tell(new SlotClock.SetLeaseExpiry(j.expiresAt()));
    }
    return this;
  }
}
