package dev.slotted.orchestrator.metrics;

import com.typesafe.config.ConfigFactory;

/**
 * Run by MetricsFatJarIT with the shaded jar on the classpath, the way {@code serve} starts:
 * Metrics.init first, then an ActorSystem (in FatJarActors, so no Pekko class loads before).
 * Prints what the IT checks, then the scrape.
 */
public final class FatJarProbe {
  private FatJarProbe() {}

  public static void main(String[] args) throws Exception {
    long start = System.nanoTime();
    Metrics metrics = Metrics.init(ConfigFactory.load());
    System.out.println("INIT_MILLIS=" + (System.nanoTime() - start) / 1_000_000);
    System.out.println("ACTOR_METRICS=" + ((KamonMetrics) metrics).actorMetrics());
    FatJarActors.run(20);
    String scrape = "";
    long deadline = System.nanoTime() + 15_000_000_000L;
    while (System.nanoTime() < deadline && !scrape.contains("pekko_actor_processing_time_seconds_count")) {
      Thread.sleep(100);
      scrape = metrics.scrape();
    }
    System.out.println("LISTENING=" + ListeningSockets.ofThisProcess());
    System.out.println("SCRAPE-BEGIN");
    System.out.print(scrape);
    System.out.println("SCRAPE-END");
    FatJarActors.stop();
    metrics.close();
  }
}
