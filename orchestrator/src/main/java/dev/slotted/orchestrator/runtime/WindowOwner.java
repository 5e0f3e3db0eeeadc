package dev.slotted.orchestrator.runtime;

import dev.slotted.orchestrator.metrics.Metrics;
import dev.slotted.orchestrator.reconcile.ReconcilerSettings;
import dev.slotted.orchestrator.store.ClaimRequest;
import dev.slotted.orchestrator.store.CompletionResult;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.Reconciled;
import dev.slotted.orchestrator.store.StoreException;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.WorkerProtocol;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The one owner of the runner's write window (DESIGN §2). The SlotClock's windows reach it through
 * the guardian; every write of this process is a message to it and starts only inside the window,
 * never in its last guard band: API submits and the lease keeper's renewals through {@link
 * WindowedStore}, the Reconcilers' claims as {@link Backlog} notices, the workers' completions as
 * their events. The store reads the time it writes inside each transaction, from the runner's
 * clock.
 *
 * <p>Claims and completions run as rounds, one transaction each ({@link JobStore#round}): the
 * completions buffered since the last round, then a claim of every partition with backlog, owned
 * ones first. A round's size comes from the capacity the WorkerSupervisor pushes ({@link
 * WorkerProtocol.CapacityReport}): enough to keep every worker busy until this runner's next window
 * (the recent run time of its jobs says how many that is), bounded by {@code
 * slotted.tdma.claim-ahead}; a queue with a concurrency limit never gets more than its room. The
 * claimed jobs go to the WorkerSupervisor in one batch and wait in its buffer, highest priority
 * first.
 *
 * <p>One write is in flight at a time: the store's writer is one connection anyway, and this keeps
 * the start of every transaction inside the window.
 */
public final class WindowOwner extends AbstractBehavior<WindowOwner.Command> {

  /** What the window owner accepts. */
  public sealed interface Command {}

  /** The window opened; it closes at {@code closesAt} ({@link Instant#MAX}: never). */
  public record Opened(long cycle, Instant closesAt) implements Command {
    boolean endless() {
      return Instant.MAX.equals(closesAt);
    }
  }

  /** The window closed. */
  public enum Closed implements Command {
    INSTANCE
  }

  /** A write to run in the window; {@code result} completes with the write's own result. */
  public record Write<T>(String op, Supplier<CompletionStage<T>> work, CompletableFuture<T> result)
      implements Command {}

  /**
   * A Reconciler's notice: its partition may have due jobs. {@code steal}: the partition belongs to
   * another runner this cycle, so only jobs that have waited longer than {@code stealAfter} are
   * taken.
   */
  public record Backlog(int partition, boolean steal) implements Command {}

  /** Shutdown: claim nothing more. */
  public enum StopClaiming implements Command {
    INSTANCE
  }

  /** Shutdown: reply once every buffered completion is written (still only inside the window). */
  public record Flush(ActorRef<Done> replyTo) implements Command {}

  /** Shutdown's end: from now on writes run whenever they come (the clock is stopping). */
  public enum Release implements Command {
    INSTANCE
  }

  /** Asks for the owner's figures. */
  public record GetStatus(ActorRef<Status> replyTo) implements Command {}

  /**
   * The owner's figures: claimed jobs waiting for a worker (including those on their way to the
   * WorkerSupervisor), workers busy, the pool size, and the writes waiting for the window.
   */
  public record Status(int buffered, int running, int capacity, long claimed, long completed, int queuedWrites) {}

  /** Reports how long a window's work took (to the SlotClock). */
  @FunctionalInterface
  public interface SlotWork {
    /** @param endedAt when the window's last store operation ended (judges overruns) */
    void done(long cycle, Duration work, Instant endedAt);
  }

  private record FromWorker(WorkerProtocol.Event event) implements Command {}

  private record Capacity(WorkerProtocol.CapacityReport report) implements Command {}

  private record WriteDone() implements Command {}

  private record RoundDone(List<Completion> completions, int budget, Map<String, Integer> caps,
      List<Integer> partitions, Reconciled result, Throwable error, Instant started) implements Command {}

  private enum Resume implements Command {
    INSTANCE
  }

  /** Subscribes again: a WorkerSupervisor restarted by its supervisor has forgotten its subscribers. */
  private enum Resubscribe implements Command {
    INSTANCE
  }

  static final Duration RESUBSCRIBE_EVERY = Duration.ofSeconds(5);

