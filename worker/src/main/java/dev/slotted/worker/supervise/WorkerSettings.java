package dev.slotted.worker.supervise;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.pekko.actor.typed.DispatcherSelector;

/**
 * The WorkerSupervisor's settings, read once from {@code slotted.workers.*} and the queues'
 * {@code concurrency} and {@code timeout}.
 *
 * @param capacity most attempts running at once on this runner
 * @param logDir root of the per-attempt logs
 * @param logTailChars characters of a log kept as the attempt's tail
 * @param dispatcher where blocking handlers run
 * @param stopTimeout after a cancel, how long a handler may take to return before the worker
 *     interrupts and abandons it
 * @param queues per queue: concurrency limit and default attempt timeout
 * @param defaultTimeout the attempt timeout of queues not listed (null: none)
 */
public record WorkerSettings(
    int capacity,
    Path logDir,
    int logTailChars,
    Duration minBackoff,
    Duration maxBackoff,
    double randomFactor,
    DispatcherSelector dispatcher,
    Path pidDir,
    Duration stopTimeout,
    Map<String, QueueLimits> queues,
    Duration defaultTimeout) {

  public static final String DISPATCHER_PATH = "slotted.workers.dispatcher";

  /**
   * @param concurrency most attempts of this queue running at once on this runner; 0 = no limit
   * @param timeout the attempt timeout when the job sets none; null = none
   */
  public record QueueLimits(int concurrency, Duration timeout) {
    public QueueLimits {
      if (concurrency < 0) {
        throw new IllegalArgumentException("concurrency must be >= 0, got " + concurrency);
      }
    }
  }

  public WorkerSettings {
    Objects.requireNonNull(logDir, "logDir");
    Objects.requireNonNull(dispatcher, "dispatcher");
    Objects.requireNonNull(stopTimeout, "stopTimeout");
    queues = Map.copyOf(queues);
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity must be >= 0, got " + capacity);
    }
  }

  /** Settings for tests and embedding: the given capacity, everything else at its default. */
  public static WorkerSettings of(int capacity, Path logDir) {
    return new WorkerSettings(
        capacity,
        logDir,
        4000,
        Duration.ofMillis(200),
        Duration.ofSeconds(10),
        0.2,
        DispatcherSelector.blocking(),
        null,
        Duration.ofSeconds(30),
        Map.of(),
        null);
  }

  public WorkerSettings withQueue(String queue, int concurrency, Duration timeout) {
    Map<String, QueueLimits> q = new HashMap<>(queues);
    q.put(queue, new QueueLimits(concurrency, timeout));
    return new WorkerSettings(
        capacity, logDir, logTailChars, minBackoff, maxBackoff, randomFactor, dispatcher, pidDir,
        stopTimeout, q, defaultTimeout);
  }

  public WorkerSettings withRestartBackoff(Duration min, Duration max, double random) {
    return new WorkerSettings(
        capacity, logDir, logTailChars, min, max, random, dispatcher, pidDir, stopTimeout, queues,
        defaultTimeout);
  }

  public WorkerSettings withStopTimeout(Duration d) {
    return new WorkerSettings(
        capacity, logDir, logTailChars, minBackoff, maxBackoff, randomFactor, dispatcher, pidDir, d,
        queues, defaultTimeout);
  }

  public WorkerSettings withDispatcher(DispatcherSelector d) {
    return new WorkerSettings(
        capacity, logDir, logTailChars, minBackoff, maxBackoff, randomFactor, d, pidDir, stopTimeout,
        queues, defaultTimeout);
  }

  /** The concurrency limit of a queue (0 = none). */
  public int concurrency(String queue) {
    QueueLimits q = queues.get(queue);
    return q == null ? 0 : q.concurrency();
  }

  /** The attempt timeout of a queue when the job sets none (null = none). */
  public Duration timeout(String queue) {
    QueueLimits q = queues.get(queue);
    return q == null ? defaultTimeout : q.timeout();
  }

  /** Reads {@code slotted.workers.*}, {@code slotted.queue-defaults} and {@code slotted.queues}. */
  public static WorkerSettings fromConfig(Config root) {
    Config w = root.getConfig("slotted.workers");
    int capacity = w.getInt("capacity");
    if (capacity < 0) {
      throw new ConfigException.BadValue("slotted.workers.capacity", "must be >= 0, got " + capacity);
    }
    int tail = w.getInt("log-tail-chars");
    if (tail < 0) {
      throw new ConfigException.BadValue("slotted.workers.log-tail-chars", "must be >= 0, got " + tail);
    }
    Duration min = positive(w, "restart.min-backoff");
    Duration max = positive(w, "restart.max-backoff");
    if (max.compareTo(min) < 0) {
      throw new ConfigException.BadValue(
          "slotted.workers.restart.max-backoff", "must be >= min-backoff (" + min + "), got " + max);
    }
    double random = w.getDouble("restart.random-factor");
    if (random < 0 || random > 1) {
      throw new ConfigException.BadValue(
          "slotted.workers.restart.random-factor", "must be in [0, 1], got " + random);
    }
    Path pidDir = Path.of(w.getString("pid-dir"));
    Duration stop = positive(w, "stop-timeout");

    Duration defaultTimeout = timeoutAt(root, "slotted.queue-defaults.timeout", null);
    int defaultConcurrency = concurrencyAt(root, "slotted.queue-defaults.concurrency", 0);
    Map<String, QueueLimits> queues = new HashMap<>();
    if (root.hasPath("slotted.queues")) {
      for (Map.Entry<String, ConfigValue> e : root.getObject("slotted.queues").entrySet()) {
        String base = ConfigUtil.joinPath("slotted", "queues", e.getKey());
        queues.put(
            e.getKey(),
            new QueueLimits(
                concurrencyAt(root, base + ".concurrency", defaultConcurrency),
                timeoutAt(root, base + ".timeout", defaultTimeout)));
      }
    }
    return new WorkerSettings(
        capacity,
        Path.of(w.getString("log-dir")),
        tail,
        min,
        max,
        random,
        DispatcherSelector.fromConfig(DISPATCHER_PATH),
        pidDir,
        stop,
        queues,
        defaultTimeout);
  }

  private static Duration positive(Config w, String key) {
    Duration d = w.getDuration(key);
    if (d.isNegative() || d.isZero()) {
      throw new ConfigException.BadValue("slotted.workers." + key, "must be positive, got " + d);
    }
    return d;
  }

  private static int concurrencyAt(Config root, String path, int dflt) {
    if (!root.hasPath(path)) {
      return dflt;
    }
    int c = root.getInt(path);
    if (c < 0) {
      throw new ConfigException.BadValue(path, "must be >= 0 (0 = no limit), got " + c);
    }
    return c;
  }

  private static Duration timeoutAt(Config root, String path, Duration dflt) {
    if (!root.hasPath(path)) {
      return dflt;
    }
    Duration d = root.getDuration(path);
    if (d.isNegative() || d.isZero()) {
      throw new ConfigException.BadValue(path, "must be positive, got " + d);
    }
    return d;
  }
}
