package dev.slotted.orchestrator.metrics;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.function.LongSupplier;

/** Placeholder facade; the Kamon-backed implementation replaces it. */
public class Metrics {
  public static Metrics init(Config config) {
    return new Metrics();
  }

  public static Metrics noop() {
    return new Metrics();
  }

  public void close() {}

  public void jobsSubmitted(String queue, int n) {}

  public void jobsClaimed(String queue, int n) {}

  public void jobCompleted(String queue, String outcome) {}

  public void jobDead(String queue) {}

  public void jobRunTime(String queue, Duration d) {}

  public void dispatchDelay(String queue, Duration d) {}

  public void queueJobs(String queue, String state, long count) {}

  public void slotWork(Duration d) {}

  public void slotOverrun() {}

  public void storeTxn(String op, Duration d) {}

  public void scheduleFired(String schedule) {}

  public void registerCounterSource(String name, LongSupplier supplier) {}

  public String scrape() {
    return "";
  }
}