  /** How far ahead a runner whose window never closes (a lone runner) claims. */
  static final Duration LONE_HORIZON = Duration.ofMillis(50);
  /** The most completions one round writes. */
  static final int MAX_ROUND_COMPLETIONS = 10_000;
  /** The fewest rows a round may write, however little of the window is left. */
  static final int MIN_ROUND_ROWS = 50;
  /** How much a new run time moves the running average. */
  private static final double RUN_TIME_WEIGHT = 0.02;

  private final JobStore store;
  private final ActorRef<WorkerProtocol.Command> workers;
  private final ReconcilerSettings settings;
  private final Duration cycle;
  /** The guard: no write starts closer than this to the window's end. */
  private final Duration guardMargin;
  /** The most the margin grows to when writes run slow: a tenth of the cycle (or the guard). */
  private final Duration maxMargin;
  /** A quarter of the current window: the margin never takes more of it. */
  private Duration windowQuarter = Duration.ZERO;
  /** How long recent writes took, wall clock, decaying: a starved machine makes writes slow. */
  private Duration slowOp = Duration.ZERO;
  private final int claimAhead;
  private final Clock clock;
  private final Metrics metrics;
  private final SlotWork slotWork;
  private final TimerScheduler<Command> timers;
  private final ActorRef<WorkerProtocol.Event> workerEvents;
  private final ActorRef<WorkerProtocol.CapacityReport> capacityReports;

  private boolean open;
  private boolean endless;
  private Instant closesAt = Instant.MIN;
  private long cycleNo = -1;
  private boolean released;
  private boolean stopping;
  /** A store failure: no write until then. */
  private Instant suspendedUntil = Instant.MIN;

  private boolean inFlight;
  private boolean preferWrite;
  private final ArrayDeque<Write<?>> writes = new ArrayDeque<>();
  private List<Completion> completions = new ArrayList<>();
  /** Partitions with backlog, in arrival order; the value says whether the claim is a steal. */
  private final LinkedHashMap<Integer, Boolean> backlog = new LinkedHashMap<>();
  /**
   * Partitions that may still hold jobs of a limited queue that had no room left: back to the
   * backlog when the workers report room for a limited queue again.
   */
  private final LinkedHashMap<Integer, Boolean> waitingForRoom = new LinkedHashMap<>();
  private final List<ActorRef<Done>> flushWaiters = new ArrayList<>();

  private WorkerProtocol.CapacityReport capacity;
  private long dispatched;
  private final Map<String, Long> dispatchedByQueue = new HashMap<>();
  /** Running average of a round's cost per row written, in nanoseconds; 0 until measured. */
  private double nanosPerRow;
  /** Running average of one attempt's run time, in nanoseconds; 0 until the first completion. */
  private double avgRunNanos;
  private long claimedTotal;
  private long completedTotal;

  private Duration windowWork = Duration.ZERO;
  private Instant opStart;
  private Instant lastOpEnd = Instant.MIN;
  private boolean workReported = true;

