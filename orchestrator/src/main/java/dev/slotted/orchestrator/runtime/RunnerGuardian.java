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
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The runner's guardian: spawns, supervised (restart with backoff) and watched, the
 * WorkerSupervisor, the SlotClock, the {@link WindowOwner}, one Reconciler per partition, the
 * LeaseKeeper, the Housekeeper, the DuePoller and the ScheduleFirer, and routes the clock's events
 * to them: the window to its one owner, the partition ownership of each cycle to the Reconcilers.
 * It holds no business logic beyond that routing and the shutdown sequence.
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

  /** G8: stop claiming, hand back the buffer, drain the workers for the grace, release the rest. */
  public record Shutdown(ActorRef<Done> replyTo) implements Command {}

  /** Asks for the SlotClock's status. */
  public record GetClockStatus(ActorRef<SlotClock.Status> replyTo) implements Command {}

  /** Asks for the store as this runner's API must use it: every write inside the window. */
  public record GetStore(ActorRef<JobStore> replyTo) implements Command {}

  private record ClockEvent(SlotClock.Event event) implements Command {}

  private record OwnershipAsked(Reconciler.WhoOwns ask) implements Command {}

  /**
   * Per-cycle duties (lease renewal, heartbeat, schedule passes) while the window never closes (a
   * lone runner, or continuous mode): the clock announces such a window once, so the guardian
   * repeats it.
   */
  private enum CycleTick implements Command {
    INSTANCE
  }

  private record ShutdownStep(String step, ActorRef<Done> replyTo, List<WorkerProtocol.RunningJob> jobs)
      implements Command {}

  /**
   * Everything the runtime needs, built by the app (or a test).
   *
   * @param store the store itself; the runtime wraps it so that its writes run in the window
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

  /** Restart with backoff for every child: a bug in one actor costs a pause, not the runner. */
  static final Duration MIN_BACKOFF = Duration.ofMillis(100);
  static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Deps deps;
  private final TimerScheduler<Command> timers;
  private final JobStore windowed;
  private final ActorRef<WorkerProtocol.Command> workers;
  private final ActorRef<SlotClock.Command> slotClock;
  private final ActorRef<WindowOwner.Command> owner;
  private final List<ActorRef<Reconciler.Command>> reconcilers = new ArrayList<>();
  private final ActorRef<LeaseKeeper.Command> leaseKeeper;
  /** Null when the runner has no schedules. */
  private final ActorRef<ScheduleFirer.Command> scheduleFirer;
  private final ActorSystem<?> system;
  private final ActorRef<Housekeeper.Command> housekeeper;
  private final ActorRef<DuePoller.Command> duePoller;
  private final int partitionCount;
  private Membership.Assignment assignment;
  private boolean stopping;

  public static Behavior<Command> create(Deps deps) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new RunnerGuardian(ctx, timers, deps)));
  }

  private RunnerGuardian(ActorContext<Command> ctx, TimerScheduler<Command> timers, Deps deps) {
    super(ctx);
    this.timers = timers;
    this.deps = deps;
    this.assignment = deps.initial();
    this.system = ctx.getSystem();
    Settings s = deps.settings();
    this.workers = supervised(deps.workerSupervisor(), "worker-supervisor");
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
    this.slotClock = supervised(
        SlotClock.create(deps.clock(), clockSettings, assignment, List.of(clockEvents), listener), "slot-clock");
    ReconcilerSettings rs = ReconcilerSettings.from(s, deps.runnerId());
    ActorRef<SlotClock.Command> clockRef = slotClock; // the lambda below runs on another actor's thread
    WindowOwner.SlotWork work = (cycle, d, endedAt) -> clockRef.tell(new SlotClock.SlotWorkDone(cycle, d, endedAt));
    this.owner = supervised(WindowOwner.create(deps.store(), workers, rs, s.tdma().cycle(), s.tdma().guard(),
        s.tdma().claimAhead(), deps.clock(), deps.metrics(), work), "window-owner");
    this.windowed = new WindowedStore(deps.store(), owner);
    int partitions = deps.store().partitions();
    this.partitionCount = partitions;
    ActorRef<Reconciler.WhoOwns> ownership = ctx.messageAdapter(Reconciler.WhoOwns.class, OwnershipAsked::new);
    for (int p = 0; p < partitions; p++) {
      reconcilers.add(supervised(
          Reconciler.create(p, windowed, owner, rs, deps.clock(), ownership), "reconciler-" + p));
    }
    this.leaseKeeper = supervised(LeaseKeeper.create(windowed, workers, deps.runnerId(), rs.lease(),
        s.tdma().runnerTtl(), s.tdma().dynamicMembership(), deps.clock(), this::statusJson, slotClock),
        "lease-keeper");
    if (s.tdma().dynamicMembership()) {
      supervised(MembershipKeeper.create(deps.store(), deps.runnerId(), s.tdma().cycle(), s.tdma().guard(),
          s.tdma().runnerTtl(), assignment, deps.clock(), slotClock), "membership-keeper");
    }
    this.housekeeper = supervised(
        Housekeeper.create(windowed, s, deps.runnerId(), deps.metrics(), deps.clock(), Duration.ofSeconds(5)),
        "housekeeper");
    if (deps.schedules() != null) {
      ActorRef<Command> self = ctx.getSelf();
      this.scheduleFirer = supervised(ScheduleFirer.create(deps.schedules(), windowed, deps.clock(), deps.metrics(),
          partitionsWithJobs -> self.tell(new Submitted(partitionsWithJobs)), assignment), "schedule-firer");
    } else {
      this.scheduleFirer = null;
    }
    this.duePoller = supervised(
        DuePoller.create(deps.store(), List.copyOf(reconcilers), s.tdma().pollInterval(), deps.clock()), "due-poller");
    deps.readiness().clockRunning();
    ctx.getLog().info("Runner [{}] started: index [{}] of [{}], {} partitions, {} mode",
        deps.runnerId(), assignment.index(), assignment.count(), partitions, s.tdma().enabled() ? "tdma" : "continuous");
  }

  /** Spawns a child that restarts with backoff when it fails, and is watched. */
  private <T> ActorRef<T> supervised(Behavior<T> behavior, String name) {
    ActorRef<T> ref = getContext().spawn(
        Behaviors.supervise(behavior).onFailure(SupervisorStrategy.restartWithBackoff(MIN_BACKOFF, MAX_BACKOFF, 0.2)),
        name);
    getContext().watch(ref);
    return ref;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(ClockEvent.class, this::onClockEvent)
        .onMessageEquals(CycleTick.INSTANCE, this::onCycleTick)
        .onMessage(Submitted.class, this::onSubmitted)
        .onMessage(GetClockStatus.class, this::onGetClockStatus)
        .onMessage(OwnershipAsked.class, o -> {
          o.ask().replyTo().tell(new Reconciler.Ownership(assignment.owns(o.ask().partition())));
          return this;
        })
        .onMessage(GetStore.class, g -> {
          g.replyTo().tell(windowed);
          return this;
        })
        .onMessage(Shutdown.class, this::onShutdown)
        .onMessage(ShutdownStep.class, this::onShutdownStep)
        .onSignal(Terminated.class, this::onTerminated)
        .build();
  }

  /** A child stopped for good (not by a restart): the runner can no longer do its work. */
  private Behavior<Command> onTerminated(Terminated t) {
    if (!stopping && !t.getRef().equals(duePoller) && !t.getRef().equals(housekeeper)) {
      getContext().getLog().error("Runtime actor [{}] stopped; the runner is no longer ready", t.getRef().path().name());
      deps.readiness().stopping();
    }
    return this;
  }

  private Behavior<Command> onClockEvent(ClockEvent e) {
    SlotClock.Event event = e.event();
    if (event instanceof SlotClock.WindowOpened w) {
      owner.tell(new WindowOwner.Opened(w.cycle(), w.closesAt()));
      cycleDuties(w.cycle(), w.closesAt());
      if (w.endless()) {
        timers.startTimerWithFixedDelay(CycleTick.INSTANCE, deps.settings().tdma().cycle());
      } else {
        timers.cancel(CycleTick.INSTANCE);
      }
    } else if (event instanceof SlotClock.WindowClosed) {
      timers.cancel(CycleTick.INSTANCE);
      owner.tell(WindowOwner.Closed.INSTANCE);
      if (scheduleFirer != null) {
        scheduleFirer.tell(ScheduleFirer.WindowClosed.INSTANCE);
      }
    } else if (event instanceof SlotClock.MembershipApplied m) {
      assignment = m.index() == Membership.NO_SLOT
          ? Membership.Assignment.none(m.count()) : new Membership.Assignment(m.index(), m.count());
      for (int p = 0; p < reconcilers.size(); p++) {
        reconcilers.get(p).tell(new Reconciler.Ownership(assignment.owns(p)));
      }
      if (scheduleFirer != null) {
        scheduleFirer.tell(new ScheduleFirer.AssignmentChanged(assignment));
      }
      getContext().getLog().info("Cycle [{}]: now runner [{}] of [{}], owning partitions {}",
          m.cycle(), m.index(), m.count(), assignment.ownedPartitions(reconcilers.size()));
    }
    return this;
  }

  /** What this runner does once per cycle, in its window: renew leases, heartbeat, fire schedules. */
  private void cycleDuties(long cycle, java.time.Instant closesAt) {
    leaseKeeper.tell(new LeaseKeeper.WindowOpened(cycle));
    if (scheduleFirer != null && !stopping) {
      scheduleFirer.tell(new ScheduleFirer.WindowOpened(cycle, closesAt, assignment));
    }
  }

  private Behavior<Command> onCycleTick() {
    long cycleMs = deps.settings().tdma().cycle().toMillis();
    cycleDuties(Math.floorDiv(deps.clock().millis(), cycleMs), java.time.Instant.MAX);
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
    CompletionStage<WindowOwner.Status> work = AskPattern.ask(owner, WindowOwner.GetStatus::new,
        Duration.ofSeconds(2), system.scheduler());
    return AskPattern.<SlotClock.Command, SlotClock.Status>ask(slotClock, SlotClock.GetStatus::new,
            Duration.ofSeconds(2), system.scheduler())
        .thenCombine(work, (st, w) -> {
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
          n.put("buffered", w.buffered());
          n.put("running", w.running());
          n.put("capacity", w.capacity());
          n.put("busyRetries", deps.store().busyRetries());
          n.put("leaseRejections", deps.store().leaseRejections());
          deps.store().clockOffset().ifPresent(o -> {
            n.put("clockOffsetMs", o.offsetMs());
            n.put("clockUncertaintyMs", o.uncertaintyMs());
          });
          return n.toString();
        });
  }

  // ---- G8 graceful shutdown ------------------------------------------------------------------

  private Behavior<Command> onShutdown(Shutdown s) {
    deps.readiness().stopping();
    stopping = true;
    // Nothing polls or purges from now on (the store closes at the end of the shutdown).
    getContext().stop(duePoller);
    getContext().stop(housekeeper);
    // No more claims and no more fires: a fire time not fired now is fired by another runner, or
    // after the restart.
    owner.tell(WindowOwner.StopClaiming.INSTANCE);
    if (scheduleFirer != null) {
      scheduleFirer.tell(ScheduleFirer.WindowClosed.INSTANCE);
    }
    getContext().getLog().info("Shutting down: no more claims; buffered jobs go back now, running attempts get [{}]"
        + " to finish", deps.settings().shutdownGrace());
    CompletionStage<WorkerProtocol.Running> buffer = AskPattern.ask(workers, WorkerProtocol.TakeBuffer::new,
        Duration.ofSeconds(10), system.scheduler());
    getContext().pipeToSelf(buffer, (b, err) ->
        new ShutdownStep("release-buffer", s.replyTo(), b == null ? List.of() : b.jobs()));
    return this;
  }

  private Behavior<Command> onShutdownStep(ShutdownStep step) {
    switch (step.step()) {
      case "release-buffer" -> {
        // Not started anywhere: another runner may start them at once.
        CompletionStage<Integer> released = release(step.jobs(), "buffered");
        getContext().pipeToSelf(released, (n, err) -> new ShutdownStep("drain", step.replyTo(), List.of()));
      }
      case "drain" -> {
        CompletionStage<WorkerProtocol.Drained> drained = AskPattern.ask(workers,
            r -> new WorkerProtocol.Drain(deps.settings().shutdownGrace(), r),
            deps.settings().shutdownGrace().plusSeconds(10), system.scheduler());
        getContext().pipeToSelf(drained, (d, err) ->
            new ShutdownStep("release", step.replyTo(), d == null ? List.of() : d.interrupted()));
      }
      case "release" -> {
        CompletionStage<Done> rest = release(step.jobs(), "stopped")
            .thenCompose(n -> AskPattern.<WindowOwner.Command, Done>ask(owner, WindowOwner.Flush::new,
                Duration.ofSeconds(10), system.scheduler()))
            .thenCompose(d -> windowed.deregister(deps.runnerId()))
            .handle((v, err) -> Done.getInstance());
        getContext().pipeToSelf(rest, (d, err) -> new ShutdownStep("done", step.replyTo(), List.of()));
      }
      default -> {
        owner.tell(WindowOwner.Release.INSTANCE);
        getContext().getLog().info("Runner [{}] stopped cleanly", deps.runnerId());
        step.replyTo().tell(Done.getInstance());
      }
    }
    return this;
  }

  /** Gives the leases of these jobs back (in the window); never fails the shutdown. */
  private CompletionStage<Integer> release(List<WorkerProtocol.RunningJob> jobs, String what) {
    if (jobs.isEmpty()) {
      return CompletableFuture.completedFuture(0);
    }
    getContext().getLog().info("Releasing the leases of [{}] {} jobs", jobs.size(), what);
    List<Lease> leases = jobs.stream().map(j -> new Lease(j.jobId(), j.leaseToken())).toList();
    return windowed.release(leases, "runner shutting down", deps.clock())
        .exceptionally(err -> {
          getContext().getSystem().log().warn("Releasing leases at shutdown failed: {}", err.toString());
          return 0;
        });
  }
}
