package dev.slotted.orchestrator.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.slotted.orchestrator.app.Readiness;
import dev.slotted.orchestrator.clock.ClockSettings;
import dev.slotted.orchestrator.clock.Membership;
import dev.slotted.orchestrator.clock.SlotClock;
import dev.slotted.orchestrator.config.Settings;
import dev.slotted.orchestrator.metrics.Metrics;
import dev.slotted.orchestrator.reconcile.Reconciler;
import dev.slotted.orchestrator.reconcile.ReconcilerSettings;
import dev.slotted.orchestrator.schedule.Schedules;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.Lease;
import dev.slotted.protocol.WorkerProtocol;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The runner's guardian: spawns the WorkerSupervisor, the SlotClock, one Reconciler per partition,
 * the LeaseKeeper, the DuePoller and the ScheduleFirer, and routes the clock's windows to them with the partition
 * ownership of the cycle. It holds no business logic beyond that routing and the shutdown sequence.
 */
public final class RunnerGuardian extends AbstractBehavior<RunnerGuardian.Command> {

  /** What the guardian accepts. */
  public sealed interface Command {}

  /** Jobs were submitted through this runner into these partitions: wake their Reconcilers. */
  public record Submitted(Set<Integer> partitions) implements Command {
    public Submitted {
      partitions = Set.copyOf(partitions);
    }
  }

  /** G8: stop claiming, drain the workers for the grace, release the rest, flush, deregister. */
  public record Shutdown(ActorRef<Done> replyTo) implements Command {}

  /** Asks for the SlotClock's status. */
  public record GetClockStatus(ActorRef<SlotClock.Status> replyTo) implements Command {}

  private record ClockEvent(SlotClock.Event event) implements Command {}

  /**
   * Per-cycle duties (lease renewal, heartbeat, reaping) while the window never closes (a lone
   * runner, or continuous mode): the clock announces such a window once, so the guardian repeats it.
   */
  private enum CycleTick implements Command {
    INSTANCE
  }

  private record ShutdownStep(String step, ActorRef<Done> replyTo, List<WorkerProtocol.RunningJob> interrupted)
      implements Command {}

