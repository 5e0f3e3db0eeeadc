package dev.slotted.orchestrator.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.slotted.orchestrator.config.ConfigError;
import java.util.List;

/**
 * The actor system's configuration for cluster mode: an orchestrator with {@code
 * slotted.cluster.enabled = true} joins with role {@code orchestrator}, a worker-only node ({@code
 * slotted worker}) with role {@code worker}; everything else is Pekko's own keys. Without cluster
 * mode, nothing remote starts, and Pekko Management's cluster routes and check are left out.
 */
public final class ClusterConfig {
  private ClusterConfig() {}

  public static final String ENABLED = "slotted.cluster.enabled";
  public static final String SEEDS = "pekko.cluster.seed-nodes";

  /** Whether an orchestrator with this configuration is a cluster member. */
  public static boolean enabled(Config config) {
    try {
      return config.getBoolean(ENABLED);
    } catch (com.typesafe.config.ConfigException e) {
      throw new ConfigError(ENABLED, String.valueOf(config.getValue(ENABLED).unwrapped()), "must be true or false");
    }
  }

  /** An orchestrator's: a cluster member with role orchestrator, or a local actor system. */
  public static Config orchestrator(Config config) {
    return enabled(config) ? member(config, "orchestrator") : local(config);
  }

  /** A worker-only node's: always a cluster member, with role worker; it needs seed nodes. */
  public static Config worker(Config config) {
    List<String> seeds = seeds(config);
    if (seeds.isEmpty()) {
      throw new ConfigError(SEEDS, "[]", "a worker node joins the orchestrators' cluster: list at least one of"
          + " them, e.g. [\"pekko://slotted@127.0.0.1:25520\"]");
    }
    return member(config, "worker");
  }

  private static List<String> seeds(Config config) {
    try {
      return config.getStringList(SEEDS);
    } catch (com.typesafe.config.ConfigException e) {
      throw new ConfigError(SEEDS, String.valueOf(config.getValue(SEEDS).unwrapped()),
          "must be a list of pekko://slotted@host:port addresses");
    }
  }

  private static Config member(Config config, String role) {
    for (String seed : seeds(config)) {
      if (!seed.startsWith("pekko://slotted@")) {
        throw new ConfigError(SEEDS, seed, "must be an address of the actor system named slotted:"
            + " pekko://slotted@host:port");
      }
    }
    return ConfigFactory.empty()
        .withValue("pekko.actor.provider", ConfigValueFactory.fromAnyRef("cluster"))
        .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(List.of(role)))
        .withFallback(config);
  }

  private static Config local(Config config) {
    return ConfigFactory.empty()
        .withValue("pekko.management.http.routes.cluster-management", ConfigValueFactory.fromAnyRef(""))
        .withValue("pekko.management.health-checks.readiness-checks.cluster-membership",
            ConfigValueFactory.fromAnyRef(""))
        .withFallback(config);
  }
}
