package dev.slotted.orchestrator.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.slotted.orchestrator.app.ClusterConfig;
import dev.slotted.orchestrator.app.Readiness;
import dev.slotted.orchestrator.config.Settings;
import dev.slotted.orchestrator.metrics.Metrics;
import dev.slotted.protocol.WorkerProtocol;
import dev.slotted.worker.handler.HandlerRegistry;
import dev.slotted.worker.process.OrphanReaper;
import dev.slotted.worker.process.PidRegistry;
import dev.slotted.worker.supervise.WorkerMetrics;
import dev.slotted.worker.supervise.WorkerSettings;
import dev.slotted.worker.supervise.WorkerSupervisor;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code slotted worker}: a worker-only node. No store and no job API: a WorkerSupervisor (behind
 * its {@link NodeGateway}) with the node's capacity, tags and queue handlers, in a Pekko Cluster
 * joined at {@code pekko.cluster.seed-nodes} with role {@code worker}, and Pekko Management (health:
 * {@code /alive}, {@code /ready} once the node is Up in the cluster; cluster membership routes;
 * {@code /metrics}). SIGTERM drains the workers for {@code slotted.shutdown.grace} (their
 * completions still reach an orchestrator), then leaves the cluster.
 */
public final class WorkerNode {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerNode.class);

  private final ActorSystem<WorkerProtocol.Command> system;

  private WorkerNode(ActorSystem<WorkerProtocol.Command> system) {
    this.system = system;
  }

  /** Starts and blocks until the node stops. */
  public static int run(Config config, Metrics metrics) {
    WorkerNode node = start(config, metrics);
    node.system.getWhenTerminated().toCompletableFuture().join();
    return 0;
  }

  public static WorkerNode start(Config config, Metrics metrics) {
    Settings settings = Settings.fromConfig(config);
    WorkerSettings workerSettings = WorkerSettings.fromConfig(config);
    PidRegistry pids = PidRegistry.open(Path.of(config.getString("slotted.workers.pid-dir")));
    HandlerRegistry handlers = HandlerRegistry.fromConfig(config, pids);
    Config systemConfig = ConfigFactory.parseString(
            "pekko.coordinated-shutdown.phases.service-requests-done.timeout = "
                + (settings.shutdownGrace().toMillis() + 20_000) + "ms\n"
                + "pekko.management.http.routes.slotted-metrics = \"" + MetricsRoute.class.getName() + "\"")
        .withFallback(ClusterConfig.worker(config));
    try {
      OrphanReaper.reap(pids, Duration.ofSeconds(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    MetricsRoute.serve(metrics);
    WorkerMetrics.Counting restarts = WorkerMetrics.counting();
    metrics.registerCounterSource(Metrics.WORKER_RESTARTS, restarts::restarts);
    metrics.declareQueues(settings.queues().keySet());
    WorkerProtocol.Advert advert = new WorkerProtocol.Advert(
        settings.nodeId(), Set.copyOf(settings.workerTags()), settings.queues().keySet());
    Clock clock = Clock.systemUTC();
    Behavior<WorkerProtocol.Command> gateway = NodeGateway.create(
        self -> WorkerSupervisor.create(workerSettings, handlers, clock, restarts, advert, self));
    // The gateway is the guardian: the system's reference is the node's entry point.
    ActorSystem<WorkerProtocol.Command> system = ActorSystem.create(Behaviors.supervise(gateway)
            .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2)),
        "slotted", systemConfig);
    try {
      Readiness.Flags readiness = Readiness.flags(system.classicSystem());
      readiness.storeReady(); // a worker node has no store
      org.apache.pekko.cluster.Cluster.get(system.classicSystem()).registerOnMemberUp(readiness::clockRunning);
      PekkoManagement.get(system.classicSystem()).start().toCompletableFuture().join();
      CoordinatedShutdown cs = CoordinatedShutdown.get(system.classicSystem());
      cs.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "worker-drain", () -> {
        readiness.stopping();
        // Interrupted attempts' leases are not released (no store here): they expire.
        return AskPattern.<WorkerProtocol.Command, WorkerProtocol.Drained>ask(system,
                r -> new WorkerProtocol.Drain(settings.shutdownGrace(), r),
                settings.shutdownGrace().plusSeconds(10), system.scheduler())
            .handle((d, err) -> Done.getInstance());
      });
      cs.addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "metrics-close", () -> {
        metrics.close();
        return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
      });
    } catch (RuntimeException e) {
      LOG.error("Start failed: {}", e.toString());
      system.terminate();
      throw e;
    }
    LOG.info("Slotted worker node [{}] at [{}]: capacity [{}], tags {}, queues {}; joining {}", settings.nodeId(),
        system.address(), workerSettings.capacity(), advert.tags(), advert.queues(),
        config.getStringList(ClusterConfig.SEEDS));
    return new WorkerNode(system);
  }

  public ActorSystem<WorkerProtocol.Command> system() {
    return system;
  }
}
