package dev.slotted.orchestrator.cli;

import com.typesafe.config.Config;
import dev.slotted.orchestrator.app.ConfigLoader;
import dev.slotted.orchestrator.node.WorkerNode;
import dev.slotted.orchestrator.metrics.Metrics;
import java.io.File;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code slotted worker [-c FILE]}: runs a worker-only node (no store, no job API) that joins the
 * orchestrators' Pekko Cluster and runs the jobs routed to it by its tags and queues.
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
    description = "Start a worker-only node: joins the cluster at pekko.cluster.seed-nodes with role worker and runs the jobs its tags and queues cover. Health and metrics on 127.0.0.1:8558.")
public final class WorkerCommand implements Callable<Integer> {

  @Option(names = {"-c", "--config"}, paramLabel = "FILE",
      description = "Configuration file (HOCON). Default: conf/application.conf of the installation, if present.")
  File config;

  @Override
  public Integer call() throws Exception {
    Config conf = ConfigLoader.load(config);
    // Before any Pekko class loads: Kamon's agent instruments actor classes as they load.
    Metrics metrics = Metrics.init(conf);
    return WorkerNode.run(conf, metrics);
  }
}
