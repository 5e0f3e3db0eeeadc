package dev.slotted.orchestrator.runtime;

import dev.slotted.orchestrator.config.Settings;
import dev.slotted.orchestrator.metrics.Metrics;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.QueueCounts;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Slow chores of a runner: refreshes the {@code slotted_queue_jobs} gauges from a read every few
 * seconds, and, while it holds the single leader lease, purges finished jobs past their retention
 * ({@code slotted.retention}). Its writes go through the store's write gate like every other.
 */
public final class Housekeeper {
  private Housekeeper() {}

  /** What the housekeeper accepts. */
  public sealed interface Command {}

  private enum Gauges implements Command {
    INSTANCE
  }

  private enum Purge implements Command {
    INSTANCE
  }

  private record Counted(List<QueueCounts> counts) implements Command {}

  private record Purged(int deleted, boolean leader) implements Command {}

  private record Failed(String chore, Throwable cause) implements Command {}

  /** Purges delete at most this many jobs per call, so one purge never holds a slot for long. */
  static final int PURGE_BATCH = 5_000;

  public static Behavior<Command> create(
      JobStore store, Settings settings, String runnerId, Metrics metrics, Clock clock, Duration gaugeInterval) {
    Settings.Retention retention = settings.retention();
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Gauges.INSTANCE, gaugeInterval);
      timers.startTimerWithFixedDelay(Purge.INSTANCE, retention.interval());
      return Behaviors.receive(Command.class)
          .onMessageEquals(Gauges.INSTANCE, () -> {
            ctx.pipeToSelf(store.queueCounts(clock.instant()),
                (counts, err) -> err == null ? new Counted(counts) : new Failed("queue counts", err));
            return Behaviors.same();
          })
          .onMessage(Counted.class, c -> {
            for (QueueCounts q : c.counts()) {
              metrics.queueJobs(q.queue(), "scheduled", q.scheduled());
              metrics.queueJobs(q.queue(), "ready", q.ready());
              metrics.queueJobs(q.queue(), "running", q.running());
              metrics.queueJobs(q.queue(), "succeeded", q.succeeded());
              metrics.queueJobs(q.queue(), "dead", q.dead());
              metrics.queueJobs(q.queue(), "cancelled", q.cancelled());
            }
            return Behaviors.same();
          })
          .onMessageEquals(Purge.INSTANCE, () -> {
            Instant now = clock.instant();
            // The lease outlives the interval, so the leader keeps it while it lives.
            Duration ttl = retention.interval().plus(settings.tdma().runnerTtl());
            ctx.pipeToSelf(store.tryLead(runnerId, ttl, clock).thenCompose(leader -> leader
                    ? store.purge(now.minus(retention.succeeded()), now.minus(retention.dead()), PURGE_BATCH)
                        .thenApply(n -> new Purged(n, true))
                    : java.util.concurrent.CompletableFuture.completedFuture(new Purged(0, false))),
                (p, err) -> err == null ? p : new Failed("retention purge", err));
            return Behaviors.same();
          })
          .onMessage(Purged.class, p -> {
            if (p.deleted() > 0) {
              ctx.getLog().info("Retention purge deleted [{}] finished jobs", p.deleted());
            }
            if (p.deleted() >= PURGE_BATCH) {
              ctx.getSelf().tell(Purge.INSTANCE); // more to do: go on in the next round
            }
            return Behaviors.same();
          })
          .onMessage(Failed.class, f -> {
            ctx.getLog().warn("Housekeeping [{}] failed: {}", f.chore(), f.cause().toString());
            return Behaviors.same();
          })
          .build();
    }));
  }
}
