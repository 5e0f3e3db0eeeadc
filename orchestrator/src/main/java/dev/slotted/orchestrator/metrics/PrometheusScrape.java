package dev.slotted.orchestrator.metrics;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import kamon.Kamon$;
import java.util.ArrayList;
import java.util.List;
import kamon.metric.Metric;
import kamon.metric.MetricSnapshot;
import kamon.metric.PeriodSnapshot;
import kamon.prometheus.PrometheusReporter;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Renders Kamon's registry as Prometheus text, fresh at each scrape. Every scrape takes a
 * snapshot (which resets the registry's counters and histograms) and adds it to an accumulator
 * kept since start. Kamon's periodic tick, which would take such snapshots for its reporters, is
 * pushed out to years (slotted-kamon.conf), so no delta is taken anywhere else.
 */
final class PrometheusScrape {

  private final PrometheusReporter prometheus;

  PrometheusScrape(Config kamonConfig) {
    // Kamon's reporter used only as accumulator and formatter, never registered as a module, so
    // its embedded server never starts and it owns no thread.
    this.prometheus = new PrometheusReporter(
        "kamon.prometheus",
        ConfigFactory.parseString("kamon.prometheus.start-embedded-http-server = no")
            .withFallback(kamonConfig));
  }

  synchronized String scrape() {
    PeriodSnapshot s = Kamon$.MODULE$.registry().snapshot(true);
    prometheus.reportPeriodSnapshot(new PeriodSnapshot(s.from(), s.to(), exported(s.counters()),
        exported(s.gauges()), exported(s.histograms()), exported(s.timers()),
        exported(s.rangeSamplers())));
    return prometheus.scrapeData();
  }

  /** Kamon's own bookkeeping (tracer sampling decisions, span counts) is not exported. */
  private static <S extends Metric.Settings, I> Seq<MetricSnapshot<S, I>> exported(
      Seq<MetricSnapshot<S, I>> metrics) {
    List<MetricSnapshot<S, I>> kept = new ArrayList<>();
    for (MetricSnapshot<S, I> m : CollectionConverters.asJava(metrics)) {
      if (!m.name().startsWith("kamon.") && !m.name().startsWith("span.")) {
        kept.add(m);
      }
    }
    return CollectionConverters.asScala(kept).toList();
  }
}
