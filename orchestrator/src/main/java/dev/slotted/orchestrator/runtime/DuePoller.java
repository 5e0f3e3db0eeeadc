package dev.slotted.orchestrator.runtime;

import dev.slotted.orchestrator.reconcile.Reconciler;
import dev.slotted.orchestrator.store.JobStore;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Looks, with one read every poll interval, for partitions with due work and wakes their
 * Reconcilers. It catches jobs submitted by other processes and delayed jobs coming due; jobs
 * submitted through this runner's own API wake their Reconciler directly. Reads never take the
 * write lock, so polling costs no slot time.
 */
public final class DuePoller {
  private DuePoller() {}

  /** What the poller accepts. */
  public sealed interface Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  private record Found(Set<Integer> partitions) implements Command {}

  private record Failed(Throwable cause) implements Command {}

  public static Behavior<Command> create(
      JobStore store, List<ActorRef<Reconciler.Command>> reconcilers, Duration interval, Clock clock) {
    List<Integer> all = IntStream.range(0, reconcilers.size()).boxed().collect(Collectors.toList());
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startSingleTimer(Tick.INSTANCE, interval);
      return Behaviors.receive(Command.class)
          .onMessageEquals(Tick.INSTANCE, () -> {
            ctx.pipeToSelf(store.partitionsWithDueWork(all, clock.instant()),
                (found, err) -> err == null ? new Found(found) : new Failed(err));
            return Behaviors.same();
          })
          .onMessage(Found.class, f -> {
            f.partitions().forEach(p -> reconcilers.get(p).tell(Reconciler.Wake.INSTANCE));
            timers.startSingleTimer(Tick.INSTANCE, interval);
            return Behaviors.same();
          })
          .onMessage(Failed.class, f -> {
            ctx.getLog().warn("Polling for due work failed: {}", f.cause().toString());
            timers.startSingleTimer(Tick.INSTANCE, interval.multipliedBy(10));
            return Behaviors.same();
          })
          .build();
    }));
  }
}
