package dev.slotted.orchestrator.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The orchestrator's settings, read once from the {@code slotted} HOCON tree and validated at
 * start: an invalid value fails with a {@link ConfigError} naming the key and the value.
 */
public record Settings(
    String nodeId,
    String storeKind,
    int partitions,
    Tdma tdma,
    Http http,
    int workerCapacity,
    List<String> workerTags,
    Map<String, QueueSettings> queues,
    Retention retention,
    Duration shutdownGrace,
    int maxPayload,
    int maxBody,
    int maxCatchUp) {

  /** TDMA settings ({@code slotted.tdma}). */
  public record Tdma(
      boolean enabled,
      Duration cycle,
      Duration guard,
      boolean dynamicMembership,
      int runnerIndex,
      int runnerCount,
      Duration runnerTtl,
      Duration pollInterval,
      int maxClaimBatch,
      int claimAhead) {}

  /** HTTP API settings ({@code slotted.http}); an empty token means no authentication. */
  public record Http(String host, int port, String authToken) {}

  /** Retention of finished jobs ({@code slotted.retention}). */
  public record Retention(Duration succeeded, Duration dead, Duration interval) {}

  public static Settings fromConfig(Config root) {
    try {
      Config c = root.getConfig("slotted");
      String nodeId = c.getString("node-id").isBlank() ? defaultNodeId() : c.getString("node-id").trim();
      if (!nodeId.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
        throw new ConfigError("slotted.node-id", nodeId, "must match [A-Za-z0-9][A-Za-z0-9._-]{0,63}");
      }
      String storeKind = c.getString("store.kind");
      if (!storeKind.equals("sqlite") && !storeKind.equals("postgres")) {
        throw new ConfigError("slotted.store.kind", storeKind, "expected sqlite or postgres");
      }
      int partitions = intIn(c, "partitions", "slotted", 1, 4096);

      Config t = c.getConfig("tdma");
      String membership = t.getString("membership");
      if (!membership.equals("dynamic") && !membership.equals("static")) {
        throw new ConfigError("slotted.tdma.membership", membership, "expected dynamic or static");
      }
      int count = intIn(t, "runner-count", "slotted.tdma", 1, 1024);
      int index = intIn(t, "runner-index", "slotted.tdma", 0, 1023);
      if (index >= count) {
        throw new ConfigError("slotted.tdma.runner-index", index,
            "must be below slotted.tdma.runner-count (" + count + ")");
      }
      Duration cycle = positive(t, "cycle", "slotted.tdma");
      Duration guard = t.getDuration("guard");
      if (guard.isNegative() || guard.multipliedBy(2).compareTo(cycle) >= 0) {
        throw new ConfigError("slotted.tdma.guard", t.getValue("guard").unwrapped(),
            "must be >= 0 and less than half of slotted.tdma.cycle (" + cycle.toMillis() + "ms)");
      }
      Tdma tdma = new Tdma(
          t.getBoolean("enabled"), cycle, guard, membership.equals("dynamic"), index, count,
          positive(t, "runner-ttl", "slotted.tdma"), positive(t, "poll-interval", "slotted.tdma"),
          intIn(t, "max-claim-batch", "slotted.tdma", 1, 10_000),
          intIn(t, "claim-ahead", "slotted.tdma", 0, 1_000_000));

      Config h = c.getConfig("http");
      Http http = new Http(h.getString("host"), intIn(h, "port", "slotted.http", 0, 65535),
          h.getString("auth-token").trim());

      Config w = c.getConfig("workers");
      int capacity = intIn(w, "capacity", "slotted.workers", 0, 100_000);
      List<String> tags = w.getStringList("tags");

      Config defaults = c.getConfig("queue-defaults");
      Map<String, QueueSettings> queues = new TreeMap<>();
      for (String name : c.getObject("queues").keySet()) {
        queues.put(name, QueueSettings.fromConfig(name, c.getConfig("queues." + quote(name)), defaults));
      }

      Config r = c.getConfig("retention");
      Retention retention = new Retention(positive(r, "succeeded", "slotted.retention"),
          positive(r, "dead", "slotted.retention"), positive(r, "interval", "slotted.retention"));

      return new Settings(nodeId, storeKind, partitions, tdma, http, capacity, List.copyOf(tags),
          Collections.unmodifiableMap(new LinkedHashMap<>(queues)),
          retention, nonNegative(c, "shutdown.grace", "slotted"),
          intIn(c, "limits.max-payload", "slotted", 1, 64 * 1024 * 1024),
          intIn(c, "limits.max-body", "slotted", 1024, 1024 * 1024 * 1024),
          intIn(c, "schedules.max-catch-up", "slotted", 0, 10_000));
    } catch (ConfigException e) {
      // Missing keys, wrong types, unparseable durations: Typesafe's message names the key.
      throw new ConfigError("invalid configuration: " + e.getMessage(), e);
    }
  }

  /** A queue's settings, or null when no queue of that name is configured. */
  public QueueSettings queue(String name) {
    return queues.get(name);
  }

  static int intIn(Config c, String key, String prefix, int min, int max) {
    int v = c.getInt(key);
    if (v < min || v > max) {
      throw new ConfigError(prefix + "." + key, v, "must be between " + min + " and " + max);
    }
    return v;
  }

  static Duration positive(Config c, String key, String prefix) {
    Duration d = c.getDuration(key);
    if (d.isNegative() || d.isZero()) {
      throw new ConfigError(prefix + "." + key, c.getValue(key).unwrapped(), "must be a positive duration");
    }
    return d;
  }

  static Duration nonNegative(Config c, String key, String prefix) {
    Duration d = c.getDuration(key);
    if (d.isNegative()) {
      throw new ConfigError(prefix + "." + key, c.getValue(key).unwrapped(), "must not be negative");
    }
    return d;
  }

  private static String quote(String name) {
    return "\"" + name + "\"";
  }

  private static String defaultNodeId() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9._-]", "-");
    } catch (Exception e) {
      host = "runner";
    }
    if (host.isEmpty() || !Character.isLetterOrDigit(host.charAt(0))) {
      host = "runner" + host;
    }
    String pid = ManagementFactory.getRuntimeMXBean().getName().split("@")[0];
    String id = host + "-" + pid;
    return id.length() > 64 ? id.substring(id.length() - 64) : id;
  }
}
