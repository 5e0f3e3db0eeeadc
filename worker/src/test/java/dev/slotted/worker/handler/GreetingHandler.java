package dev.slotted.worker.handler;

import com.typesafe.config.Config;
import dev.slotted.worker.JobContext;
import dev.slotted.worker.JobHandler;
import dev.slotted.worker.JobResult;

/** Loaded by class name with its own configuration block. */
public class GreetingHandler implements JobHandler {
  final String greeting;

  public GreetingHandler(Config config) {
    this.greeting = config.getString("greeting");
  }

  @Override
  public JobResult run(JobContext ctx) {
    return JobResult.success(null, greeting + " " + ctx.jobId());
  }
}
