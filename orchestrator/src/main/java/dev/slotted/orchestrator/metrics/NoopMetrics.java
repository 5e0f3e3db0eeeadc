package dev.slotted.orchestrator.metrics;

import java.time.Duration;
import java.util.Collection;
import java.util.function.LongSupplier;

/**
 * Records nothing; needs no Kamon. For unit tests of the callers, which may extend it to watch the
 * one figure they test.
 */
public class NoopMetrics implements Metrics {
  static final NoopMetrics INSTANCE = new NoopMetrics();

  @Override
  public void declareQueues(Collection<String> queues) {}

  @Override
  public void jobsSubmitted(String queue, int n) {}

  @Override
  public void jobsClaimed(String queue, int n) {}

  @Override
  public void jobCompleted(String queue, String outcome) {}

  @Override
  public void jobDead(String queue) {}

  @Override
  public void jobRunTime(String queue, Duration d) {}

  @Override
  public void dispatchDelay(String queue, Duration d) {}

  @Override
  public void queueJobs(String queue, String state, long count) {}

  @Override
  public void bufferedJobs(long count) {}

  @Override
  public void unroutableJobs(String queue, long count) {}

  @Override
  public void slotWork(Duration d) {}

  @Override
  public void slotOverrun() {}

  @Override
  public void storeTxn(String op, Duration d) {}

  @Override
  public void scheduleFired(String schedule) {}

  @Override
  public void registerCounterSource(String name, LongSupplier supplier) {}

  @Override
  public String scrape() {
    return "";
  }

  @Override
  public void close() {}
}