  public static Behavior<Command> create(
      JobStore store,
      ActorRef<WorkerProtocol.Command> workers,
      ReconcilerSettings settings,
      Duration cycle,
      Duration guard,
      int claimAhead,
      Clock clock,
      Metrics metrics,
      SlotWork slotWork) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new WindowOwner(ctx, timers, store, workers, settings, cycle, guard, claimAhead, clock, metrics, slotWork)));
  }

  private WindowOwner(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      JobStore store,
      ActorRef<WorkerProtocol.Command> workers,
      ReconcilerSettings settings,
      Duration cycle,
      Duration guard,
      int claimAhead,
      Clock clock,
      Metrics metrics,
      SlotWork slotWork) {
    super(ctx);
    this.timers = timers;
    this.store = store;
    this.workers = workers;
    this.settings = settings;
    this.cycle = cycle;
    // No write starts in the last guard of a window: a transaction begun there (a claim of hundreds
    // of jobs, or the WAL checkpoint a commit may run) still ends before the next runner's window,
    // which opens a guard after the end of this slot.
    this.guardMargin = guard.isZero() ? Duration.ofMillis(2) : guard;
    this.maxMargin = max(guardMargin, cycle.dividedBy(10));
    this.claimAhead = claimAhead;
    this.clock = clock;
    this.metrics = metrics;
    this.slotWork = slotWork;
    this.workerEvents = ctx.messageAdapter(WorkerProtocol.Event.class, FromWorker::new);
    this.capacityReports = ctx.messageAdapter(WorkerProtocol.CapacityReport.class, Capacity::new);
    workers.tell(new WorkerProtocol.Subscribe(capacityReports));
    timers.startTimerWithFixedDelay(Resubscribe.INSTANCE, RESUBSCRIBE_EVERY);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Opened.class, this::onOpened)
        .onMessageEquals(Closed.INSTANCE, this::onClosed)
        .onMessage(Write.class, this::onWrite)
        .onMessage(Backlog.class, this::onBacklog)
        .onMessage(FromWorker.class, this::onWorkerEvent)
        .onMessage(Capacity.class, this::onCapacity)
        .onMessage(WriteDone.class, d -> afterOp())
        .onMessage(RoundDone.class, this::onRoundDone)
        .onMessageEquals(Resume.INSTANCE, this::step)
        .onMessageEquals(Resubscribe.INSTANCE, () -> {
          workers.tell(new WorkerProtocol.Subscribe(capacityReports));
          return this;
        })
        .onMessageEquals(StopClaiming.INSTANCE, this::onStopClaiming)
        .onMessage(Flush.class, this::onFlush)
        .onMessageEquals(Release.INSTANCE, this::onRelease)
        .onMessage(GetStatus.class, this::onGetStatus)
        .onSignal(PreRestart.class, s -> failQueuedWrites())
        .build();
  }

  // ---- the window

  private Behavior<Command> onOpened(Opened o) {
    reportWork(); // the previous window's, if an op was still in flight when it closed
    open = true;
    endless = o.endless();
    closesAt = o.closesAt();
    windowQuarter = endless ? Duration.ZERO : Duration.between(clock.instant(), closesAt).dividedBy(4);
    cycleNo = o.cycle();
    windowWork = Duration.ZERO;
    lastOpEnd = clock.instant();
    workReported = false;
    return step();
  }

  private Behavior<Command> onClosed() {
    open = false;
    if (!inFlight) {
      reportWork();
    }
    return this;
  }

  private boolean mayWrite() {
    if (released) {
      return true;
    }
    Instant now = clock.instant();
    if (now.isBefore(suspendedUntil)) {
      return false;
    }
    if (open && !endless && !now.plus(margin()).isBefore(closesAt)) {
      // The close tick may come late (scheduler granularity): never start a write in the guard.
      open = false;
      reportWork();
    }
    return open;
  }

  // ---- what comes in

  private Behavior<Command> onWrite(Write<?> w) {
    writes.add(w);
    return step();
  }

  private Behavior<Command> onBacklog(Backlog b) {
    if (!stopping) {
      backlog.put(b.partition(), b.steal());
    }
    return step();
  }

  private Behavior<Command> onWorkerEvent(FromWorker msg) {
    if (msg.event() instanceof WorkerProtocol.Started s) {
      metrics.dispatchDelay(s.job().queue(), nonNegative(Duration.between(s.job().dueAt(), s.startedAt())));
      return this;
    }
    if (msg.event() instanceof WorkerProtocol.Finished f) {
      completions.add(f.completion());
      Duration run = nonNegative(Duration.between(f.startedAt(), f.completion().endedAt()));
      metrics.jobRunTime(f.job().queue(), run);
      double nanos = Math.max(1_000, run.toNanos());
      avgRunNanos = avgRunNanos == 0 ? nanos : avgRunNanos + RUN_TIME_WEIGHT * (nanos - avgRunNanos);
      return step();
    }
    return this;
  }

  private Behavior<Command> onCapacity(Capacity c) {
    capacity = c.report();
    metrics.bufferedJobs(capacity.buffered());
    if (!waitingForRoom.isEmpty() && queueCaps().values().stream().anyMatch(n -> n > 0)) {
      waitingForRoom.forEach(backlog::putIfAbsent);
      waitingForRoom.clear();
    }
    return step();
  }

  // ---- the write loop

  private Behavior<Command> step() {
    if (inFlight) {
      return this;
    }
    if (!mayWrite()) {
      return this;
    }
    boolean roundWanted = !completions.isEmpty() || (!backlog.isEmpty() && budget() > 0);
    if (!writes.isEmpty() && (preferWrite || !roundWanted)) {
      preferWrite = false;
      runWrite(writes.poll());
    } else if (roundWanted) {
      preferWrite = true;
      runRound();
    } else {
      answerFlushWaiters();
    }
    return this;
  }

  private <T> void runWrite(Write<T> w) {
    opStarted();
    CompletionStage<T> stage;
    try {
      stage = w.work().get();
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    getContext().pipeToSelf(stage, (v, err) -> {
      if (err != null) {
        w.result().completeExceptionally(err);
      } else {
        w.result().complete(v);
      }
      return new WriteDone();
    });
  }

  /**
   * How many jobs to claim now: enough for the idle workers and for the run time until this runner
   * may claim again, less what is already buffered or on its way, within {@code claim-ahead}.
   */
  private int budget() {
    if (stopping || capacity == null || !capacity.accepting()) {
      return 0;
    }
    long buffered = bufferedOrOnTheWay();
    long idle = capacity.idle();
    long ahead = 0;
    if (claimAhead > 0) {
      long horizon = (endless ? LONE_HORIZON : cycle.plus(cycle.dividedBy(5))).toNanos();
      // Before the first completion the run time is unknown: one pool's worth ahead.
      ahead = avgRunNanos == 0 ? capacity.capacity()
          : (long) Math.min(Integer.MAX_VALUE, capacity.capacity() * (horizon / avgRunNanos));
    }
    long want = Math.min(idle + ahead, idle + claimAhead) - buffered;
    return (int) Math.max(0, Math.min(Integer.MAX_VALUE, want));
  }

  /**
   * How many rows (completions plus claimed jobs) a round started now may write so that it ends
   * well inside the window: half the time left, at the recent cost per row. Unbounded in an
   * endless window, and before the first measure.
   */
  private int rowsThatFit(Instant now) {
    if (endless || released || nanosPerRow == 0) {
      return Integer.MAX_VALUE;
    }
    long left = Duration.between(now, closesAt.minus(margin())).toNanos();
    return (int) Math.max(MIN_ROUND_ROWS, Math.min(Integer.MAX_VALUE, left / 2 / nanosPerRow));
  }

  private void learnRoundCost(int rows, Duration took) {
    if (rows < MIN_ROUND_ROWS) {
      return; // a round's fixed cost would pass for a cost per row
    }
    double perRow = (double) took.toNanos() / rows;
    nanosPerRow = nanosPerRow == 0 ? perRow : nanosPerRow + 0.3 * (perRow - nanosPerRow);
  }

  /** Claimed jobs waiting for a worker, and those dispatched that the supervisor has not reported yet. */
  private long bufferedOrOnTheWay() {
    return capacity.buffered() + Math.max(0, dispatched - capacity.received());
  }

  /** Per limited queue, how many more of its jobs this runner may hold. */
  private Map<String, Integer> queueCaps() {
    Map<String, Integer> caps = new HashMap<>();
    capacity.room().forEach((q, room) -> {
      if (settings.queues().contains(q)) {
        long onTheWay = dispatchedByQueue.getOrDefault(q, 0L) - capacity.receivedByQueue().getOrDefault(q, 0L);
        caps.put(q, (int) Math.max(0, room - Math.max(0, onTheWay)));
      }
    });
    return caps;
  }

  private void runRound() {
    opStarted();
    Instant now = opStart;
    int fit = rowsThatFit(now);
    int take = Math.min(fit, MAX_ROUND_COMPLETIONS);
    List<Completion> batch;
    if (completions.size() <= take) {
      batch = completions;
      completions = new ArrayList<>();
    } else {
      batch = new ArrayList<>(completions.subList(0, take));
      completions = new ArrayList<>(completions.subList(take, completions.size()));
    }
    int budget = Math.min(budget(), Math.max(0, fit - batch.size()));
    List<ClaimRequest> claims = new ArrayList<>();
    List<Integer> partitions = new ArrayList<>();
    Map<String, Integer> caps = Map.of();
    if (budget > 0) {
      caps = queueCaps();
      // Owned partitions first, then steals; each group in arrival order, so every partition with
      // backlog gets its turn before one gets a second.
      for (boolean steals : new boolean[] {false, true}) {
        for (Map.Entry<Integer, Boolean> e : backlog.entrySet()) {
          if (e.getValue() == steals) {
            partitions.add(e.getKey());
            claims.add(new ClaimRequest(e.getKey(), settings.queues(), settings.workerTags(), settings.maxClaimBatch(),
                settings.runnerId(), settings.lease(), steals ? settings.stealAfter() : null));
          }
        }
      }
    }
    int total = budget;
    Map<String, Integer> roundCaps = caps;
    getContext().pipeToSelf(store.round(batch, claims, caps, total, clock), (r, err) -> {
      metrics.storeTxn(claims.isEmpty() ? "complete" : batch.isEmpty() ? "claim" : "complete+claim",
          Duration.between(now, clock.instant()));
      return new RoundDone(batch, total, roundCaps, partitions, r, err, now);
    });
  }

  private Behavior<Command> onRoundDone(RoundDone d) {
    if (d.error() != null) {
      // Keep them: a completion is written at the next chance, never dropped.
      List<Completion> again = new ArrayList<>(d.completions());
      again.addAll(completions);
      completions = again;
      getContext().getLog().warn("Store round failed; retrying after one cycle: {}", d.error().toString());
      suspend();
      return afterOp();
    }
    countCompletions(d.completions(), d.result().results());
    List<ClaimedJob> claimed = d.result().claimed();
    learnRoundCost(d.completions().size() + claimed.size(), Duration.between(d.started(), clock.instant()));
    Map<Integer, Integer> perPartition = new HashMap<>();
    if (!claimed.isEmpty()) {
      workers.tell(new WorkerProtocol.Dispatch(claimed, workerEvents));
      dispatched += claimed.size();
      claimedTotal += claimed.size();
      Map<String, Integer> perQueue = new HashMap<>();
      for (ClaimedJob j : claimed) {
        perPartition.merge(j.partition(), 1, Integer::sum);
        perQueue.merge(j.queue(), 1, Integer::sum);
      }
      perQueue.forEach((q, n) -> {
        metrics.jobsClaimed(q, n);
        if (capacity != null && capacity.room().containsKey(q)) {
          dispatchedByQueue.merge(q, (long) n, Long::sum);
        }
      });
    }
    // A partition that gave less than it was allowed is drained, unless the round's budget ran out
    // first; its Reconciler tells again when new work may be due (a submit, or the due poller).
    boolean budgetSpent = claimed.size() >= d.budget();
    boolean capSpent = d.caps().entrySet().stream().anyMatch(e ->
        claimed.stream().filter(j -> j.queue().equals(e.getKey())).count() >= e.getValue());
    for (int p : d.partitions()) {
      if (!budgetSpent && perPartition.getOrDefault(p, 0) < settings.maxClaimBatch()) {
        Boolean steal = backlog.remove(p);
        if (capSpent && steal != null) {
          waitingForRoom.put(p, steal);
        }
      }
    }
    return afterOp();
  }

  /** Metrics of written completions; the results come one per completion, in order. */
  private void countCompletions(List<Completion> batch, List<CompletionResult> results) {
    completedTotal += batch.size();
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

  /** Back off for a cycle rather than hammering a failing store. */
  private void suspend() {
    suspendedUntil = clock.instant().plus(cycle);
    timers.startSingleTimer(Resume.INSTANCE, cycle);
  }

  private Behavior<Command> afterOp() {
    opEnded();
    if (!open && !released) {
      reportWork();
    }
    return step();
  }

  // ---- slot figures

  private void opStarted() {
    inFlight = true;
    opStart = clock.instant();
  }

  private void opEnded() {
    inFlight = false;
    if (opStart != null) {
      lastOpEnd = clock.instant();
      Duration took = Duration.between(opStart, lastOpEnd);
      windowWork = windowWork.plus(took);
      slowOp = max(took, slowOp.multipliedBy(4).dividedBy(5));
      opStart = null;
    }
  }

  /**
   * How close to the window's end a write may still start: the guard, or as long as recent writes
   * took when that is longer (a loaded machine preempts the writer mid-transaction, and a write that
   * outlasts the window meets the next runner's; SQLITE_BUSY), at most a tenth of the cycle and a
   * quarter of the window, so slow writes shorten the window but never shut it.
   */
  private Duration margin() {
    return min(max(guardMargin, slowOp), max(guardMargin, min(maxMargin, windowQuarter)));
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private void reportWork() {
    if (!workReported) {
      slotWork.done(cycleNo, windowWork, lastOpEnd);
      workReported = true;
    }
  }

  // ---- shutdown

  private Behavior<Command> onStopClaiming() {
    stopping = true;
    backlog.clear();
    waitingForRoom.clear();
    return this;
  }

  private Behavior<Command> onFlush(Flush f) {
    stopping = true;
    backlog.clear();
    waitingForRoom.clear();
    flushWaiters.add(f.replyTo());
    return step();
  }

  private void answerFlushWaiters() {
    if (completions.isEmpty() && !inFlight) {
      flushWaiters.forEach(w -> w.tell(Done.getInstance()));
      flushWaiters.clear();
    }
  }

  private Behavior<Command> onRelease() {
    released = true;
    return step();
  }

  private Behavior<Command> failQueuedWrites() {
    StoreException e = new StoreException("the runner's window owner restarted; the write was not run");
    writes.forEach(w -> w.result().completeExceptionally(e));
    writes.clear();
    return this;
  }

  private Behavior<Command> onGetStatus(GetStatus g) {
    int buffered = capacity == null ? 0 : (int) bufferedOrOnTheWay();
    g.replyTo().tell(new Status(buffered, capacity == null ? 0 : capacity.busy(),
        capacity == null ? 0 : capacity.capacity(), claimedTotal, completedTotal, writes.size()));
    return this;
  }

  private static Duration nonNegative(Duration d) {
    return d.isNegative() ? Duration.ZERO : d;
  }
}
