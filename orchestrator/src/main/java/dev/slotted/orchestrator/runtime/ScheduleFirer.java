package dev.slotted.orchestrator.runtime;

import dev.slotted.orchestrator.clock.Membership;
import dev.slotted.orchestrator.metrics.Metrics;
import dev.slotted.orchestrator.schedule.FirePass;
import dev.slotted.orchestrator.schedule.Schedules;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.Submitted;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Fires the schedules of the partitions this runner owns (DESIGN §2 step 5, §6), inside the
 * runner's window only. A schedule's partition is that of its partition key {@code
 * schedule:<name>} ({@link Schedules#partitionKey}), so exactly one live runner owns it in a cycle;
 * its jobs land in the same partition.
 *
 * <p>Each window opening starts a pass over the owned schedules; while the window stays open (a long
 * window, or the endless one of continuous mode) another pass runs at the next fire time, and at
 * least every {@link #REFRESH} so schedules created through other runners are seen. One pass at a
 * time. Ownership may briefly overlap while membership changes: that is safe, because a fire's job
 * carries the key {@code schedule:<name>:<fire instant>} and a repeated fire finds the first job.
 */
public final class ScheduleFirer extends AbstractBehavior<ScheduleFirer.Command> {

  /** The longest an open window goes without a pass. */
  static final Duration REFRESH = Duration.ofSeconds(1);
  /** A pass that raced a change in another process runs again after this. */
  private static final Duration AGAIN = Duration.ofMillis(20);

  public sealed interface Command {}

  /** The runner's window opened; it owns the partitions of {@code assignment} during this cycle. */
  public record WindowOpened(long cycle, Instant closesAt, Membership.Assignment assignment) implements Command {}

  public enum WindowClosed implements Command {
    INSTANCE
  }

  /** The membership changed (matters in an endless window, which never reopens). */
  public record AssignmentChanged(Membership.Assignment assignment) implements Command {}

  private enum NextPass implements Command {
    INSTANCE
  }

  private record PassDone(FirePass.PassResult result, Throwable error) implements Command {}

  private final Schedules schedules;
  private final JobStore store;
  private final Clock clock;
  private final Metrics metrics;
  private final Consumer<Set<Integer>> wake;
  private final TimerScheduler<Command> timers;

  private boolean open;
  private Instant closesAt = Instant.MIN;
  private Membership.Assignment assignment;
  private boolean running;
  private boolean passWanted;

  /**
   * @param wake called with the partitions that got new jobs, to wake their Reconcilers
   */
  public static Behavior<Command> create(
      Schedules schedules, JobStore store, Clock clock, Metrics metrics, Consumer<Set<Integer>> wake,
      Membership.Assignment initial) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new ScheduleFirer(ctx, timers, schedules, store, clock, metrics, wake, initial)));
  }

  private ScheduleFirer(
      ActorContext<Command> ctx, TimerScheduler<Command> timers, Schedules schedules, JobStore store, Clock clock,
      Metrics metrics, Consumer<Set<Integer>> wake, Membership.Assignment initial) {
    super(ctx);
    this.timers = timers;
    this.schedules = schedules;
    this.store = store;
    this.clock = clock;
    this.metrics = metrics;
    this.wake = wake;
    this.assignment = initial;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(WindowOpened.class, this::onWindowOpened)
        .onMessageEquals(WindowClosed.INSTANCE, this::onWindowClosed)
        .onMessage(AssignmentChanged.class, this::onAssignmentChanged)
        .onMessageEquals(NextPass.INSTANCE, this::onNextPass)
        .onMessage(PassDone.class, this::onPassDone)
        .build();
  }

  private Behavior<Command> onWindowOpened(WindowOpened w) {
    open = true;
    closesAt = w.closesAt();
    assignment = w.assignment();
    startPass();
    return this;
  }

  private Behavior<Command> onWindowClosed() {
    open = false;
    timers.cancel(NextPass.INSTANCE);
    return this;
  }

  private Behavior<Command> onAssignmentChanged(AssignmentChanged a) {
    assignment = a.assignment();
    return this;
  }

  private Behavior<Command> onNextPass() {
    startPass();
    return this;
  }

  private void startPass() {
    if (running) {
      passWanted = true;
      return;
    }
    if (!open || !clock.instant().isBefore(closesAt)) {
      return;
    }
    running = true;
    passWanted = false;
    Membership.Assignment owner = assignment;
    getContext().pipeToSelf(schedules.firePass(owner::owns, store, clock, closesAt), PassDone::new);
  }

  private Behavior<Command> onPassDone(PassDone done) {
    running = false;
    Instant now = clock.instant();
    Duration delay = REFRESH;
    if (done.error() != null) {
      getContext().getLog().warn("Schedule pass failed (the journal could not be read); retrying: {}",
          done.error().toString());
    } else {
      report(done.result());
      if (done.result().again() || passWanted) {
        delay = AGAIN;
      } else if (done.result().nextFire().isPresent()) {
        Duration untilNext = Duration.between(now, done.result().nextFire().get());
        if (untilNext.compareTo(delay) < 0) {
          delay = untilNext.isNegative() ? Duration.ZERO : untilNext;
        }
      }
    }
    if (open && now.plus(delay).isBefore(closesAt)) {
      timers.startSingleTimer(NextPass.INSTANCE, delay);
    }
    return this;
  }

  private void report(FirePass.PassResult result) {
    Set<Integer> partitions = new HashSet<>();
    for (FirePass.FireResult r : result.results()) {
      for (Submitted s : r.submitted()) {
        if (s.created()) {
          metrics.scheduleJobCreated(r.name(), s.job().queue());
          partitions.add(s.job().partition());
        }
      }
      if (r.error() != null) {
        getContext().getLog().warn("Firing schedule [{}] failed; retrying at its next turn: {}",
            r.name(), r.error().toString());
      } else if (!r.submitted().isEmpty() && getContext().getLog().isDebugEnabled()) {
        getContext().getLog().debug("Schedule [{}] fired [{}] jobs", r.name(), r.submitted().size());
      }
    }
    if (!partitions.isEmpty()) {
      wake.accept(partitions);
    }
  }
}
