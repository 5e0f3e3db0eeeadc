package dev.slotted.orchestrator.cli;

import com.typesafe.config.Config;
import dev.slotted.orchestrator.app.ConfigLoader;
import dev.slotted.orchestrator.app.SlottedApp;
import dev.slotted.orchestrator.metrics.Metrics;
import java.io.File;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code slotted serve [-c FILE]}: runs a runner (store, TDMA runtime, HTTP API, health). */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Start the service: SQLite store under data/, HTTP API on 127.0.0.1:8080, health on 127.0.0.1:8558.")
public final class ServeCommand implements Callable<Integer> {

  @Option(names = {"-c", "--config"}, paramLabel = "FILE",
      description = "Configuration file (HOCON). Default: conf/application.conf of the installation, if present.")
  File config;

  @Override
  public Integer call() throws Exception {
    Config conf = ConfigLoader.load(config);
    // Before any Pekko class loads: Kamon's agent instruments actor classes as they load.
    Metrics metrics = Metrics.init(conf);
    return SlottedApp.serve(conf, metrics);
  }
}
