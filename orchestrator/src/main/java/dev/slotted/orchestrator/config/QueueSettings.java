package dev.slotted.orchestrator.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValueType;
import dev.slotted.protocol.Delivery;
import dev.slotted.protocol.NewJob;
import dev.slotted.protocol.RetryPolicy;
import java.time.Duration;

/**
 * One queue from {@code slotted.queues.<name>}, with {@code slotted.queue-defaults} applied.
 *
 * @param handler the handler config (a string like "noop", or an object with a "type"), read by the
 *     worker module
 * @param concurrency most attempts of this queue at once on one runner; 0 = no limit of its own
 */
public record QueueSettings(
    String name,
    Config handler,
    String handlerType,
    int concurrency,
    int maxAttempts,
    RetryPolicy retry,
    Duration visibilityTimeout,
    Duration timeout,
    Delivery delivery) {

  static QueueSettings fromConfig(String name, Config queue, Config defaults) {
    String path = "slotted.queues." + name;
    if (!NewJob.QUEUE_NAME.matcher(name).matches()) {
      throw new ConfigError(path, name, "a queue name must match [a-z0-9][a-z0-9._-]{0,63}");
    }
    Config c = queue.withFallback(defaults);
    if (!c.hasPath("handler")) {
      throw new ConfigError(path + ".handler", "(missing)", "every queue needs a handler, e.g. handler = noop");
    }
    String handlerType;
    Config handler;
    if (c.getValue("handler").valueType() == ConfigValueType.STRING) {
      handlerType = c.getString("handler");
      handler = com.typesafe.config.ConfigFactory.parseMap(java.util.Map.of("type", handlerType));
    } else if (c.getValue("handler").valueType() == ConfigValueType.OBJECT) {
      handler = c.getConfig("handler");
      if (!handler.hasPath("type")) {
        throw new ConfigError(path + ".handler.type", "(missing)", "expected shell, http, java, noop or sleep");
      }
      handlerType = handler.getString("type");
    } else {
      throw new ConfigError(path + ".handler", c.getValue("handler").render(), "expected a handler name or object");
    }
    int concurrency = Settings.intIn(c, "concurrency", path, 0, 1_000_000);
    int maxAttempts = Settings.intIn(c, "max-attempts", path, 1, NewJob.MAX_ATTEMPTS);
    RetryPolicy retry = retryFrom(c.getConfig("retry"), path + ".retry");
    Duration vt = Settings.positive(c, "visibility-timeout", path);
    Duration timeout = Settings.positive(c, "timeout", path);
    if (timeout.compareTo(NewJob.MAX_TIMEOUT) > 0 || timeout.getNano() % 1_000_000 != 0) {
      // The queue's timeout fills every job that gives none, so it must pass the job's own rule.
      throw new ConfigError(path + ".timeout", c.getValue("timeout").unwrapped(),
          "must be whole milliseconds, at most " + NewJob.MAX_TIMEOUT.toDays() + " days");
    }
    Delivery delivery;
    try {
      delivery = Delivery.parse(c.getString("delivery"));
    } catch (IllegalArgumentException e) {
      throw new ConfigError(path + ".delivery", c.getString("delivery"), e.getMessage());
    }
    return new QueueSettings(name, handler, handlerType, concurrency, maxAttempts, retry, vt, timeout, delivery);
  }

  /** Reads a retry block ({@code policy = exponential|fixed|immediate} and its fields). */
  public static RetryPolicy retryFrom(Config r, String path) {
    String policy = r.hasPath("policy") ? r.getString("policy") : "exponential";
    try {
      return switch (policy) {
        case "exponential" -> new RetryPolicy.Exponential(
            r.hasPath("initial") ? r.getDuration("initial") : Duration.ofSeconds(1),
            r.hasPath("multiplier") ? r.getDouble("multiplier") : 2.0,
            r.hasPath("max") ? r.getDuration("max") : Duration.ofHours(1),
            jitter(r.hasPath("jitter") ? r.getString("jitter") : "full", path));
        case "fixed" -> new RetryPolicy.Fixed(r.getDuration("delay"));
        case "immediate" -> new RetryPolicy.Immediate();
        default -> throw new ConfigError(path + ".policy", policy, "expected exponential, fixed or immediate");
      };
    } catch (ConfigException e) {
      throw new ConfigError("invalid setting under " + path + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new ConfigError(path, r.root().render(com.typesafe.config.ConfigRenderOptions.concise()), e.getMessage());
    }
  }

  private static RetryPolicy.Jitter jitter(String s, String path) {
    return switch (s) {
      case "full" -> RetryPolicy.Jitter.FULL;
      case "none" -> RetryPolicy.Jitter.NONE;
      default -> throw new ConfigError(path + ".jitter", s, "expected full or none");
    };
  }
}
