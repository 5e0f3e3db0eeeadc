package dev.slotted.orchestrator.metrics;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import kamon.Kamon;
import kamon.metric.Counter;
import kamon.status.InstrumentationStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kamon is process-wide (one registry, one agent), so this is too: started once, shared by every
 * {@link KamonMetrics}. Also owns the counter sources, read and turned into counter increments
 * right before each scrape.
 */
final class KamonRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(KamonRuntime.class);

  /** The Kanela modules left on: only Pekko's actor instrumentation. */
  private static final Set<String> KANELA_MODULES_KEPT = Set.of("pekko");
  private static final Pattern COUNTER_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

  private static KamonRuntime instance;

  private final PrometheusScrape prometheus;
  private final boolean actorMetrics;
  private final long startupMillis;
  private final Map<String, SourcedCounter> sourced = new LinkedHashMap<>();
  private int open;

  private KamonRuntime(Config config) {
    long start = System.nanoTime();
    Config kamonConfig = kamonConfig(config);
    boolean wantActors = kamonConfig.getBoolean("slotted.metrics.actor-metrics");
    if (wantActors) {
      keepOnlyPekkoInstrumentation();
      Kamon.init(kamonConfig);
    } else {
      Kamon.initWithoutAttaching(kamonConfig);
    }
    this.actorMetrics = wantActors && InstrumentationStatus.create(false).present();
    this.prometheus = new PrometheusScrape(kamonConfig);
    this.startupMillis = (System.nanoTime() - start) / 1_000_000;
    if (wantActors && !actorMetrics) {
      LOG.warn("Kamon's instrumentation agent did not attach: no actor metrics. Start the JVM with"
          + " -Djdk.attach.allowAttachSelf=true, or set slotted.metrics.actor-metrics = off");
    }
    LOG.info("Metrics started in [{}] ms, actor metrics [{}]", startupMillis,
        actorMetrics ? "on" : "off");
  }

  /** Starts Kamon on the first call; later calls reuse it (the first configuration wins). */
  static synchronized KamonRuntime start(Config config) {
    if (instance == null) {
      instance = new KamonRuntime(config);
    } else if (instance.open == 0) {
      Kamon.loadModules();
    }
    instance.open++;
    return instance;
  }

  /**
   * When the last facade closes, Kamon's modules stop: their threads are not daemons and would keep
   * the JVM alive. The registry and the agent stay; a later start reloads the modules.
   */
  static synchronized void release(KamonRuntime runtime) {
    if (--runtime.open == 0) {
      Kamon.stopModules();
    }
  }

  /** System properties, then Slotted's Kamon settings, then the given config, then references. */
  static Config kamonConfig(Config config) {
    return ConfigFactory.defaultOverrides()
        .withFallback(ConfigFactory.parseResources(KamonRuntime.class.getClassLoader(),
            "slotted-kamon.conf"))
        .withFallback(config)
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  /**
   * Kanela reads its own configuration (system properties over the classpath's reference.conf), so
   * its modules are switched off there, before it attaches. A -D given by the user wins. Without
   * this it would also instrument JDBC (every SQLite statement), Pekko HTTP, logback and the JDK
   * executors, and take about twice as long to attach.
   */
  private static void keepOnlyPekkoInstrumentation() {
    Config reference = ConfigFactory.defaultReference();
    if (!reference.hasPath("kanela.modules")) {
      return;
    }
    for (String module : reference.getConfig("kanela.modules").root().keySet()) {
      String key = "kanela.modules." + module + ".enabled";
      if (!KANELA_MODULES_KEPT.contains(module) && System.getProperty(key) == null) {
        System.setProperty(key, "false");
      }
    }
    dropSchedulerInstrumentation(reference);
  }

  /**
   * Kamon's SchedulerInstrumentation wraps every {@code scheduleOnce} runnable to carry trace
   * context, which hides Pekko's run-on-close marker: the dispatcher shutdown task then never runs,
   * dispatcher threads outlive {@code terminate()} and the JVM does not exit (Kamon issue #1176).
   * Slotted does no tracing, so the list is set without it (as indexed system properties, which
   * typesafe-config reads as a list).
   */
  private static void dropSchedulerInstrumentation(Config reference) {
    String key = "kanela.modules.pekko.instrumentations";
    boolean userSet = System.getProperties().stringPropertyNames().stream()
        .anyMatch(p -> p.startsWith(key));
    if (userSet || !reference.hasPath(key)) {
      return;
    }
    List<String> kept = reference.getStringList(key).stream()
        .filter(c -> !c.endsWith(".SchedulerInstrumentation"))
        .toList();
    for (int i = 0; i < kept.size(); i++) {
      System.setProperty(key + "." + i, kept.get(i));
    }
  }

  boolean actorMetrics() {
    return actorMetrics;
  }

  long startupMillis() {
    return startupMillis;
  }

  /** Creates the family at 0, so it is present before anything counts. */
  synchronized void declareSourcedCounter(String name, String description) {
    sourced.computeIfAbsent(name, n -> new SourcedCounter(Kamon.counter(n, description)));
  }

  synchronized void registerCounterSource(Object owner, String name, LongSupplier supplier) {
    String normalized = name.endsWith("_total") ? name : name + "_total";
    if (!COUNTER_NAME.matcher(normalized).matches()) {
      throw new IllegalArgumentException("not a Prometheus counter name: [" + name + "]");
    }
    sourced.computeIfAbsent(normalized, n -> new SourcedCounter(Kamon.counter(n)))
        .sources.add(new Source(owner, supplier));
  }

  synchronized void removeCounterSources(Object owner) {
    sourced.values().forEach(c -> c.sources.removeIf(s -> s.owner() == owner));
  }

  synchronized String scrape() {
    sourced.forEach(this::sync);
    return prometheus.scrape();
  }

  private void sync(String name, SourcedCounter counter) {
    long total = 0;
    for (Source source : counter.sources) {
      try {
        total += source.supplier().getAsLong();
      } catch (RuntimeException e) {
        LOG.warn("Counter source of [{}] failed; skipped in this scrape", name, e);
      }
    }
    // A source that went backwards (a restarted store, a removed owner) moves the baseline down,
    // so the exported counter never decreases.
    if (total > counter.lastTotal) {
      counter.instrument.increment(total - counter.lastTotal);
    }
    counter.lastTotal = total;
  }

  private record Source(Object owner, LongSupplier supplier) {}

  private static final class SourcedCounter {
    final Counter instrument;
    final List<Source> sources = new ArrayList<>();
    long lastTotal;

    SourcedCounter(kamon.metric.Metric.Counter metric) {
      this.instrument = metric.withoutTags();
    }
  }
}
