package dev.slotted.worker.handler;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.slotted.protocol.NewJob;
import dev.slotted.worker.JobHandler;
import dev.slotted.worker.process.PidRegistry;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The handler of each queue, built once at start from {@code slotted.queues.<name>.handler} (DESIGN
 * §5) plus any handlers registered in code by an embedding application (those win over the
 * configuration). Invalid handler configuration fails here, naming the key.
 *
 * <pre>
 * slotted.queues {
 *   demo.handler = sleep
 *   reports.handler { type = shell, command = ["python3", "report.py"], kill-grace = 30s }
 * }
 * </pre>
 */
public final class HandlerRegistry {

  private final Map<String, JobHandler> handlers;

  private HandlerRegistry(Map<String, JobHandler> handlers) {
    this.handlers = Map.copyOf(handlers);
  }

  /** A registry of handlers given in code. */
  public static HandlerRegistry of(Map<String, ? extends JobHandler> handlers) {
    Map<String, JobHandler> m = new LinkedHashMap<>();
    handlers.forEach(
        (q, h) -> {
          checkQueueName(q, "queue");
          m.put(q, Objects.requireNonNull(h, "handler of queue " + q));
        });
    return new HandlerRegistry(m);
  }

  /** The handlers of every queue under {@code slotted.queues}. */
  public static HandlerRegistry fromConfig(Config root, PidRegistry pids) {
    return fromConfig(root, pids, Map.of());
  }

  /**
   * The handlers of every queue under {@code slotted.queues}; a queue in {@code inCode} takes that
   * handler and needs no {@code handler} key (it may even be absent from the configuration).
   */
  public static HandlerRegistry fromConfig(
      Config root, PidRegistry pids, Map<String, ? extends JobHandler> inCode) {
    Map<String, JobHandler> m = new LinkedHashMap<>();
    HandlerFactory factory = new HandlerFactory(root, pids, new LazyHttpClient());
    if (root.hasPath("slotted.queues")) {
      for (Map.Entry<String, ConfigValue> q : root.getObject("slotted.queues").entrySet()) {
        String name = q.getKey();
        String path = ConfigUtil.joinPath("slotted", "queues", name);
        checkQueueName(name, path);
        if (q.getValue().valueType() != ConfigValueType.OBJECT) {
          throw new ConfigException.WrongType(
              q.getValue().origin(), path, "OBJECT", q.getValue().valueType().name());
        }
        if (!inCode.containsKey(name)) {
          m.put(name, factory.build(name));
        }
      }
    }
    m.putAll(of(inCode).handlers);
    return new HandlerRegistry(m);
  }

  /** A copy with {@code handler} serving {@code queue} (replacing any configured one). */
  public HandlerRegistry with(String queue, JobHandler handler) {
    checkQueueName(queue, "queue");
    Map<String, JobHandler> m = new LinkedHashMap<>(handlers);
    m.put(queue, Objects.requireNonNull(handler, "handler"));
    return new HandlerRegistry(m);
  }

  /** The handler of {@code queue}, or null when this runner does not serve it. */
  public JobHandler handler(String queue) {
    return handlers.get(queue);
  }

  /** The queues this registry serves, sorted. */
  public Set<String> queues() {
    return new TreeSet<>(handlers.keySet());
  }

  private static void checkQueueName(String name, String path) {
    if (name == null || !NewJob.QUEUE_NAME.matcher(name).matches()) {
      throw new ConfigException.BadValue(
          path, "queue name '" + name + "' must match " + NewJob.QUEUE_NAME.pattern());
    }
  }

  /** One HttpClient for every http queue, built only when one exists. */
  static final class LazyHttpClient {
    private HttpClient client;

    synchronized HttpClient get() {
      if (client == null) {
        client =
            HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
      }
      return client;
    }
  }
}
