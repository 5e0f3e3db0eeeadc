package dev.slotted.orchestrator.reconcile;

import dev.slotted.orchestrator.metrics.Metrics;
import dev.slotted.orchestrator.store.ClaimRequest;
import dev.slotted.orchestrator.store.CompletionResult;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.WorkerProtocol;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
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
 * The Reconciler of one partition (DESIGN §2). It writes to the store only while its runner's TDMA
 * window is open, one operation at a time, in this order of preference: the completions buffered
 * since its last write (group commit), the reaping of expired leases (once per window, owned
 * partitions only), then a claim sized by the worker capacity it reserved first.
 *
 * <p>It exists for every partition; in a window where its runner does not own the partition it only
 * flushes completions and steals jobs that have waited longer than {@code stealAfter}.
 */
public final class Reconciler extends AbstractBehavior<Reconciler.Command> {

  /** What a Reconciler accepts. */
  public sealed interface Command {}

  /**
   * The runner's window opened; it closes at {@code closesAt}. {@code owned}: this runner owns the
   * partition during this cycle.
   */
  public record WindowOpened(long cycle, Instant closesAt, boolean owned) implements Command {}

  /** The window closed: no more writes until the next one. */
  public enum WindowClosed implements Command {
    INSTANCE
  }

  /** New due work may exist (a local submit, or the poller saw some). */
  public enum Wake implements Command {
    INSTANCE
  }

  /**
   * Shutdown: claim nothing more, write the buffered completions now (inside the window or not),
   * then reply.
   */
  public record Flush(ActorRef<Flushed> replyTo) implements Command {}

  /** Reply to {@link Flush}: how many completions were written. */
  public record Flushed(int partition, int written) {}

  /** Asks for the reconciler's figures. */
  public record GetStatus(ActorRef<Status> replyTo) implements Command {}

  /** The reconciler's figures. */
  public record Status(int partition, boolean open, boolean owned, int buffered, long claimed, long written) {}

  private record FromWorker(WorkerProtocol.Event event) implements Command {}

  private record Reserved(WorkerProtocol.Reservation reservation) implements Command {}

  private record Claimed(
      List<ClaimedJob> jobs,
      WorkerProtocol.Reservation reservation,
      int limit,
      List<Completion> written,
      List<CompletionResult> results)
      implements Command {
    Claimed {
      jobs = List.copyOf(jobs);
    }
  }

  private record Written(List<Completion> batch, List<CompletionResult> results) implements Command {}

  private record Reaped(List<String> ids) implements Command {}

  private record OpFailed(String op, Throwable cause, WorkerProtocol.Reservation reservation, List<Completion> unwritten)
      implements Command {}

  private enum RetryReserve implements Command {
    INSTANCE
  }

  private final int partition;
  private final JobStore store;
  private final ActorRef<WorkerProtocol.Command> workers;
  private final ReconcilerSettings settings;
  private final Clock clock;
  private final Metrics metrics;
  private final SlotWork slotWork;
  private final TimerScheduler<Command> timers;
  private final ActorRef<WorkerProtocol.Event> workerEvents;
  private final ActorRef<WorkerProtocol.Reservation> reservations;

  private boolean open;
  private boolean owned;
  private boolean stopping;
  private long cycle = -1;
  private Instant closesAt = Instant.MIN;
  /** A store operation (or a reservation) is in flight; only one at a time. */
  private boolean busy;
  /** There may be due jobs to claim. */
  private boolean backlog;
  private boolean reapDue;
  /** Not owned: a short steal claim ends stealing until the next window. */
  private boolean stealExhausted;
  private List<Completion> buffered = new ArrayList<>();
  private final List<ActorRef<Flushed>> flushWaiters = new ArrayList<>();
  private long claimedTotal;
  private long writtenTotal;
  /** Store time spent in the current window, and when the op in flight started. */
  private Duration windowWork = Duration.ZERO;
  private Instant opStart;
  private Instant lastOpEnd;
  private Instant lastReap = Instant.MIN;
  private boolean workReported = true;

  /** Reports how long a window's work took (to the SlotClock). */
  @FunctionalInterface
  public interface SlotWork {
    /** @param endedAt when the window's last store operation ended (judges overruns) */
    void done(long cycle, Duration work, Instant endedAt);
  }

