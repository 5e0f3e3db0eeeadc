package dev.slotted.orchestrator.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.slotted.orchestrator.clock.DbClock;
import dev.slotted.orchestrator.clock.Membership;
import dev.slotted.orchestrator.clock.SlotMath;
import dev.slotted.orchestrator.config.ConfigError;
import dev.slotted.orchestrator.config.Settings;
import dev.slotted.orchestrator.http.ApiContext;
import dev.slotted.orchestrator.http.HttpApi;
import dev.slotted.orchestrator.metrics.Metrics;
import dev.slotted.orchestrator.runtime.RunnerGuardian;
import dev.slotted.orchestrator.schedule.DeclaredSchedules;
import dev.slotted.orchestrator.schedule.ScheduleJournal;
import dev.slotted.orchestrator.schedule.ScheduleSettings;
import dev.slotted.orchestrator.schedule.ScheduleSpec;
import dev.slotted.orchestrator.schedule.ScheduleState;
import dev.slotted.orchestrator.schedule.Schedules;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.worker.handler.HandlerRegistry;
import dev.slotted.worker.process.OrphanReaper;
import dev.slotted.worker.process.PidRegistry;
import dev.slotted.worker.supervise.WorkerMetrics;
import dev.slotted.worker.supervise.WorkerSettings;
import dev.slotted.worker.supervise.WorkerSupervisor;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import dev.slotted.protocol.WorkerProtocol;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts one runner: the store (migrated), the actor runtime, the HTTP API and Pekko Management,
 * and registers the graceful shutdown (G8) with CoordinatedShutdown. {@link #serve} blocks until
 * the actor system terminates (SIGTERM, or {@code terminate()} in tests).
 */
public final class SlottedApp implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SlottedApp.class);

  private final ActorSystem<RootGuardian.Command> system;
  private final JobStore store;
  private final ServerBinding binding;
  private final String runnerId;

  private SlottedApp(ActorSystem<RootGuardian.Command> system, JobStore store, ServerBinding binding, String runnerId) {
    this.system = system;
    this.store = store;
    this.binding = binding;
    this.runnerId = runnerId;
  }

  /**
   * {@code slotted serve}: starts and blocks until the runner stops. {@code metrics} must have been
   * initialised before any Pekko class was loaded (Kamon instruments classes as they load).
   */
  public static int serve(Config config, Metrics metrics) {
    SlottedApp app = start(config, metrics);
    System.out.println("Slotted dashboard: " + app.dashboardUrl());
    System.out.flush();
    app.system.getWhenTerminated().toCompletableFuture().join();
    return 0;
  }

  /** Starts a runner and returns once it serves; the caller owns its lifetime. */
  public static SlottedApp start(Config config) {
    return start(config, Metrics.init(config));
  }

  /** As {@link #start(Config)}, with metrics already initialised. */
  public static SlottedApp start(Config config, Metrics metrics) {
    return start(config, metrics, Clock.systemUTC());
  }

  /**
   * As {@link #start(Config)}, on this host clock (a test skews it). With a PostgreSQL store the
   * runtime's clock is the database's ({@link DbClock}): the host clock plus the measured offset.
   */
  public static SlottedApp start(Config config, Clock hostClock) {
    return start(config, Metrics.init(config), hostClock);
  }

  private static SlottedApp start(Config config, Metrics metrics, Clock hostClock) {
    Settings settings = Settings.fromConfig(config);
    StoreFactory storeFactory = StoreFactory.fromConfig(config, settings.storeKind());
    WorkerSettings workerSettings = WorkerSettings.fromConfig(config);
    PidRegistry pids = PidRegistry.open(Path.of(config.getString("slotted.workers.pid-dir")));
    HandlerRegistry handlers = HandlerRegistry.fromConfig(config, pids);

    ScheduleSettings scheduleSettings = ScheduleSettings.fromConfig(config);
    List<ScheduleSpec> declared = declaredSchedules(config, settings, scheduleSettings);
    // The journal's tables exist before the ActorSystem (and its persistence plugin) starts.
    try {
      ScheduleJournal.ensureSchema(scheduleSettings);
    } catch (dev.slotted.orchestrator.store.StoreSettingsException e) {
      throw new dev.slotted.orchestrator.config.ConfigError("invalid setting " + e.key() + ": " + e.getMessage(), e);
    }

    metrics.declareQueues(settings.queues().keySet());
    long graceMs = settings.shutdownGrace().toMillis();
    Config systemConfig = ConfigFactory.parseString(
            "pekko.coordinated-shutdown.phases.service-requests-done.timeout = " + (graceMs + 20_000) + "ms")
        .withFallback(ClusterConfig.orchestrator(ScheduleJournal.configure(config)));
    ActorSystem<RootGuardian.Command> system = ActorSystem.create(RootGuardian.create(), "slotted", systemConfig);
    if (ClusterConfig.enabled(config) && config.getStringList(ClusterConfig.SEEDS).isEmpty()) {
      // No seed nodes: this orchestrator starts a cluster of its own (worker nodes list it).
      Cluster cluster = Cluster.get(system);
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
    Readiness.Flags readiness = Readiness.flags(system.classicSystem());
    JobStore store = null;
    Schedules schedules = null;
    try {
      PekkoManagement.get(system.classicSystem()).start().toCompletableFuture().join();
      Executor jdbc = system.dispatchers().lookup(DispatcherSelector.fromConfig("slotted.store.dispatcher"));
      store = storeFactory.open(jdbc, hostClock);
      readiness.storeReady();
      metrics.registerCounterSource(Metrics.STORE_BUSY_RETRIES, store::busyRetries);
      metrics.registerCounterSource(Metrics.LEASE_REJECTIONS, store::leaseRejections);

      reapOrphans(pids);

      // The one clock of the runtime: windows, leases, attempt times, schedules. On PostgreSQL the
      // database's time, so that runners on several hosts agree; on SQLite (one machine) the host's.
      Clock clock = DbClock.forStore(hostClock, store, settings.tdma().guard());
      schedules = Schedules.start(system, scheduleSettings, settings, clock);
      // Opens the journal and replays every schedule now rather than in the first pass of the
      // firer, which after an outage has the most to do.
      schedules.list().toCompletableFuture().join();
      applyDeclared(schedules, declared, clock);
      String runnerId = settings.nodeId() + "-" + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
      Membership.Assignment initial;
      if (settings.tdma().dynamicMembership()) {
        register(store, runnerId, settings.tdma(), clock);
        long cycleMs = settings.tdma().cycle().toMillis();
        // Admitted a few cycles after registering (every member switches at the same boundary).
        initial = Membership.forCycle(store.runners(clock.instant()).toCompletableFuture().join(), runnerId,
            Math.floorDiv(clock.millis(), cycleMs), cycleMs);
      } else {
        initial = Membership.fixed(settings.tdma().runnerIndex(), settings.tdma().runnerCount());
      }
      WorkerMetrics.Counting restarts = WorkerMetrics.counting();
      metrics.registerCounterSource(Metrics.WORKER_RESTARTS, restarts::restarts);
      Behavior<WorkerProtocol.Command> supervisor =
          WorkerSupervisor.create(workerSettings, handlers, clock, restarts,
              new WorkerProtocol.Advert(settings.nodeId(), Set.copyOf(settings.workerTags()), settings.queues().keySet()),
              null);
      RunnerGuardian.Deps deps = new RunnerGuardian.Deps(
          settings, store, supervisor, clock, metrics, runnerId, initial, readiness, schedules);
      ActorRef<RunnerGuardian.Command> runner = AskPattern.<RootGuardian.Command, ActorRef<RunnerGuardian.Command>>ask(
              system, r -> new RootGuardian.StartRunner(deps, r), Duration.ofSeconds(10), system.scheduler())
          .toCompletableFuture().join();

      JobStore s = store;
      Schedules sch = schedules;
      // The API's writes (submits, cancels, requeues) run in this runner's window like every other.
      JobStore windowed = AskPattern.<RunnerGuardian.Command, JobStore>ask(
              runner, RunnerGuardian.GetStore::new, Duration.ofSeconds(10), system.scheduler())
          .toCompletableFuture().join();
      ApiContext api = new ApiContext(windowed, settings, clock,
          partitions -> runner.tell(new RunnerGuardian.Submitted(partitions)),
          () -> RunnerViews.fromStore(s, clock),
          metrics::scrape, Path.of(config.getString("slotted.workers.log-dir")), schedules, metrics,
          () -> AskPattern.<RunnerGuardian.Command, dev.slotted.orchestrator.runtime.WorkerSet.Nodes>ask(
              runner, RunnerGuardian.GetWorkerNodes::new, Duration.ofSeconds(5), system.scheduler()));
      ServerBinding binding = HttpApi.start(system, api).toCompletableFuture().join();

      CoordinatedShutdown cs = CoordinatedShutdown.get(system.classicSystem());
      cs.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "http-unbind", () -> binding.unbind().thenApply(x -> Done.getInstance()));
      cs.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "runner-drain", () ->
          AskPattern.<RunnerGuardian.Command, Done>ask(runner, RunnerGuardian.Shutdown::new,
              settings.shutdownGrace().plusSeconds(15), system.scheduler()));
      cs.addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "store-close", () -> {
        s.close();
        sch.close();
        metrics.close();
        return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
      });
      LOG.info("Slotted runner [{}] serving on http://{}:{} (store {}, {} queues: {})", runnerId,
          binding.localAddress().getHostString(), binding.localAddress().getPort(), storeFactory.describe(),
          settings.queues().size(), settings.queues().keySet());
      return new SlottedApp(system, store, binding, runnerId);
    } catch (RuntimeException e) {
      LOG.error("Start failed: {}", e.toString());
      if (store != null) {
        store.close();
      }
      system.terminate();
      if (schedules != null) {
        schedules.close();
      }
      throw e;
    }
  }

  /**
   * The first heartbeat happens before this runner has a slot: it is written in the middle of a
   * gap between the members' windows ({@link SlotMath#joinAt}), where no member writes. Should it
   * still meet SQLITE_BUSY (a lone member has no gap), it keeps trying for a while.
   */
  private static void register(JobStore store, String runnerId, Settings.Tdma tdma, Clock clock) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    long cycleMs = tdma.cycle().toMillis();
    while (true) {
      try {
        long now = clock.millis();
        int members = Membership.forCycle(store.runners(clock.instant()).toCompletableFuture().join(), runnerId,
            Math.floorDiv(now, cycleMs), cycleMs).count();
        long at = SlotMath.joinAt(now + 5, cycleMs, members, tdma.guard().toMillis());
        Thread.sleep(Math.max(0, at - clock.millis()));
        store.heartbeat(runnerId, "{}", tdma.runnerTtl(), clock).toCompletableFuture().join();
        return;
      } catch (java.util.concurrent.CompletionException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        LOG.info("Registering runner [{}] failed ({}); trying again", runnerId, e.getCause().getMessage());
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while registering", ie);
      }
    }
  }

  /**
   * {@code slotted.schedules.declared}, checked before anything starts: a bad entry or a queue that
   * is not configured fails the start with the key and the value.
   */
  private static List<ScheduleSpec> declaredSchedules(Config config, Settings settings, ScheduleSettings ss) {
    List<ScheduleSpec> declared;
    try {
      declared = DeclaredSchedules.fromConfig(config, ss.maxPayloadBytes());
    } catch (IllegalArgumentException e) {
      throw new ConfigError(e.getMessage(), e);
    }
    for (int i = 0; i < declared.size(); i++) {
      String queue = declared.get(i).job().queue();
      if (settings.queue(queue) == null) {
        throw new ConfigError(DeclaredSchedules.KEY + "[" + i + "].job.queue", queue,
            "no such queue; known queues: " + (settings.queues().isEmpty() ? "(none configured)"
                : String.join(", ", settings.queues().keySet())));
      }
    }
    return declared;
  }

  /**
   * Creates or updates the declared schedules. The declared {@code paused} only applies when the
   * schedule is created: an operator's later pause or resume survives restarts.
   */
  private static void applyDeclared(Schedules schedules, List<ScheduleSpec> declared, Clock clock) {
    for (ScheduleSpec spec : declared) {
      Optional<ScheduleState> current = schedules.get(spec.name()).toCompletableFuture().join();
      ScheduleSpec wanted = current.map(c -> spec.withPaused(c.paused())).orElse(spec);
      schedules.upsert(wanted, clock.instant()).toCompletableFuture().join();
    }
    if (!declared.isEmpty()) {
      LOG.info("Declared schedules applied: {}", declared.stream().map(ScheduleSpec::name).toList());
    }
  }

  private static void reapOrphans(PidRegistry pids) {
    try {
      OrphanReaper.reap(pids, Duration.ofSeconds(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public int port() {
    return binding.localAddress().getPort();
  }

  /** Where the web dashboard is served ({@code GET /}); a wildcard bind address shows as localhost. */
  public String dashboardUrl() {
    String host = binding.localAddress().getHostString();
    if (host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0")) {
      host = "localhost";
    } else if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return "http://" + host + ":" + port() + "/";
  }

  public String runnerId() {
    return runnerId;
  }

  public JobStore store() {
    return store;
  }

  public ActorSystem<?> system() {
    return system;
  }

  /** Runs the graceful shutdown and waits for it. */
  @Override
  public void close() {
    CoordinatedShutdown.get(system.classicSystem()).runAll(CoordinatedShutdown.unknownReason())
        .toCompletableFuture().join();
  }
}
