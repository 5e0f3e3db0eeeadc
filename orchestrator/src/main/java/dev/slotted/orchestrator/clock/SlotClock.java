package dev.slotted.orchestrator.clock;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The TDMA clock of one runner (DESIGN §2): tells its subscribers (the Reconcilers) when this
 * runner's write window opens and closes.
 *
 * <p>The state is derived from the injected {@link Clock} on every tick, never from a tick count,
 * and one single timer is re-armed to the next boundary. A tick that arrives late inside a window
 * still opens it with its true close time; a tick that arrives after a window ended skips it and
 * counts it as missed. Because ticks can be late, {@link WindowClosed} can arrive after the window
 * ended: a subscriber must not start a write after {@link WindowOpened#closesAt()}.
 *
 * <p>{@link SetMembership} takes effect at the start of the next cycle, so every runner that learns
 * the new membership within the same cycle switches at the same boundary.
 *
 * <p>Continuous mode ({@code slotted.tdma.enabled = false}) and a single runner without guard
 * announce one endless window ({@code closesAt = Instant.MAX}) and never close it, so Reconcilers
 * have one code path for both modes.
 *
 * <p>Subscribers report the work they did in a slot with {@link SlotWorkDone}; the clock sums it
 * per cycle and counts overruns (work that ended after its window closed), visible in {@link
 * Status} and pushed to a {@link Listener} for metrics.
 */
public final class SlotClock extends AbstractBehavior<SlotClock.Command> {

  /** Messages the clock accepts. */
  public sealed interface Command {}

  /** Adds a subscriber; if a window is open it gets {@link WindowOpened} at once. */
  public record Subscribe(ActorRef<Event> subscriber) implements Command {
    public Subscribe {
      Objects.requireNonNull(subscriber, "subscriber");
    }
  }

  public record Unsubscribe(ActorRef<Event> subscriber) implements Command {
    public Unsubscribe {
      Objects.requireNonNull(subscriber, "subscriber");
    }
  }

  /**
   * A new membership, applied at the start of cycle {@code fromCycle} (or of the next cycle, when
   * that one has begun already). {@code index} {@link Membership#NO_SLOT}: this runner has no slot
   * from then on (not admitted yet, or dropped). An invalid one (index out of range, or too many
   * runners for the guard) is logged and ignored.
   */
  public record SetMembership(int index, int count, long fromCycle) implements Command {
    /** Applied at the start of the next cycle. */
    public SetMembership(int index, int count) {
      this(index, count, Long.MIN_VALUE);
    }
  }

  /**
   * This runner's own lease row expires at {@code expiresAt} (dynamic membership). Past it, less a
   * guard, the others no longer count this runner: it gives up its slot at once (a pause that
   * outlived the lease must not end with a write in someone else's window) until it is admitted
   * again.
   */
  public record SetLeaseExpiry(Instant expiresAt) implements Command {
    public SetLeaseExpiry {
      Objects.requireNonNull(expiresAt, "expiresAt");
    }
  }

  /**
   * Work a subscriber did for the window of {@code cycle}.
   *
   * @param endedAt when the work ended, read from the same clock; after the window's close time it
   *     counts as an overrun
   */
  public record SlotWorkDone(long cycle, Duration work, Instant endedAt) implements Command {
    public SlotWorkDone {
      Objects.requireNonNull(work, "work");
      Objects.requireNonNull(endedAt, "endedAt");
      if (work.isNegative()) {
        throw new IllegalArgumentException("work " + work + " is negative");
      }
    }
  }

  public record GetStatus(ActorRef<Status> replyTo) implements Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  private record SubscriberTerminated(ActorRef<Event> subscriber) implements Command {}

  /** What subscribers receive. */
  public sealed interface Event {}

  /**
   * This runner may write from now until {@code closesAt}.
   *
   * @param opensAt the window's true opening (for an endless window: when it was announced)
   * @param closesAt the window's true end, {@link Instant#MAX} for an endless window
   */
  public record WindowOpened(long cycle, Instant opensAt, Instant closesAt) implements Event {
    public boolean endless() {
      return Instant.MAX.equals(closesAt);
    }
  }

  public record WindowClosed(long cycle) implements Event {}

  /** A membership change took effect at the start of {@code cycle}. */
  public record MembershipApplied(long cycle, int index, int count) implements Event {}

  /**
   * A snapshot for the slot table ({@code GET /api/v1/runners}).
   *
   * @param tdma false in continuous mode
   * @param cycle the current cycle number by the clock
   * @param windowStartMs where this runner's window opens, as an offset in the cycle
   * @param windowEndMs where it closes (exclusive), as an offset in the cycle
   * @param open whether a window is announced open
   * @param lastWorkCycle the latest cycle that reported work, {@link Long#MIN_VALUE} if none
   * @param lastSlotWorkMs the work reported for {@code lastWorkCycle} (summed over subscribers)
   * @param overruns slots whose work ended after their window closed, since start
   * @param missedWindows windows skipped because the clock's tick came after they ended
   */
  public record Status(
      boolean tdma,
      int index,
      int count,
      long cycle,
      long cycleMs,
      long windowStartMs,
      long windowEndMs,
      boolean open,
      long lastWorkCycle,
      long lastSlotWorkMs,
      long overruns,
      long missedWindows) {}

  /**
   * Receives the clock's figures (metrics). Called on the actor's thread: implementations must be
   * quick and must not block.
   */
  public interface Listener {
    Listener NONE = new Listener() {};

    /** The summed work of a slot, once a later slot has reported work. */
    default void slotWork(long cycle, Duration work) {}

    /** A slot overran (counted once per slot). */
    default void overrun(long cycle) {}

    /** A window was skipped because the tick came after it ended. */
    default void windowMissed(long cycle) {}
  }

  private record Pending(SlotMath math, boolean member, long fromCycle) {}

  private record Announced(long cycle, long opensAt, long closesAt, boolean endless) {}

  private static final int REMEMBERED_WINDOWS = 16;

  private final Clock clock;
  private final ClockSettings settings;
  private final TimerScheduler<Command> timers;
  private final Listener listener;
  private final SlotLedger ledger;
  private final List<ActorRef<Event>> subscribers = new ArrayList<>();
  // Close times of recently announced windows, to judge overruns of late reports.
  private final Map<Long, Long> recentCloses =
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Long> eldest) {
          return size() > REMEMBERED_WINDOWS;
        }
      };

  private SlotMath math;
  /** False while this runner has no slot: no window opens. */
  private boolean member;
  /** Own lease expiry (dynamic membership); the slot is given up a guard before it. */
  private long leaseExpiryMs = Long.MAX_VALUE;
  private Pending pending;
  private Announced open;
  // The first cycle whose window has been neither announced nor counted as missed.
  private long expectedCycle;
  private long missed;

  /**
   * The clock's behavior.
   *
   * @throws IllegalArgumentException at once (not when spawned) when the initial membership does
   *     not fit the cycle and guard
   */
  public static Behavior<Command> create(
      Clock clock,
      ClockSettings settings,
      Membership.Assignment initial,
      List<ActorRef<Event>> subscribers,
      Listener listener) {
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(listener, "listener");
    SlotMath math = SlotMath.of(
        settings.cycle(), initial.count(), initial.member() ? initial.index() : 0, settings.guard());
    List<ActorRef<Event>> initialSubscribers = List.copyOf(subscribers);
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers ->
                    new SlotClock(
                        ctx, timers, clock, settings, math, initial.member(), initialSubscribers, listener)));
  }

  public static Behavior<Command> create(
      Clock clock, ClockSettings settings, Membership.Assignment initial) {
    return create(clock, settings, initial, List.of(), Listener.NONE);
  }

  private SlotClock(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Clock clock,
      ClockSettings settings,
      SlotMath math,
      boolean member,
      List<ActorRef<Event>> initialSubscribers,
      Listener listener) {
    super(context);
    this.clock = clock;
    this.settings = settings;
    this.timers = timers;
    this.listener = listener;
    this.ledger = new SlotLedger(listener);
    this.math = math;
    this.member = member;
    this.expectedCycle = firstLiveCycle(clock.millis());
    initialSubscribers.forEach(this::addSubscriber);
    context
        .getLog()
        .info(
            "SlotClock started: {}, {}{}",
            settings.enabled() ? "tdma" : "continuous",
            math,
            member ? "" : " (no slot until admitted)");
    evaluate();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(Unsubscribe.class, this::onUnsubscribe)
        .onMessage(SubscriberTerminated.class, this::onSubscriberTerminated)
        .onMessage(SetMembership.class, this::onSetMembership)
        .onMessage(SetLeaseExpiry.class, this::onSetLeaseExpiry)
        .onMessage(SlotWorkDone.class, this::onSlotWorkDone)
        .onMessage(GetStatus.class, this::onGetStatus)
        .build();
  }

  private Behavior<Command> onTick() {
    evaluate();
    return this;
  }

  private Behavior<Command> onSubscribe(Subscribe subscribe) {
    addSubscriber(subscribe.subscriber());
    return this;
  }

  private Behavior<Command> onUnsubscribe(Unsubscribe unsubscribe) {
    if (subscribers.remove(unsubscribe.subscriber())) {
      getContext().unwatch(unsubscribe.subscriber());
    }
    return this;
  }

  private Behavior<Command> onSubscriberTerminated(SubscriberTerminated terminated) {
    subscribers.remove(terminated.subscriber());
    return this;
  }

  private Behavior<Command> onSetMembership(SetMembership change) {
    SlotMath next;
    boolean slot = change.index() != Membership.NO_SLOT;
    try {
      next = math.withMembership(slot ? change.index() : 0, Math.max(1, change.count()));
    } catch (IllegalArgumentException e) {
      getContext()
          .getLog()
          .error(
              "Ignoring membership [{} of {}], keeping [{} of {}]: {}",
              change.index(),
              change.count(),
              math.index(),
              math.count(),
              e.getMessage());
      return this;
    }
    long now = clock.millis();
    if (next.equals(math) && slot == member) {
      pending = null; // back to the membership in effect before the pending one applied
    } else {
      pending = new Pending(next, slot, Math.max(change.fromCycle(), math.cycleOf(now) + 1));
    }
    evaluate();
    return this;
  }

  private Behavior<Command> onSetLeaseExpiry(SetLeaseExpiry e) {
    leaseExpiryMs = e.expiresAt().toEpochMilli();
    evaluate();
    return this;
  }

  private Behavior<Command> onSlotWorkDone(SlotWorkDone done) {
    long endedAt = done.endedAt().toEpochMilli();
    Long knownClose = recentCloses.get(done.cycle());
    long closesAt;
    if (knownClose != null) {
      closesAt = knownClose;
    } else {
      closesAt = endless() ? Long.MAX_VALUE : math.windowIn(done.cycle()).closesAt();
    }
    boolean endlessWindow = closesAt == Long.MAX_VALUE;
    // An endless window has a single cycle number: sum its work by the cycle it ended in instead.
    long bucket = endlessWindow ? math.cycleOf(endedAt) : done.cycle();
    ledger.record(bucket, done.work(), done.cycle(), endedAt > closesAt);
    return this;
  }

  private Behavior<Command> onGetStatus(GetStatus get) {
    long now = clock.millis();
    boolean continuous = endless();
    Duration lastWork = ledger.lastSlotWork();
    get.replyTo()
        .tell(
            new Status(
                settings.enabled(),
                member ? math.index() : Membership.NO_SLOT,
                math.count(),
                math.cycleOf(now),
                math.cycleMs(),
                continuous ? 0 : math.opensOffset(),
                continuous ? math.cycleMs() : math.closesOffset(),
                open != null,
                ledger.lastWorkCycle(),
                lastWork.toMillis(),
                ledger.overruns(),
                missed));
    return this;
  }

  private void addSubscriber(ActorRef<Event> subscriber) {
    if (subscribers.contains(subscriber)) {
      return;
    }
    subscribers.add(subscriber);
    getContext().watchWith(subscriber, new SubscriberTerminated(subscriber));
    if (open != null) {
      subscriber.tell(opened(open));
    }
  }

  /** Brings the announced state in line with the clock, then re-arms the timer. */
  private void evaluate() {
    long now = clock.millis();
    if (pending != null && math.cycleOf(now) >= pending.fromCycle()) {
      applyPending();
    }
    if (member && now >= leaseExpiryMs - math.guardMs()) {
      dropSlot(now);
    }
    if (!member) {
      if (open != null) {
        close();
      }
      expectedCycle = math.cycleOf(now) + 1;
    } else if (endless()) {
      if (open == null) {
        announce(new Announced(math.cycleOf(now), now, Long.MAX_VALUE, true));
      }
    } else {
      var window = math.windowAt(now);
      if (open != null && (window.isEmpty() || window.get().cycle() != open.cycle())) {
        close();
      }
      countMissed(firstLiveCycle(now), now);
      if (open == null && window.isPresent()) {
        SlotWindow w = window.get();
        announce(new Announced(w.cycle(), w.opensAt(), w.closesAt(), false));
        expectedCycle = w.cycle() + 1;
      }
    }
    arm(now);
  }

  /** Own lease expired: no slot from now on, until a new membership admits this runner again. */
  private void dropSlot(long now) {
    member = false;
    pending = null;
    getContext().getLog().warn("Own runner lease expired at [{}]: no writes until admitted again",
        Instant.ofEpochMilli(leaseExpiryMs));
    if (open != null) {
      close();
    }
    publish(new MembershipApplied(math.cycleOf(now), Membership.NO_SLOT, math.count()));
  }

  private void applyPending() {
    Pending change = pending;
    pending = null;
    boolean wasEndless = member && endless();
    math = change.math();
    boolean wasMember = member;
    member = change.member();
    if (open != null && !(wasEndless && member && endless())) {
      close();
    }
    long boundary = math.cycleStart(change.fromCycle());
    if (!wasEndless && wasMember) {
      // Every old-membership window before the boundary has ended by now.
      countMissed(change.fromCycle(), boundary);
    }
    expectedCycle = Math.max(expectedCycle, change.fromCycle());
    getContext()
        .getLog()
        .info("Membership applied at cycle [{}]: {}", change.fromCycle(), member ? math : "no slot");
    publish(new MembershipApplied(change.fromCycle(), member ? math.index() : Membership.NO_SLOT, math.count()));
  }

  private void countMissed(long firstLiveCycle, long now) {
    if (firstLiveCycle <= expectedCycle) {
      return;
    }
    long skipped = firstLiveCycle - expectedCycle;
    getContext()
        .getLog()
        .warn(
            "Skipped [{}] window(s) of cycles [{}..{}]: the clock's tick came at [{}], after they"
                + " ended",
            skipped,
            expectedCycle,
            firstLiveCycle - 1,
            Instant.ofEpochMilli(now));
    for (long c = expectedCycle; c < firstLiveCycle; c++) {
      listener.windowMissed(c);
    }
    missed += skipped;
    expectedCycle = firstLiveCycle;
  }

  /** The first cycle whose window has not ended at {@code now}. */
  private long firstLiveCycle(long now) {
    long cycle = math.cycleOf(now);
    return now < math.windowIn(cycle).closesAt() ? cycle : cycle + 1;
  }

  private void arm(long now) {
    long next = !member || endless() ? Long.MAX_VALUE : math.nextBoundary(now).orElse(Long.MAX_VALUE);
    if (member && leaseExpiryMs != Long.MAX_VALUE) {
      next = Math.min(next, Math.max(now + 1, leaseExpiryMs - math.guardMs()));
    }
    if (pending != null) {
      next = Math.min(next, math.cycleStart(pending.fromCycle()));
    }
    if (next == Long.MAX_VALUE) {
      timers.cancel(Tick.INSTANCE);
    } else {
      timers.startSingleTimer(Tick.INSTANCE, Tick.INSTANCE, Duration.ofMillis(next - now));
    }
  }

  private boolean endless() {
    return !settings.enabled() || math.alwaysOpen();
  }

  private void announce(Announced window) {
    open = window;
    recentCloses.put(window.cycle(), window.closesAt());
    if (getContext().getLog().isDebugEnabled()) {
      getContext()
          .getLog()
          .debug(
              "Window of cycle [{}] open until [{}]",
              window.cycle(),
              window.endless() ? "forever" : Instant.ofEpochMilli(window.closesAt()));
    }
    publish(opened(window));
  }

  private void close() {
    getContext().getLog().debug("Window of cycle [{}] closed", open.cycle());
    publish(new WindowClosed(open.cycle()));
    open = null;
  }

  private static WindowOpened opened(Announced window) {
    return new WindowOpened(
        window.cycle(),
        Instant.ofEpochMilli(window.opensAt()),
        window.endless() ? Instant.MAX : Instant.ofEpochMilli(window.closesAt()));
  }

  private void publish(Event event) {
    subscribers.forEach(s -> s.tell(event));
  }
}