  /**
   * Everything the runtime needs, built by the app (or a test).
   *
   * @param schedules this process's schedules, fired by a {@link ScheduleFirer}; null: none
   */
  public record Deps(
      Settings settings,
      JobStore store,
      Behavior<WorkerProtocol.Command> workerSupervisor,
      Clock clock,
      Metrics metrics,
      String runnerId,
      Membership.Assignment initial,
      Readiness.Flags readiness,
      Schedules schedules) {

    /** Without schedules. */
    public Deps(Settings settings, JobStore store, Behavior<WorkerProtocol.Command> workerSupervisor, Clock clock,
        Metrics metrics, String runnerId, Membership.Assignment initial, Readiness.Flags readiness) {
      this(settings, store, workerSupervisor, clock, metrics, runnerId, initial, readiness, null);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Deps deps;
  private final ActorRef<WorkerProtocol.Command> workers;
  private final ActorRef<SlotClock.Command> slotClock;
  private final List<ActorRef<Reconciler.Command>> reconcilers = new ArrayList<>();
  private final ActorRef<LeaseKeeper.Command> leaseKeeper;
  /** Null when the runner has no schedules. */
  private final ActorRef<ScheduleFirer.Command> scheduleFirer;
  private final ActorSystem<?> system;
  private final ActorRef<Housekeeper.Command> housekeeper;
  private final ActorRef<DuePoller.Command> duePoller;
  private final SlotGate gate;
  private final int partitionCount;
  private Membership.Assignment assignment;
  private boolean stopping;

  public static Behavior<Command> create(Deps deps) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new RunnerGuardian(ctx, timers, deps)));
  }

  private final org.apache.pekko.actor.typed.javadsl.TimerScheduler<Command> timers;

  private RunnerGuardian(ActorContext<Command> ctx, org.apache.pekko.actor.typed.javadsl.TimerScheduler<Command> timers, Deps deps) {
    super(ctx);
    this.timers = timers;
    this.deps = deps;
    this.assignment = deps.initial();
    this.system = ctx.getSystem();
    // Every write of this process, from any caller (Reconcilers, API submits, the lease keeper),
    // starts only inside this runner's window.
    // No write starts in the last guard of the window: a transaction begun there (a claim of
    // hundreds of jobs, or the WAL checkpoint a commit may run) still ends before the next
    // runner's window, which opens a guard after the end of this slot.
    this.gate = new SlotGate(deps.clock(), deps.settings().tdma().guard().isZero()
        ? Duration.ofMillis(2) : deps.settings().tdma().guard());
    deps.store().gateWrites(gate);
    Settings s = deps.settings();
    this.workers = ctx.spawn(deps.workerSupervisor(), "worker-supervisor");
    ClockSettings clockSettings = new ClockSettings(s.tdma().enabled(), s.tdma().cycle(), s.tdma().guard());
    SlotClock.Listener listener = new SlotClock.Listener() {
      @Override
      public void slotWork(long cycle, Duration work) {
        deps.metrics().slotWork(work);
      }

      @Override
      public void overrun(long cycle) {
        deps.metrics().slotOverrun();
      }
    };
    ActorRef<SlotClock.Event> clockEvents = ctx.messageAdapter(SlotClock.Event.class, ClockEvent::new);
    this.slotClock = ctx.spawn(
        SlotClock.create(deps.clock(), clockSettings, assignment, List.of(clockEvents), listener), "slot-clock");
    ReconcilerSettings rs = ReconcilerSettings.from(s, deps.runnerId());
    int partitions = deps.store().partitions();
    this.partitionCount = partitions;
    ActorRef<SlotClock.Command> clockRef = slotClock; // the lambdas below run on other actors' threads
    for (int p = 0; p < partitions; p++) {
      Reconciler.SlotWork work = (cycle, d, endedAt) -> clockRef.tell(new SlotClock.SlotWorkDone(cycle, d, endedAt));
      reconcilers.add(ctx.spawn(
          Reconciler.create(p, deps.store(), workers, rs, deps.clock(), deps.metrics(), work), "reconciler-" + p));
    }
    this.leaseKeeper = ctx.spawn(LeaseKeeper.create(deps.store(), workers, deps.runnerId(), rs.lease(),
        s.tdma().runnerTtl(), s.tdma().dynamicMembership(), assignment, deps.clock(), this::statusJson,
        (index, count) -> clockRef.tell(new SlotClock.SetMembership(index, count))), "lease-keeper");
    this.housekeeper = ctx.spawn(Housekeeper.create(deps.store(), s, deps.runnerId(), deps.metrics(), deps.clock(), Duration.ofSeconds(5)),
        "housekeeper");
    if (deps.schedules() != null) {
      ActorRef<Command> self = ctx.getSelf();
      this.scheduleFirer = ctx.spawn(ScheduleFirer.create(deps.schedules(), deps.store(), deps.clock(), deps.metrics(),
          partitionsWithJobs -> self.tell(new Submitted(partitionsWithJobs)), assignment), "schedule-firer");
    } else {
      this.scheduleFirer = null;
    }
    this.duePoller = ctx.spawn(
        DuePoller.create(deps.store(), List.copyOf(reconcilers), s.tdma().pollInterval(), deps.clock()), "due-poller");
    deps.readiness().clockRunning();
    ctx.getLog().info("Runner [{}] started: index [{}] of [{}], {} partitions, {} mode",
        deps.runnerId(), assignment.index(), assignment.count(), partitions, s.tdma().enabled() ? "tdma" : "continuous");
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(ClockEvent.class, this::onClockEvent)
        .onMessageEquals(CycleTick.INSTANCE, this::onCycleTick)
        .onMessage(Submitted.class, this::onSubmitted)
        .onMessage(GetClockStatus.class, this::onGetClockStatus)
        .onMessage(Shutdown.class, this::onShutdown)
        .onMessage(ShutdownStep.class, this::onShutdownStep)
        .onSignal(org.apache.pekko.actor.typed.PostStop.class, sig -> {
          gate.release();
          return this;
        })
        .build();
  }

  private Behavior<Command> onClockEvent(ClockEvent e) {
    SlotClock.Event event = e.event();
    if (event instanceof SlotClock.WindowOpened w) {
      gate.opened(w.closesAt());
      openWindow(w.cycle(), w.closesAt());
      if (w.endless()) {
        timers.startTimerWithFixedDelay(CycleTick.INSTANCE, deps.settings().tdma().cycle());
      } else {
        timers.cancel(CycleTick.INSTANCE);
      }
    } else if (event instanceof SlotClock.WindowClosed) {
      timers.cancel(CycleTick.INSTANCE);
      gate.closed();
      reconcilers.forEach(r -> r.tell(Reconciler.WindowClosed.INSTANCE));
      if (scheduleFirer != null) {
        scheduleFirer.tell(ScheduleFirer.WindowClosed.INSTANCE);
      }
    } else if (event instanceof SlotClock.MembershipApplied m) {
      assignment = new Membership.Assignment(m.index(), m.count());
      if (scheduleFirer != null) {
        scheduleFirer.tell(new ScheduleFirer.AssignmentChanged(assignment));
      }
      getContext().getLog().info("Cycle [{}]: now runner [{}] of [{}], owning partitions {}",
          m.cycle(), m.index(), m.count(), assignment.ownedPartitions(reconcilers.size()));
    }
    return this;
  }

  private void openWindow(long cycle, java.time.Instant closesAt) {
    for (int p = 0; p < reconcilers.size(); p++) {
      reconcilers.get(p).tell(new Reconciler.WindowOpened(cycle, closesAt, assignment.owns(p)));
    }
    leaseKeeper.tell(new LeaseKeeper.WindowOpened(cycle));
    if (scheduleFirer != null && !stopping) {
      scheduleFirer.tell(new ScheduleFirer.WindowOpened(cycle, closesAt, assignment));
    }
  }

  private Behavior<Command> onCycleTick() {
    long cycleMs = deps.settings().tdma().cycle().toMillis();
    openWindow(Math.floorDiv(deps.clock().millis(), cycleMs), java.time.Instant.MAX);
    return this;
  }

  private Behavior<Command> onSubmitted(Submitted s) {
    for (int p : s.partitions()) {
      if (p >= 0 && p < reconcilers.size()) {
        reconcilers.get(p).tell(Reconciler.Wake.INSTANCE);
      }
    }
    return this;
  }

  private Behavior<Command> onGetClockStatus(GetClockStatus g) {
    slotClock.tell(new SlotClock.GetStatus(g.replyTo()));
    return this;
  }

  /**
   * The JSON this runner publishes in its row: the slot-table figures of GET /api/v1/runners. Called
   * from the LeaseKeeper, so it touches only immutable fields, never this actor's context.
   */
  private CompletionStage<String> statusJson() {
    return AskPattern.<SlotClock.Command, SlotClock.Status>ask(slotClock, SlotClock.GetStatus::new,
            Duration.ofSeconds(2), system.scheduler())
        .thenApply(st -> {
          ObjectNode n = JSON.createObjectNode();
          n.put("index", st.index());
          n.put("count", st.count());
          n.put("cycleMs", st.cycleMs());
          n.put("windowStartMs", st.windowStartMs());
          n.put("windowEndMs", st.windowEndMs());
          n.put("tdma", st.tdma());
          n.put("lastSlotWorkMs", st.lastSlotWorkMs());
          n.put("overruns", st.overruns());
          var parts = n.putArray("partitions");
          new Membership.Assignment(st.index(), st.count()).ownedPartitions(partitionCount).forEach(parts::add);
          n.put("busyRetries", deps.store().busyRetries());
          n.put("leaseRejections", deps.store().leaseRejections());
          return n.toString();
        });
  }

  // ---- G8 graceful shutdown ------------------------------------------------------------------

  private Behavior<Command> onShutdown(Shutdown s) {
    deps.readiness().stopping();
    // Nothing polls or purges from now on (the store closes at the end of the shutdown).
    getContext().stop(duePoller);
    getContext().stop(housekeeper);
    // No more fires: a fire time not fired now is fired by another runner, or after the restart.
    stopping = true;
    if (scheduleFirer != null) {
      scheduleFirer.tell(ScheduleFirer.WindowClosed.INSTANCE);
    }
    getContext().getLog().info("Shutting down: no more claims; running attempts get [{}] to finish",
        deps.settings().shutdownGrace());
    getContext().pipeToSelf(flushAll(), (d, err) -> new ShutdownStep("drain", s.replyTo(), List.of()));
    return this;
  }

  private Behavior<Command> onShutdownStep(ShutdownStep step) {
    switch (step.step()) {
      case "drain" -> {
        CompletionStage<WorkerProtocol.Drained> drained = AskPattern.ask(workers,
            r -> new WorkerProtocol.Drain(deps.settings().shutdownGrace(), r),
            deps.settings().shutdownGrace().plusSeconds(10), getContext().getSystem().scheduler());
        getContext().pipeToSelf(drained, (d, err) ->
            new ShutdownStep("release", step.replyTo(), d == null ? List.of() : d.interrupted()));
      }
      case "release" -> {
        List<Lease> leases = step.interrupted().stream().map(j -> new Lease(j.jobId(), j.leaseToken())).toList();
        if (!leases.isEmpty()) {
          getContext().getLog().info("Releasing [{}] leases of attempts stopped at shutdown", leases.size());
        }
        CompletionStage<Integer> released = leases.isEmpty()
            ? CompletableFuture.completedFuture(0)
            : deps.store().release(leases, "runner shutting down", deps.clock().instant());
        CompletionStage<Done> rest = released
            .exceptionally(err -> 0)
            .thenCompose(n -> flushAll())
            .thenCompose(d -> deps.store().deregister(deps.runnerId()))
            .handle((v, err) -> Done.getInstance());
        getContext().pipeToSelf(rest, (d, err) -> new ShutdownStep("done", step.replyTo(), List.of()));
      }
      default -> {
        gate.release();
        getContext().getLog().info("Runner [{}] stopped cleanly", deps.runnerId());
        step.replyTo().tell(Done.getInstance());
      }
    }
    return this;
  }

  private CompletionStage<Done> flushAll() {
    List<CompletableFuture<Reconciler.Flushed>> all = new ArrayList<>();
    for (ActorRef<Reconciler.Command> r : reconcilers) {
      all.add(AskPattern.<Reconciler.Command, Reconciler.Flushed>ask(r, Reconciler.Flush::new,
          Duration.ofSeconds(10), system.scheduler()).toCompletableFuture());
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .handle((v, err) -> Done.getInstance());
  }
}
