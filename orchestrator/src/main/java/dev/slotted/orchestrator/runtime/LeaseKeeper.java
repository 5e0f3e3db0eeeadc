package dev.slotted.orchestrator.runtime;

import dev.slotted.orchestrator.clock.SlotClock;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.Lease;
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
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The runner's own bookkeeping, once per window: renews, in one statement, the leases of the
 * attempts its workers run or buffer (and stops the attempts whose lease it lost: cancelled jobs,
 * or leases taken over after an expiry), and renews its runner row with its published status. In
 * dynamic membership it tells the SlotClock when that row now expires (the clock gives up the slot
 * if no later renewal lands in time); the {@link MembershipKeeper} decides the slots.
 */
public final class LeaseKeeper extends AbstractBehavior<LeaseKeeper.Command> {

  /** What the lease keeper accepts. */
  public sealed interface Command {}

  /** The window of {@code cycle} opened. */
  public record WindowOpened(long cycle) implements Command {}

  private record Running(WorkerProtocol.Running running) implements Command {}

  /** Job id to lease token, for the leases this runner found it no longer holds. */
  private record Renewed(Map<String, String> lost) implements Command {}

  private record Beat(Instant expiresAt) implements Command {}

  private record Failed(String op, Throwable cause) implements Command {}

  private final JobStore store;
  private final ActorRef<WorkerProtocol.Command> workers;
  private final String runnerId;
  private final Duration lease;
  private final Duration runnerTtl;
  private final boolean dynamic;
  private final Clock clock;
  private final Supplier<CompletionStage<String>> status;
  private final ActorRef<SlotClock.Command> slotClock;
  private final ActorRef<WorkerProtocol.Running> runningAdapter;
  private boolean busy;
  /** When each held lease (by token) was last renewed. */
  private Map<String, Instant> renewedAt = new HashMap<>();

  /**
   * @param status the JSON this runner publishes in its row (slot figures, counters)
   * @param slotClock told the row's new expiry after each heartbeat (dynamic membership)
   */
  public static Behavior<Command> create(
      JobStore store,
      ActorRef<WorkerProtocol.Command> workers,
      String runnerId,
      Duration lease,
      Duration runnerTtl,
      boolean dynamic,
      Clock clock,
      Supplier<CompletionStage<String>> status,
      ActorRef<SlotClock.Command> slotClock) {
    return Behaviors.setup(ctx -> new LeaseKeeper(ctx, store, workers, runnerId, lease, runnerTtl,
        dynamic, clock, status, slotClock));
  }

  private LeaseKeeper(
      ActorContext<Command> ctx,
      JobStore store,
      ActorRef<WorkerProtocol.Command> workers,
      String runnerId,
      Duration lease,
      Duration runnerTtl,
      boolean dynamic,
      Clock clock,
      Supplier<CompletionStage<String>> status,
      ActorRef<SlotClock.Command> slotClock) {
    super(ctx);
    this.store = store;
    this.workers = workers;
    this.runnerId = runnerId;
    this.lease = lease;
    this.runnerTtl = runnerTtl;
    this.dynamic = dynamic;
    this.clock = clock;
    this.status = status;
    this.slotClock = slotClock;
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
    CompletionStage<Set<String>> lost = store.renewLeases(runnerId, due, lease, clock)
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
    // The row's expiry is at least this: the store reads the time inside the write, later.
    Instant asked = clock.instant();
    CompletionStage<Instant> beat = status.get()
        .thenCompose(json -> store.heartbeat(runnerId, json, runnerTtl, clock))
        .thenApply(v -> asked.plus(runnerTtl));
    getContext().pipeToSelf(beat, (expires, err) -> err == null ? new Beat(expires) : new Failed("heartbeat", err));
    return this;
  }

  private Behavior<Command> onBeat(Beat b) {
    busy = false;
    if (dynamic) {
      slotClock.tell(new SlotClock.SetLeaseExpiry(b.expiresAt()));
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
