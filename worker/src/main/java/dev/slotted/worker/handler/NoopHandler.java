package dev.slotted.worker.handler;

import dev.slotted.worker.JobContext;
import dev.slotted.worker.JobHandler;
import dev.slotted.worker.JobResult;

/** Succeeds at once. Non-blocking, so workers run it without a thread hop (benchmarks). */
public final class NoopHandler implements JobHandler {
  private static final JobResult SUCCESS = JobResult.success();

  @Override
  public JobResult run(JobContext ctx) {
    return SUCCESS;
  }

  @Override
  public boolean blocking() {
    return false;
  }
}
