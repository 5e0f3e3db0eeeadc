package dev.slotted.worker.supervise;

import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.WorkerProtocol;
import dev.slotted.protocol.WorkerProtocol.Dispatch;
import dev.slotted.protocol.WorkerProtocol.Drain;
import dev.slotted.protocol.WorkerProtocol.Drained;
import dev.slotted.protocol.WorkerProtocol.Finished;
import dev.slotted.protocol.WorkerProtocol.GetRunning;
import dev.slotted.protocol.WorkerProtocol.Reservation;
import dev.slotted.protocol.WorkerProtocol.Reserve;
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
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 *       of each limited queue. Reservations ({@link Reserve}) hand out free slots before a claim;
 *       the {@link Dispatch} that follows gives back the unused part. A dispatched job that cannot
 *       start yet (its queue is at its limit, or the orchestrator claimed beyond its reservation)
 *       waits here, holding its slot, and counts as running for lease renewal.
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

  private static final class QueueLimit {
    final int limit;
    int running;
    int waiting;
    int reserved;

    QueueLimit(int limit) {
      this.limit = limit;
    }

    int free() {
      return Math.max(0, limit - running - waiting - reserved);
    }
  }

  private record Waiting(ClaimedJob job, ActorRef<WorkerProtocol.Event> replyTo) {}

  private record Outstanding(int total, Map<String, Integer> perQueue) {}

  private final WorkerSettings settings;
  private final HandlerRegistry handlers;
  private final Clock clock;
  private final WorkerMetrics metrics;
  private final TimerScheduler<Object> timers;
  private final Executor blocking;
  private final ActorRef<Worker.Report> reports;

  private final Map<String, Slot> workers = new HashMap<>();
  private final ArrayDeque<Slot> idle = new ArrayDeque<>();
  private final Map<String, Attempt> active = new HashMap<>();
  private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
  private final Map<String, QueueLimit> limits = new HashMap<>();
  private final LinkedHashMap<Long, Outstanding> reservations = new LinkedHashMap<>();
  private int nextWorker = 1;
  private long nextReservation = 1;
  private int busy;
  private int down;
  private int reserved;

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
    return Behaviors.<Object>setup(
            ctx ->
                Behaviors.withTimers(
                    timers -> new WorkerSupervisor(ctx, timers, settings, handlers, clock, metrics)))
        .narrow();
  }

  private WorkerSupervisor(
      ActorContext<Object> ctx,
      TimerScheduler<Object> timers,
      WorkerSettings settings,
      HandlerRegistry handlers,
      Clock clock,
      WorkerMetrics metrics) {
    super(ctx);
    this.settings = settings;
    this.handlers = handlers;
    this.clock = clock;
    this.metrics = metrics;
    this.timers = timers;
    this.blocking = ctx.getSystem().dispatchers().lookup(settings.dispatcher());
    this.reports = ctx.getSelf().narrow();
    settings.queues().forEach(
        (q, l) -> {
          if (l.concurrency() > 0) {
            limits.put(q, new QueueLimit(l.concurrency()));
          }
        });
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Reserve.class, this::onReserve)
        .onMessage(Dispatch.class, this::onDispatch)
        .onMessage(Stop.class, this::onStop)
        .onMessage(GetRunning.class, this::onGetRunning)
        .onMessage(Drain.class, this::onDrain)
        .onMessage(Worker.Ended.class, this::onEnded)
        .onMessage(Worker.Crashed.class, this::onCrashed)
        .onMessage(Worker.Ready.class, this::onReady)
        .onMessageEquals(DrainGraceOver.INSTANCE, this::onDrainGraceOver)
        .onMessageEquals(DrainStopOver.INSTANCE, this::onDrainStopOver)
        .onSignal(Terminated.class, this::onTerminated)
        .build();
  }

  // ---- orchestrator protocol

  private Behavior<Object> onReserve(Reserve r) {
    int grant = phase == Phase.RUNNING ? Math.min(r.max(), free()) : 0;
    if (grant <= 0) {
      r.replyTo().tell(new Reservation(0, 0, Map.of()));
      return this;
    }
    Map<String, Integer> perQueue = new HashMap<>();
    for (Map.Entry<String, QueueLimit> e : limits.entrySet()) {
      int allot = Math.min(grant, e.getValue().free());
      e.getValue().reserved += allot;
      perQueue.put(e.getKey(), allot);
    }
    long id = nextReservation++;
    reservations.put(id, new Outstanding(grant, perQueue));
    reserved += grant;
    r.replyTo().tell(new Reservation(id, grant, perQueue));
    return this;
  }

  private Behavior<Object> onDispatch(Dispatch d) {
    release(d.reservationId(), d.reserved());
    Instant now = clock.instant();
    for (ClaimedJob job : d.jobs()) {
      switch (phase) {
        case RUNNING, DRAINING -> startOrWait(job, d.replyTo(), now);
        case STOPPING -> interrupted.add(new RunningJob(job.id(), job.leaseToken(), job.queue(), null, null));
        case DRAINED -> getContext().getLog().warn(
            "Job [{}] dispatched after the drain ended: not run, its lease will expire", job.id());
      }
    }
    checkDrain();
    return this;
  }

  private Behavior<Object> onStop(Stop s) {
    for (String id : s.jobIds()) {
      Attempt a = active.remove(id);
      if (a != null) {
        a.silent = true;
        a.cancellation().cancel(Cancellation.Reason.STOPPED);
        getContext().getLog().info("Stopping [{}]: {}", a, s.reason());
      }
    }
    for (Iterator<Waiting> it = waiting.iterator(); it.hasNext(); ) {
      Waiting w = it.next();
      if (s.jobIds().contains(w.job().id())) {
        it.remove();
        QueueLimit l = limits.get(w.job().queue());
        if (l != null) {
          l.waiting--;
        }
      }
    }
    startWaiting();
    checkDrain();
    return this;
  }

  private Behavior<Object> onGetRunning(GetRunning g) {
    List<RunningJob> jobs = new ArrayList<>(active.size() + waiting.size());
    for (Attempt a : active.values()) {
      jobs.add(a.running());
    }
    for (Waiting w : waiting) {
      jobs.add(new RunningJob(w.job().id(), w.job().leaseToken(), w.job().queue(), null, null));
    }
    g.replyTo().tell(new Running(jobs));
    return this;
  }

  private Behavior<Object> onDrain(Drain d) {
    switch (phase) {
      case RUNNING -> {
        phase = Phase.DRAINING;
        drainers.add(d.replyTo());
        getContext().getLog().info(
            "Draining: [{}] attempts running, [{}] waiting; grace [{}]", active.size(), waiting.size(), d.grace());
        timers.startSingleTimer(DrainGraceOver.INSTANCE, DrainGraceOver.INSTANCE, d.grace());
        checkDrain();
      }
      case DRAINING, STOPPING -> drainers.add(d.replyTo());
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
      down++;
    }
    startWaiting();
    checkDrain();
    return this;
  }

  private Behavior<Object> onReady(Worker.Ready r) {
    Slot s = workers.get(r.worker());
    if (s != null && s.down) {
      s.down = false;
      down--;
      idle.push(s);
      startWaiting();
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
      down--;
    }
    if (s.attempt != null) {
      Attempt a = s.attempt;
      free(s);
      finished(a, a.failure("worker " + s.name + " stopped", clock.instant()));
    }
    startWaiting();
    checkDrain();
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
      QueueLimit l = limits.get(w.job().queue());
      if (l != null) {
        l.waiting--;
      }
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
    if ((phase == Phase.DRAINING && active.isEmpty() && waiting.isEmpty() && reserved == 0)
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

  private int free() {
    return Math.max(0, settings.capacity() - busy - down - waiting.size() - reserved);
  }

  /**
   * Gives back the reservation a Dispatch was claimed under. {@code reserved} always equals the sum
   * of the outstanding reservations, so a Dispatch that matches none (the orchestrator dispatched
   * without reserving) gives back nothing; its jobs wait if no worker is free.
   */
  private void release(long id, int size) {
    Outstanding o = id != 0 ? reservations.remove(id) : null;
    if (o == null && id == 0 && size > 0) {
      // No id: give back the oldest reservation of that size.
      for (Iterator<Map.Entry<Long, Outstanding>> it = reservations.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<Long, Outstanding> e = it.next();
        if (e.getValue().total() == size) {
          o = e.getValue();
          it.remove();
          break;
        }
      }
    }
    if (o == null) {
      if (size > 0) {
        getContext().getLog().debug("Dispatch matches no outstanding reservation (id {}, size {})", id, size);
      }
      return;
    }
    reserved -= o.total();
    o.perQueue().forEach(
        (q, n) -> {
          QueueLimit l = limits.get(q);
          if (l != null) {
            l.reserved -= n;
          }
        });
  }

  private void startOrWait(ClaimedJob job, ActorRef<WorkerProtocol.Event> replyTo, Instant now) {
    QueueLimit l = limits.get(job.queue());
    if ((l != null && l.running >= l.limit) || (idle.isEmpty() && workers.size() >= settings.capacity())) {
      waiting.add(new Waiting(job, replyTo));
      if (l != null) {
        l.waiting++;
      }
      return;
    }
    start(job, replyTo, now);
  }

  private void start(ClaimedJob job, ActorRef<WorkerProtocol.Event> replyTo, Instant now) {
    Slot s = idle.isEmpty() ? spawnWorker() : idle.pop();
    JobHandler handler = handlers.handler(job.queue());
    Duration timeout = job.timeout() != null ? job.timeout() : settings.timeout(job.queue());
    JobContext ctx =
        new JobContext(
            job, settings.logDir(), settings.logTailChars(), timeout == null ? null : now.plus(timeout),
            new Cancellation());
    Attempt a = new Attempt(job, handler, ctx, replyTo, s.name, now, timeout);
    s.attempt = a;
    busy++;
    QueueLimit l = limits.get(job.queue());
    if (l != null) {
      l.running++;
    }
    Attempt previous = active.put(job.id(), a);
    if (previous != null) {
      // The same job again while an older attempt still runs: the older lease is gone.
      previous.silent = true;
      previous.cancellation().cancel(Cancellation.Reason.STOPPED);
    }
    replyTo.tell(new Started(job, s.name, now));
    s.ref.tell(new Worker.Run(a));
  }

  private void startWaiting() {
    if (waiting.isEmpty() || phase == Phase.STOPPING || phase == Phase.DRAINED) {
      return;
    }
    Instant now = clock.instant();
    for (Iterator<Waiting> it = waiting.iterator(); it.hasNext(); ) {
      if (idle.isEmpty() && workers.size() >= settings.capacity()) {
        return;
      }
      Waiting w = it.next();
      QueueLimit l = limits.get(w.job().queue());
      if (l != null && l.running >= l.limit) {
        continue;
      }
      it.remove();
      if (l != null) {
        l.waiting--;
      }
      start(w.job(), w.replyTo(), now);
    }
  }

  private void free(Slot s) {
    Attempt a = s.attempt;
    s.attempt = null;
    busy--;
    QueueLimit l = limits.get(a.job.queue());
    if (l != null) {
      l.running--;
    }
  }

  private void finished(Attempt a, dev.slotted.protocol.Completion c) {
    if (active.get(a.job.id()) == a) {
      active.remove(a.job.id());
    }
    stopping.remove(a);
    if (!a.silent) {
      a.replyTo.tell(new Finished(a.job, c, a.startedAt));
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
