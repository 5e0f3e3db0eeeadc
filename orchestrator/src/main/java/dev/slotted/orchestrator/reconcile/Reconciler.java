package dev.slotted.orchestrator.reconcile;

import dev.slotted.orchestrator.runtime.WindowOwner;
import dev.slotted.orchestrator.store.JobStore;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The Reconciler of one partition (DESIGN §2): it decides what its partition claims, and keeps its
 * partition's leases honest. It holds no write window of its own: its claims and reaps go to the
 * runner's {@link WindowOwner}, which runs them inside the window, sized by the capacity the
 * workers push.
 *
 * <ul>
 *   <li>When its partition may have due work (a local submit, the due poller, a reap that freed
 *       jobs), it tells the window owner: a normal claim while this runner owns the partition, a
 *       steal (only jobs that have waited longer than {@code stealAfter}) otherwise.
 *   <li>Every {@code reapEvery}, owned or not, it ends the expired leases of the partition (their
 *       runner died): the jobs become visible again. Any runner may do it in its own window - the
 *       conditional update is safe - so a dead runner's jobs come back within a visibility timeout
 *       and a few cycles, without waiting for its partitions to move to another owner.
 * </ul>
 */
public final class Reconciler extends AbstractBehavior<Reconciler.Command> {

  /** What a Reconciler accepts. */
  public sealed interface Command {}

  /** Whether this runner owns the partition (from now until the next membership change). */
  public record Ownership(boolean owned) implements Command {}

  /**
   * Asked by a Reconciler when it starts (or restarts after a failure): whether its runner owns
   * {@code partition} now. The answer is an {@link Ownership}.
   */
  public record WhoOwns(int partition, ActorRef<Command> replyTo) {}

  /** New due work may exist (a local submit, or the poller saw some). */
  public enum Wake implements Command {
    INSTANCE
  }

  /**
   * Fault injection (tests, chaos drills): the Reconciler throws {@code failure} as if it had a bug.
   * Its supervisor restarts it; nothing it knew is needed to stay correct.
   */
  public record InjectFault(RuntimeException failure) implements Command {}

  private enum ReapTick implements Command {
    INSTANCE
  }

  private record Reaped(List<String> ids, Throwable error) implements Command {}

  private final int partition;
  private final JobStore store;
  private final ActorRef<WindowOwner.Command> owner;
  private final ReconcilerSettings settings;
  private final Clock clock;
  private final TimerScheduler<Command> timers;

  private boolean owned;
  private boolean reaping;

  /**
   * @param store the runner's windowed store (its writes run in the window)
   * @param ownership asked at every start whether the runner owns the partition: a restarted
   *     Reconciler must not act on the ownership of the cycle it was first created in
   */
  public static Behavior<Command> create(
      int partition,
      JobStore store,
      ActorRef<WindowOwner.Command> owner,
      ReconcilerSettings settings,
      Clock clock,
      ActorRef<WhoOwns> ownership) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      Reconciler r = new Reconciler(ctx, timers, partition, store, owner, settings, clock);
      ownership.tell(new WhoOwns(partition, ctx.getSelf()));
      return Behaviors.withMdc(Command.class, Map.of("partition", Integer.toString(partition)), r);
    }));
  }

  private Reconciler(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      int partition,
      JobStore store,
      ActorRef<WindowOwner.Command> owner,
      ReconcilerSettings settings,
      Clock clock) {
    super(ctx);
    this.timers = timers;
    this.partition = partition;
    this.store = store;
    this.owner = owner;
    this.settings = settings;
    this.clock = clock;
    // Not owned until told otherwise (a steal takes only jobs that waited); expired leases are
    // reaped whoever owns the partition.
    timers.startTimerWithFixedDelay(ReapTick.INSTANCE, settings.reapEvery());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Ownership.class, o -> {
          applyOwnership(o.owned());
          return this;
        })
        .onMessageEquals(Wake.INSTANCE, this::onWake)
        .onMessageEquals(ReapTick.INSTANCE, this::onReapTick)
        .onMessage(Reaped.class, this::onReaped)
        .onMessage(InjectFault.class, f -> {
          throw f.failure();
        })
        .build();
  }

  private void applyOwnership(boolean nowOwned) {
    owned = nowOwned;
    if (owned) {
      // Started, restarted or newly owned: whatever is due is claimed without waiting for the poller.
      owner.tell(new WindowOwner.Backlog(partition, false));
    }
  }

  private Behavior<Command> onWake() {
    owner.tell(new WindowOwner.Backlog(partition, !owned));
    return this;
  }

  private Behavior<Command> onReapTick() {
    if (reaping) {
      return this;
    }
    reaping = true;
    getContext().pipeToSelf(store.reapExpired(partition, clock), Reaped::new);
    return this;
  }

  private Behavior<Command> onReaped(Reaped r) {
    reaping = false;
    if (r.error() != null) {
      getContext().getLog().warn("Reaping expired leases of partition [{}] failed; trying again: {}",
          partition, r.error().toString());
    } else if (!r.ids().isEmpty()) {
      getContext().getLog().info("Reaped [{}] expired leases in partition [{}]", r.ids().size(), partition);
      owner.tell(new WindowOwner.Backlog(partition, !owned));
    }
    return this;
  }
}