  public static Behavior<Command> create(
      int partition,
      JobStore store,
      ActorRef<WorkerProtocol.Command> workers,
      ReconcilerSettings settings,
      Clock clock,
      Metrics metrics,
      SlotWork slotWork) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      Reconciler r = new Reconciler(ctx, timers, partition, store, workers, settings, clock, metrics, slotWork);
      // Log lines carry the partition, and the slot (cycle) of the latest window.
      return Behaviors.withMdc(
          Command.class,
          Map.of("partition", Integer.toString(partition)),
          msg -> Map.of("slot", Long.toString(r.cycle)),
          r);
    }));
  }

  private Reconciler(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      int partition,
      JobStore store,
      ActorRef<WorkerProtocol.Command> workers,
      ReconcilerSettings settings,
      Clock clock,
      Metrics metrics,
      SlotWork slotWork) {
    super(ctx);
    this.timers = timers;
    this.partition = partition;
    this.store = store;
    this.workers = workers;
    this.settings = settings;
    this.clock = clock;
    this.metrics = metrics;
    this.slotWork = slotWork;
    this.workerEvents = ctx.messageAdapter(WorkerProtocol.Event.class, FromWorker::new);
    this.reservations = ctx.messageAdapter(WorkerProtocol.Reservation.class, Reserved::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(WindowOpened.class, this::onWindowOpened)
        .onMessageEquals(WindowClosed.INSTANCE, this::onWindowClosed)
        .onMessageEquals(Wake.INSTANCE, this::onWake)
        .onMessageEquals(RetryReserve.INSTANCE, this::onRetryReserve)
        .onMessage(FromWorker.class, this::onWorkerEvent)
        .onMessage(Reserved.class, this::onReserved)
        .onMessage(Claimed.class, this::onClaimed)
        .onMessage(Written.class, this::onWritten)
        .onMessage(Reaped.class, this::onReaped)
        .onMessage(OpFailed.class, this::onOpFailed)
        .onMessage(Flush.class, this::onFlush)
        .onMessage(GetStatus.class, this::onGetStatus)
        .build();
  }

  private Behavior<Command> onWindowOpened(WindowOpened w) {
    reportWork(); // the previous window's, if an op was still in flight when it closed
    open = true;
    owned = w.owned();
    cycle = w.cycle();
    closesAt = w.closesAt();
    backlog = true;
    stealExhausted = false;
    // Expired leases matter only after a visibility timeout: reaping a few times per timeout is
    // enough, and keeps idle windows nearly free of writes.
    reapDue = owned && !clock.instant().isBefore(lastReap.plus(settings.reapEvery()));
    windowWork = Duration.ZERO;
    lastOpEnd = clock.instant();
    workReported = false;
    step();
    return this;
  }

  private Behavior<Command> onWindowClosed() {
    open = false;
    timers.cancel(RetryReserve.INSTANCE);
    if (!busy) {
      reportWork();
    }
    return this;
  }

  private Behavior<Command> onWake() {
    if (!owned && stealExhausted) {
      return this;
    }
    backlog = true;
    step();
    return this;
  }

  private Behavior<Command> onRetryReserve() {
    step();
    return this;
  }

  private Behavior<Command> onWorkerEvent(FromWorker msg) {
    if (msg.event() instanceof WorkerProtocol.Started s) {
      metrics.dispatchDelay(s.job().queue(), nonNegative(Duration.between(s.job().dueAt(), s.startedAt())));
    } else if (msg.event() instanceof WorkerProtocol.Finished f) {
      buffered.add(f.completion());
      metrics.jobRunTime(f.job().queue(), nonNegative(Duration.between(f.startedAt(), f.completion().endedAt())));
      // Capacity freed: the partition may still have a backlog worth claiming.
      step();
    }
    return this;
  }

  /** Starts the next store operation when the window is open and nothing is in flight. */
  private void step() {
    if (busy) {
      return;
    }
    if (open && !clock.instant().isBefore(closesAt)) {
      // The close tick may come late (scheduler granularity): never start a write past closesAt.
      open = false;
      reportWork();
    }
    boolean mayWrite = open || (stopping && !buffered.isEmpty());
    if (!mayWrite) {
      reportWork(); // the window is over and nothing is in flight
      return;
    }
    if (stopping) {
      if (!buffered.isEmpty()) {
        writeCompletions();
      } else {
        answerFlushWaiters();
      }
    } else if (reapDue) {
      reap();
    } else if (backlog) {
      // The buffered completions ride in the claim's transaction (see onReserved).
      busy = true;
      workers.tell(new WorkerProtocol.Reserve(settings.maxClaimBatch(), reservations));
    } else if (!buffered.isEmpty()) {
      writeCompletions();
    }
  }

  private void writeCompletions() {
    List<Completion> batch = buffered;
    buffered = new ArrayList<>();
    opStarted();
    Instant started = opStart;
    getContext().pipeToSelf(store.complete(batch, started), (results, err) -> {
      metrics.storeTxn("complete", Duration.between(started, clock.instant()));
      return err == null ? new Written(batch, results) : new OpFailed("complete", err, null, batch);
    });
  }

  private void reap() {
    reapDue = false;
    opStarted();
    lastReap = opStart;
    getContext().pipeToSelf(store.reapExpired(partition, clock.instant()),
        (ids, err) -> err == null ? new Reaped(ids) : new OpFailed("reap", err, null, List.of()));
  }

  private Behavior<Command> onReserved(Reserved r) {
    WorkerProtocol.Reservation reservation = r.reservation();
    int total = reservation.total();
    if (!open || stopping || total == 0) {
      busy = false;
      if (total == 0 && open && !stopping) {
        return nothingToClaim(reservation);
      }
      // Every reservation is answered with exactly one Dispatch, even an empty one.
      workers.tell(WorkerProtocol.Dispatch.under(reservation, List.of(), workerEvents));
      step();
      return this;
    }
    int limit = Math.min(total, settings.maxClaimBatch());
    java.util.Set<String> queues = settings.queues();
    Map<String, Integer> limited = reservation.limitedQueues();
    if (!limited.isEmpty()) {
      // Queues at their concurrency limit are left out of this claim. A limited queue with some
      // room left may still be over-claimed by up to the batch; the supervisor then holds those
      // jobs until a slot of that queue frees (their leases are renewed meanwhile).
      queues = queues.stream().filter(q -> limited.getOrDefault(q, 1) > 0).collect(java.util.stream.Collectors.toSet());
      if (queues.isEmpty()) {
        busy = false;
        return nothingToClaim(reservation);
      }
    }
    opStarted();
    Instant now = opStart;
    ClaimRequest request = owned
        ? new ClaimRequest(partition, queues, settings.workerTags(), limit, settings.runnerId(), settings.lease(), now)
        : stealRequest(queues, limit, now);
    List<Completion> batch = buffered;
    buffered = new ArrayList<>();
    Instant started = now;
    getContext().pipeToSelf(store.completeAndClaim(batch, request), (round, err) -> {
      metrics.storeTxn(batch.isEmpty() ? "claim" : "complete+claim", Duration.between(started, clock.instant()));
      return err == null
          ? new Claimed(round.claimed(), reservation, limit, batch, round.results())
          : new OpFailed("claim", err, reservation, batch);
    });
    return this;
  }

  /**
   * Inside the window, but no worker (or no queue under its limit) is free for a claim: give the
   * reservation back, then write our buffered completions (their jobs are what frees capacity), or
   * ask again shortly (a finished job of ours also wakes us).
   */
  private Behavior<Command> nothingToClaim(WorkerProtocol.Reservation reservation) {
    // Every reservation is answered with exactly one Dispatch, even an empty one.
    workers.tell(WorkerProtocol.Dispatch.under(reservation, List.of(), workerEvents));
    if (!buffered.isEmpty()) {
      writeCompletions();
    } else {
      timers.startSingleTimer(RetryReserve.INSTANCE, settings.retryReserveAfter());
    }
    return this;
  }

  /**
   * A claim on a partition another runner owns: it takes only jobs due for longer than {@code
   * stealAfter}, i.e. ones the owner is not keeping up with (or whose owner died before the
   * membership noticed).
   */
  private ClaimRequest stealRequest(java.util.Set<String> queues, int limit, Instant now) {
    return new ClaimRequest(partition, queues, settings.workerTags(), limit, settings.runnerId(),
        settings.lease(), now, now.minus(settings.stealAfter()));
  }

  private Behavior<Command> onClaimed(Claimed c) {
    opEnded();
    countCompletions(c.written(), c.results());
    workers.tell(WorkerProtocol.Dispatch.under(c.reservation(), c.jobs(), workerEvents));
    if (!c.jobs().isEmpty()) {
      claimedTotal += c.jobs().size();
      countClaims(c.jobs());
    }
    // A full claim means there is probably more; a short one means the partition is drained.
    backlog = c.jobs().size() >= c.limit();
    if (!owned && !backlog) {
      stealExhausted = true;
    }
    afterOp();
    return this;
  }

  private void countClaims(List<ClaimedJob> jobs) {
    if (jobs.size() == 1) {
      metrics.jobsClaimed(jobs.get(0).queue(), 1);
      return;
    }
    Map<String, Integer> perQueue = new java.util.HashMap<>();
    for (ClaimedJob j : jobs) {
      perQueue.merge(j.queue(), 1, Integer::sum);
    }
    perQueue.forEach(metrics::jobsClaimed);
  }

  private Behavior<Command> onWritten(Written w) {
    opEnded();
    countCompletions(w.batch(), w.results());
    afterOp();
    return this;
  }

  /** Metrics of written completions; the results come one per completion, in order. */
  private void countCompletions(List<Completion> batch, List<CompletionResult> results) {
    writtenTotal += batch.size();
    for (int i = 0; i < results.size(); i++) {
      CompletionResult r = results.get(i);
      if (r.accepted()) {
        metrics.jobCompleted(r.queue(), batch.get(i).outcome().wire());
        if (r.newState() == JobState.DEAD) {
          metrics.jobDead(r.queue());
        }
      }
    }
  }

  private Behavior<Command> onReaped(Reaped r) {
    opEnded();
    if (!r.ids().isEmpty()) {
      getContext().getLog().info("Reaped [{}] expired leases in partition [{}]", r.ids().size(), partition);
      backlog = true;
    }
    afterOp();
    return this;
  }

  private Behavior<Command> onOpFailed(OpFailed f) {
    opEnded();
    if (f.reservation() != null) {
      workers.tell(WorkerProtocol.Dispatch.under(f.reservation(), List.of(), workerEvents));
    }
    if (!f.unwritten().isEmpty()) {
      // Keep them: a completion is written at the next chance, never dropped.
      List<Completion> again = new ArrayList<>(f.unwritten());
      again.addAll(buffered);
      buffered = again;
    }
    getContext().getLog().warn("Store operation [{}] failed in partition [{}]; retrying in the next window: {}",
        f.op(), partition, f.cause().toString());
    // Back off until the next window rather than hammering a failing store.
    open = false;
    reportWork();
    if (stopping) {
      answerFlushWaiters();
    }
    return this;
  }

  private void afterOp() {
    if (!open && !stopping) {
      reportWork();
      return;
    }
    step();
  }

  private void reportWork() {
    if (!workReported) {
      slotWork.done(cycle, windowWork, lastOpEnd);
      workReported = true;
    }
  }

  private void opStarted() {
    busy = true;
    opStart = clock.instant();
  }

  private void opEnded() {
    busy = false;
    if (opStart != null) {
      lastOpEnd = clock.instant();
      windowWork = windowWork.plus(Duration.between(opStart, lastOpEnd));
      opStart = null;
    }
  }

  private Behavior<Command> onFlush(Flush f) {
    stopping = true;
    backlog = false;
    reapDue = false;
    flushWaiters.add(f.replyTo());
    step();
    if (!busy && buffered.isEmpty()) {
      answerFlushWaiters();
    }
    return this;
  }

  private void answerFlushWaiters() {
    for (ActorRef<Flushed> w : flushWaiters) {
      w.tell(new Flushed(partition, (int) writtenTotal));
    }
    flushWaiters.clear();
  }

  private Behavior<Command> onGetStatus(GetStatus g) {
    g.replyTo().tell(new Status(partition, open, owned, buffered.size(), claimedTotal, writtenTotal));
    return this;
  }

  private static Duration nonNegative(Duration d) {
    return d.isNegative() ? Duration.ZERO : d;
  }
}
