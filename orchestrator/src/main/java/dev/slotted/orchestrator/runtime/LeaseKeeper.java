package dev.slotted.orchestrator.runtime;

import dev.slotted.orchestrator.clock.Membership;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.Lease;
import dev.slotted.orchestrator.store.RunnerRow;
import dev.slotted.protocol.WorkerProtocol;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The runner's own bookkeeping, once per window: renews, in one statement, the leases of every
 * attempt its workers run (and stops the attempts whose lease it lost: cancelled jobs, or leases
 * taken over after an expiry); renews its runner row with its published status; and in dynamic
 * membership derives its index and the runner count from the live rows.
 */
public final class LeaseKeeper extends AbstractBehavior<LeaseKeeper.Command> {

  /** What the lease keeper accepts. */
  public sealed interface Command {}

  /** The window of {@code cycle} opened. */
  public record WindowOpened(long cycle) implements Command {}

  private record Running(WorkerProtocol.Running running) implements Command {}

  /** Job id to lease token, for the leases this runner found it no longer holds. */
  private record Renewed(Map<String, String> lost) implements Command {}

  private record Beat(List<RunnerRow> rows) implements Command {}

  private record Failed(String op, Throwable cause) implements Command {}

  private final JobStore store;
  private final ActorRef<WorkerProtocol.Command> workers;
  private final String runnerId;
  private final Duration lease;
  private final Duration runnerTtl;
  private final boolean dynamic;
  private final Clock clock;
  private final Supplier<CompletionStage<String>> status;
  private final BiConsumer<Integer, Integer> onMembership;
  private final ActorRef<WorkerProtocol.Running> runningAdapter;
  private boolean busy;
  private Membership.Assignment membership;
  /** When each held lease (by token) was last renewed. */
  private Map<String, Instant> renewedAt = new HashMap<>();

  /**
   * @param status the JSON this runner publishes in its row (slot figures, counters)
   * @param onMembership called with (index, count) whenever dynamic membership changes
   */
  public static Behavior<Command> create(
      JobStore store,
      ActorRef<WorkerProtocol.Command> workers,
      String runnerId,
      Duration lease,
      Duration runnerTtl,
      boolean dynamic,
      Membership.Assignment initial,
      Clock clock,
      Supplier<CompletionStage<String>> status,
      BiConsumer<Integer, Integer> onMembership) {
    return Behaviors.setup(ctx -> new LeaseKeeper(ctx, store, workers, runnerId, lease, runnerTtl,
        dynamic, initial, clock, status, onMembership));
  }

  private LeaseKeeper(
      ActorContext<Command> ctx,
      JobStore store,
      ActorRef<WorkerProtocol.Command> workers,
      String runnerId,
      Duration lease,
      Duration runnerTtl,
      boolean dynamic,
      Membership.Assignment initial,
      Clock clock,
      Supplier<CompletionStage<String>> status,
      BiConsumer<Integer, Integer> onMembership) {
    super(ctx);
    this.store = store;
    this.workers = workers;
    this.runnerId = runnerId;
    this.lease = lease;
    this.runnerTtl = runnerTtl;
    this.dynamic = dynamic;
    this.membership = initial;
    this.clock = clock;
    this.status = status;
    this.onMembership = onMembership;
    this.runningAdapter = ctx.messageAdapter(WorkerProtocol.Running.class, Running::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(WindowOpened.class, this::onWindowOpened)
        .onMessage(Running.class, this::onRunning)
        .onMessage(Renewed.class, this::onRenewed)
        .onMessage(Beat.class, this::onBeat)
        .onMessage(Failed.class, this::onFailed)
        .build();
  }

  private Behavior<Command> onWindowOpened(WindowOpened w) {
    if (busy) {
      return this; // the previous window's round is still going; skip rather than pile up
    }
    busy = true;
    workers.tell(new WorkerProtocol.GetRunning(runningAdapter));
    return this;
  }

  /**
   * Every window: renews (a write, in the window) the leases that were last renewed a quarter of
   * the lease ago or more, and checks the others with a read, so each lease is renewed a few times
   * per visibility timeout and a lost one (cancelled, taken over) is still seen within a cycle.
   * With 100,000 jobs held the window's write is a fraction of them, in one statement.
   */
  private Behavior<Command> onRunning(Running r) {
    Instant now = clock.instant();
    Duration every = lease.dividedBy(4);
    List<Lease> held = new ArrayList<>(r.running().jobs().size());
    List<Lease> due = new ArrayList<>();
    List<Lease> fresh = new ArrayList<>();
    Map<String, Instant> renewed = new HashMap<>();
    for (WorkerProtocol.RunningJob j : r.running().jobs()) {
      Lease l = new Lease(j.jobId(), j.leaseToken());
      held.add(l);
      Instant last = renewedAt.get(l.token());
      if (last == null || !now.isBefore(last.plus(every))) {
        due.add(l);
        renewed.put(l.token(), now);
      } else {
        fresh.add(l);
        renewed.put(l.token(), last);
      }
    }
    renewedAt = renewed; // forgets the leases that ended
    CompletionStage<Set<String>> lost = store.renewLeases(runnerId, due, lease, now)
        .thenCombine(store.notHeld(runnerId, fresh), (a, b) -> {
          Set<String> all = new HashSet<>(a);
          all.addAll(b);
          return all;
        });
    getContext().pipeToSelf(lost,
        (ids, err) -> err == null ? new Renewed(tokensOf(held, ids)) : new Failed("renew leases", err));
    return this;
  }

  private static Map<String, String> tokensOf(List<Lease> held, Set<String> lostIds) {
    Map<String, String> lost = new HashMap<>();
    for (Lease l : held) {
      if (lostIds.contains(l.jobId())) {
        lost.put(l.jobId(), l.token());
      }
    }
    return lost;
  }

  private Behavior<Command> onRenewed(Renewed r) {
    if (!r.lost().isEmpty()) {
      // Most are attempts that ended (and were completed) while the renewal waited for the window;
      // the supervisor stops only an attempt or buffered job that still holds one of these leases.
      getContext().getLog().debug("[{}] leases were no longer held at renewal", r.lost().size());
      workers.tell(new WorkerProtocol.Stop(r.lost(), "lease lost (job cancelled or taken over)"));
    }
    CompletionStage<List<RunnerRow>> beat = status.get()
        .thenCompose(json -> store.heartbeat(runnerId, json, runnerTtl, clock.instant()))
        .thenCompose(v -> dynamic ? store.runners(clock.instant()) : java.util.concurrent.CompletableFuture.completedFuture(List.<RunnerRow>of()));
    getContext().pipeToSelf(beat, (rows, err) -> err == null ? new Beat(rows) : new Failed("heartbeat", err));
    return this;
  }

  private Behavior<Command> onBeat(Beat b) {
    busy = false;
    if (!dynamic) {
      return this;
    }
    Membership.Assignment now = Membership.fromRows(b.rows(), runnerId);
    if (!now.equals(membership)) {
      getContext().getLog().info("Membership changed: runner [{}] is now index [{}] of [{}]",
          runnerId, now.index(), now.count());
      membership = now;
      onMembership.accept(now.index(), now.count());
    }
    return this;
  }

  private Behavior<Command> onFailed(Failed f) {
    busy = false;
    renewedAt = new HashMap<>(); // renew everything next time: this renewal may not have happened
    getContext().getLog().warn("Lease keeping failed at [{}]; retrying in the next window: {}", f.op(), f.cause().toString());
    return this;
  }

}
