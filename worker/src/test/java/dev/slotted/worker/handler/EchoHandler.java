package dev.slotted.worker.handler;

import dev.slotted.worker.JobContext;
import dev.slotted.worker.JobHandler;
import dev.slotted.worker.JobResult;

/** Loaded by class name in the registry tests: writes the payload to the attempt log. */
public class EchoHandler implements JobHandler {
  @Override
  public JobResult run(JobContext ctx) throws Exception {
    ctx.log().write("echo " + ctx.payload());
    return JobResult.success();
  }
}
