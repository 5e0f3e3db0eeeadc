package dev.slotted.worker.supervise;

import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.WorkerProtocol;
import dev.slotted.protocol.WorkerProtocol.Dispatch;
import dev.slotted.protocol.WorkerProtocol.Drain;
import dev.slotted.protocol.WorkerProtocol.Drained;
import dev.slotted.protocol.WorkerProtocol.Finished;
import dev.slotted.protocol.WorkerProtocol.GetRunning;
import dev.slotted.protocol.WorkerProtocol.CapacityReport;
import dev.slotted.protocol.WorkerProtocol.Subscribe;
import dev.slotted.protocol.WorkerProtocol.TakeBuffer;
import dev.slotted.protocol.WorkerProtocol.Running;
import dev.slotted.protocol.WorkerProtocol.RunningJob;
import dev.slotted.protocol.WorkerProtocol.Started;
import dev.slotted.protocol.WorkerProtocol.Stop;
import dev.slotted.worker.Cancellation;
import dev.slotted.worker.JobContext;
import dev.slotted.worker.JobHandler;
import dev.slotted.worker.handler.HandlerRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Owns this runner's bounded pool of worker children (DESIGN §2) and speaks {@link WorkerProtocol}
 * with the orchestrator.
 *
 * <ul>
 *   <li>Capacity: at most {@code capacity} attempts occupy workers, and at most {@code concurrency}
 *       of each limited queue. Claimed jobs ({@link Dispatch}) wait in a buffer, highest priority
 *       first (then the longest due), and start the moment a worker and their queue's concurrency
 *       allow; a buffered job counts as running for lease renewal. What it can take is pushed to
 *       its subscribers ({@link CapacityReport}) whenever that changes.
 *   <li>Children are spawned on demand, named {@code w-1}, {@code w-2}, ..., reused for attempt
 *       after attempt, and restarted with backoff when they crash. A crash fails the attempt it was
 *       running (retryable); a job failure is never a crash.
 *   <li>Every attempt gets {@link Started} and then exactly one {@link Finished} (carrying a
 *       completion with the claim's lease token), except attempts ended by {@link Stop} or
 *       interrupted by {@link Drain}: the store has moved on for those, or the orchestrator releases
 *       their leases.
 * </ul>
 *
 * <p>Its message type is {@code Object} internally so that worker reports need not be part of the
 * shared protocol; {@link #create} narrows it to {@link WorkerProtocol.Command}.
 */
public final class WorkerSupervisor extends AbstractBehavior<Object> {

  private enum Phase {
    RUNNING,
    /** Accepting no new reservations; running attempts may finish within the grace. */
    DRAINING,
    /** The grace ran out: interrupted attempts are being stopped. */
    STOPPING,
    DRAINED
  }

  private enum DrainGraceOver {
    INSTANCE
  }

  private enum DrainStopOver {
    INSTANCE
  }

  private enum SendReport {
    INSTANCE
  }

  /** Buffer order: priority DESC, then the longest due, then arrival. */
  private static final Comparator<Waiting> BUFFER_ORDER =
      Comparator.<Waiting>comparingInt(w -> -w.job().priority())
          .thenComparing(w -> w.job().dueAt() == null ? Instant.MIN : w.job().dueAt())
          .thenComparingLong(Waiting::seq);

  private static final class Slot {
    final String name;
    final ActorRef<Worker.Command> ref;
    Attempt attempt;
    boolean down;

    Slot(String name, ActorRef<Worker.Command> ref) {
      this.name = name;
      this.ref = ref;
    }
  }

  private record Waiting(ClaimedJob job, ActorRef<WorkerProtocol.Event> replyTo, long seq) {}

  private final WorkerSettings settings;
  private final HandlerRegistry handlers;
  private final Clock clock;
  private final WorkerMetrics metrics;
  /** Who this supervisor is (null: a lone runner's, named by nothing but its workers). */
  private final WorkerProtocol.Advert advert;
  /** Where Dispatches for it go (itself, or its node's gateway). */
  private final ActorRef<WorkerProtocol.Command> publicRef;
  private final TimerScheduler<Object> timers;
  private final Executor blocking;
  private final ActorRef<Worker.Report> reports;

  private final Map<String, Slot> workers = new HashMap<>();
  private final ArrayDeque<Slot> idle = new ArrayDeque<>();
  private final Map<String, Attempt> active = new HashMap<>();
  private final TreeSet<Waiting> waiting = new TreeSet<>(BUFFER_ORDER);
  private final Capacity capacity;
  private final List<ActorRef<CapacityReport>> subscribers = new ArrayList<>();
  private CapacityReport lastReport;
  private boolean reportPending;
  private long nextSeq;
  private int nextWorker = 1;

  private Phase phase = Phase.RUNNING;
  private final List<ActorRef<Drained>> drainers = new ArrayList<>();
  private final List<RunningJob> interrupted = new ArrayList<>();
  private final Set<Attempt> stopping = new HashSet<>();

  public static Behavior<WorkerProtocol.Command> create(
      WorkerSettings settings, HandlerRegistry handlers, Clock clock) {
    return create(settings, handlers, clock, WorkerMetrics.NONE);
  }

  public static Behavior<WorkerProtocol.Command> create(
      WorkerSettings settings, HandlerRegistry handlers, Clock clock, WorkerMetrics metrics) {
    return create(settings, handlers, clock, metrics, null, null);
  }

  /**
   * A supervisor that names itself in its reports: {@code advert} (its node, tags and queues; the
   * node prefixes its workers' names in attempts, {@code node/w-3}) and {@code publicRef}, where
   * Dispatches for it are to be sent (null: itself).
   */
  public static Behavior<WorkerProtocol.Command> create(
      WorkerSettings settings,
      HandlerRegistry handlers,
      Clock clock,
      WorkerMetrics metrics,
      WorkerProtocol.Advert advert,
      ActorRef<WorkerProtocol.Command> publicRef) {
    return Behaviors.<Object>setup(
            ctx ->
                Behaviors.withTimers(
                    timers -> new WorkerSupervisor(
                        ctx, timers, settings, handlers, clock, metrics, advert, publicRef)))
        .narrow();
  }

  private WorkerSupervisor(
      ActorContext<Object> ctx,
      TimerScheduler<Object> timers,
      WorkerSettings settings,
      HandlerRegistry handlers,
      Clock clock,
      WorkerMetrics metrics,
      WorkerProtocol.Advert advert,
      ActorRef<WorkerProtocol.Command> publicRef) {
    super(ctx);
    this.settings = settings;
    this.handlers = handlers;
    this.clock = clock;
    this.metrics = metrics;
    this.advert = advert;
    this.publicRef = publicRef != null ? publicRef : ctx.getSelf().<WorkerProtocol.Command>narrow();
    this.timers = timers;
    this.blocking = ctx.getSystem().dispatchers().lookup(settings.dispatcher());
    this.reports = ctx.getSelf().narrow();
    this.capacity = new Capacity(settings);
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(Dispatch.class, this::onDispatch)
        .onMessage(TakeBuffer.class, this::onTakeBuffer)
        .onMessage(Stop.class, this::onStop)
        .onMessage(GetRunning.class, this::onGetRunning)
        .onMessage(Drain.class, this::onDrain)
        .onMessage(Worker.Ended.class, this::onEnded)
        .onMessage(Worker.Crashed.class, this::onCrashed)
        .onMessage(Worker.Ready.class, this::onReady)
        .onMessageEquals(DrainGraceOver.INSTANCE, this::onDrainGraceOver)
        .onMessageEquals(DrainStopOver.INSTANCE, this::onDrainStopOver)
        .onMessageEquals(SendReport.INSTANCE, this::onSendReport)
        .onSignal(Terminated.class, this::onTerminated)
        .build();
  }

  // ---- orchestrator protocol

  private Behavior<Object> onSubscribe(Subscribe s) {
    if (!subscribers.contains(s.subscriber())) {
      subscribers.add(s.subscriber());
    }
    s.subscriber().tell(report());
    return this;
  }

  private Behavior<Object> onDispatch(Dispatch d) {
    for (ClaimedJob job : d.jobs()) {
      capacity.received(job.queue());
      switch (phase) {
        case RUNNING -> waiting.add(new Waiting(job, d.replyTo(), nextSeq++));
        case DRAINING, STOPPING -> {
          // Claimed before the orchestrator saw the drain: handed back with the interrupted ones.
          capacity.unbuffered(job.queue());
          interrupted.add(new RunningJob(job.id(), job.leaseToken(), job.queue(), null, null));
        }
        case DRAINED -> {
          capacity.unbuffered(job.queue());
          getContext().getLog().warn(
              "Job [{}] dispatched after the drain ended: not run, its lease will expire", job.id());
        }
      }
    }
    startWaiting();
    checkDrain();
    capacityChanged();
    return this;
  }

  private Behavior<Object> onTakeBuffer(TakeBuffer t) {
    List<RunningJob> taken = new ArrayList<>(waiting.size());
    for (Waiting w : waiting) {
      taken.add(new RunningJob(w.job().id(), w.job().leaseToken(), w.job().queue(), null, null));
      capacity.unbuffered(w.job().queue());
    }
    waiting.clear();
    if (phase == Phase.RUNNING) {
      phase = Phase.DRAINING; // accept nothing more; the Drain that follows sets the grace
    }
    getContext().getLog().info("Handing back [{}] buffered jobs", taken.size());
    t.replyTo().tell(new Running(taken));
    capacityChanged();
    checkDrain();
    return this;
  }

  /**
   * Pushes the capacity to the subscribers: a message to itself, so a burst of changes already in
   * the mailbox (a batch of attempts ending) makes one report, sent right after them.
   */
  private void capacityChanged() {
    if (subscribers.isEmpty() || reportPending) {
      return;
    }
    reportPending = true;
    getContext().getSelf().tell(SendReport.INSTANCE);
  }

  private Behavior<Object> onSendReport() {
    reportPending = false;
    sendReport();
    return this;
  }

  private void sendReport() {
    CapacityReport r = report();
    if (r.equals(lastReport)) {
      return;
    }
    lastReport = r;
    for (ActorRef<CapacityReport> s : subscribers) {
      s.tell(r);
    }
  }

  private CapacityReport report() {
    return capacity.report(phase == Phase.RUNNING).from(publicRef, advert);
  }

  private Behavior<Object> onStop(Stop s) {
    s.leases().forEach((id, token) -> {
      Attempt a = active.get(id);
      if (a != null && a.job.leaseToken().equals(token)) {
        active.remove(id);
        a.silent = true;
        a.cancellation().cancel(Cancellation.Reason.STOPPED);
        getContext().getLog().info("Stopping [{}]: {}", a, s.reason());
      }
    });
    for (Iterator<Waiting> it = waiting.iterator(); it.hasNext(); ) {
      Waiting w = it.next();
      if (w.job().leaseToken().equals(s.leases().get(w.job().id()))) {
        it.remove();
        capacity.unbuffered(w.job().queue());
        getContext().getLog().info("Dropping buffered job [{}]: {}", w.job().id(), s.reason());
      }
    }
    startWaiting();
    checkDrain();
    capacityChanged();
    return this;
  }

  private Behavior<Object> onGetRunning(GetRunning g) {
    List<RunningJob> jobs = new ArrayList<>(active.size() + waiting.size());
    Object by = g.dispatchedBy();
    for (Attempt a : active.values()) {
      if (by == null || by.equals(a.replyTo)) {
        jobs.add(a.running());
      }
    }
    for (Waiting w : waiting) {
      if (by == null || by.equals(w.replyTo())) {
        jobs.add(new RunningJob(w.job().id(), w.job().leaseToken(), w.job().queue(), null, null));
      }
    }
    g.replyTo().tell(new Running(jobs));
    return this;
  }

  private Behavior<Object> onDrain(Drain d) {
    switch (phase) {
      case RUNNING -> {
        phase = Phase.DRAINING;
        capacityChanged();
        drainers.add(d.replyTo());
        getContext().getLog().info(
            "Draining: [{}] attempts running, [{}] waiting; grace [{}]", active.size(), waiting.size(), d.grace());
        timers.startSingleTimer(DrainGraceOver.INSTANCE, DrainGraceOver.INSTANCE, d.grace());
        checkDrain();
      }
      case DRAINING, STOPPING -> {
        if (drainers.isEmpty() && phase == Phase.DRAINING) {
          // Drain after TakeBuffer: start the grace now.
          timers.startSingleTimer(DrainGraceOver.INSTANCE, DrainGraceOver.INSTANCE, d.grace());
        }
        drainers.add(d.replyTo());
        checkDrain();
      }
      case DRAINED -> d.replyTo().tell(new Drained(List.of()));
    }
    return this;
  }

  // ---- worker reports

  private Behavior<Object> onEnded(Worker.Ended e) {
    Slot s = workers.get(e.worker());
    if (s == null || s.attempt != e.attempt()) {
      return this; // already accounted for (its worker crashed or stopped)
    }
    free(s);
    idle.push(s);
    finished(e.attempt(), e.completion());
    startWaiting();
    checkDrain();
    capacityChanged();
    return this;
  }

  private Behavior<Object> onCrashed(Worker.Crashed c) {
    metrics.workerRestarted(c.worker());
    Slot s = workers.get(c.worker());
    if (s == null) {
      return this;
    }
    getContext().getLog().warn(
        "Worker [{}] crashed ({}); restarting it with backoff. Its attempt: [{}]",
        c.worker(), c.cause(), s.attempt);
    idle.remove(s);
    if (s.attempt != null) {
      Attempt a = s.attempt;
      free(s);
      finished(a, a.failure("worker " + c.worker() + " crashed: " + c.cause(), clock.instant()));
    }
    if (!s.down) {
      s.down = true;
      capacity.workerDown();
    }
    startWaiting();
    checkDrain();
    capacityChanged();
    return this;
  }

  private Behavior<Object> onReady(Worker.Ready r) {
    Slot s = workers.get(r.worker());
    if (s != null && s.down) {
      s.down = false;
      capacity.workerUp();
      idle.push(s);
      startWaiting();
      capacityChanged();
    }
    return this;
  }

  private Behavior<Object> onTerminated(Terminated t) {
    Slot s = workers.remove(t.getRef().path().name());
    if (s == null) {
      return this;
    }
    getContext().getLog().warn("Worker [{}] stopped; its slot will get a new worker", s.name);
    idle.remove(s);
    if (s.down) {
      capacity.workerUp();
    }
    if (s.attempt != null) {
      Attempt a = s.attempt;
      free(s);
      finished(a, a.failure("worker " + s.name + " stopped", clock.instant()));
    }
    startWaiting();
    checkDrain();
    capacityChanged();
    return this;
  }

  // ---- drain

  private Behavior<Object> onDrainGraceOver() {
    if (phase != Phase.DRAINING) {
      return this;
    }
    phase = Phase.STOPPING;
    for (Attempt a : active.values()) {
      a.silent = true;
      interrupted.add(a.running());
      stopping.add(a);
      a.cancellation().cancel(Cancellation.Reason.SHUTDOWN);
    }
    active.clear();
    for (Waiting w : waiting) {
      interrupted.add(new RunningJob(w.job().id(), w.job().leaseToken(), w.job().queue(), null, null));
      capacity.unbuffered(w.job().queue());
    }
    waiting.clear();
    getContext().getLog().info(
        "Drain grace over: stopping [{}] attempts, releasing [{}] jobs", stopping.size(), interrupted.size());
    // Workers give up on a handler after the stop timeout; this is only a backstop.
    timers.startSingleTimer(
        DrainStopOver.INSTANCE, DrainStopOver.INSTANCE, settings.stopTimeout().plusSeconds(1));
    checkDrain();
    return this;
  }

  private Behavior<Object> onDrainStopOver() {
    if (phase == Phase.STOPPING) {
      getContext().getLog().warn("[{}] interrupted attempts still had not ended; drained anyway", stopping.size());
      completeDrain();
    }
    return this;
  }

  private void checkDrain() {
    if (drainers.isEmpty()) {
      return; // handed back its buffer, but the Drain itself has not come yet
    }
    if ((phase == Phase.DRAINING && active.isEmpty() && waiting.isEmpty())
        || (phase == Phase.STOPPING && stopping.isEmpty())) {
      completeDrain();
    }
  }

  private void completeDrain() {
    phase = Phase.DRAINED;
    timers.cancel(DrainGraceOver.INSTANCE);
    timers.cancel(DrainStopOver.INSTANCE);
    Drained done = new Drained(interrupted);
    getContext().getLog().info("Drained; [{}] attempts interrupted", interrupted.size());
    drainers.forEach(r -> r.tell(done));
    drainers.clear();
  }

  // ---- accounting

  private boolean workerAvailable() {
    return !idle.isEmpty() || workers.size() < settings.capacity();
  }

  private void start(ClaimedJob job, ActorRef<WorkerProtocol.Event> replyTo, Instant now) {
    Slot s = idle.isEmpty() ? spawnWorker() : idle.pop();
    JobHandler handler = handlers.handler(job.queue());
    Duration timeout = job.timeout() != null ? job.timeout() : settings.timeout(job.queue());
    JobContext ctx =
        new JobContext(
            job, settings.logDir(), settings.logTailChars(), timeout == null ? null : now.plus(timeout),
            new Cancellation());
    String worker = advert == null || advert.node().isEmpty() ? s.name : advert.node() + "/" + s.name;
    Attempt a = new Attempt(job, handler, ctx, replyTo, worker, now, timeout);
    s.attempt = a;
    Attempt previous = active.put(job.id(), a);
    if (previous != null) {
      // The same job again while an older attempt still runs: the older lease is gone.
      previous.silent = true;
      previous.cancellation().cancel(Cancellation.Reason.STOPPED);
    }
    replyTo.tell(new Started(job, worker, now));
    s.ref.tell(new Worker.Run(a));
  }

  private void startWaiting() {
    if (waiting.isEmpty() || phase == Phase.STOPPING || phase == Phase.DRAINED) {
      return;
    }
    Instant now = clock.instant();
    for (Iterator<Waiting> it = waiting.iterator(); it.hasNext() && workerAvailable(); ) {
      Waiting w = it.next();
      if (capacity.queueHasRoom(w.job().queue())) {
        it.remove();
        capacity.started(w.job().queue());
        start(w.job(), w.replyTo(), now);
      }
    }
  }

  private void free(Slot s) {
    capacity.ended(s.attempt.job.queue());
    s.attempt = null;
  }

  private void finished(Attempt a, Completion c) {
    if (active.get(a.job.id()) == a) {
      active.remove(a.job.id());
    }
    stopping.remove(a);
    if (!a.silent) {
      a.replyTo.tell(new Finished(a.job, c.startedAt(a.startedAt), a.startedAt));
    }
  }

  private Slot spawnWorker() {
    String name = "w-" + nextWorker++;
    Behavior<Worker.Command> child =
        Behaviors.supervise(
                Worker.create(name, reports, blocking, clock, settings.stopTimeout()))
            .onFailure(
                RuntimeException.class,
                SupervisorStrategy.restartWithBackoff(
                    settings.minBackoff(), settings.maxBackoff(), settings.randomFactor()));
    ActorRef<Worker.Command> ref = getContext().spawn(child, name);
    getContext().watch(ref);
    Slot s = new Slot(name, ref);
    workers.put(name, s);
    return s;
  }
}
