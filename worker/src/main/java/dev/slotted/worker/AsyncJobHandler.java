package dev.slotted.worker;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

/**
 * A handler that waits without holding a thread (timers, asynchronous IO), so that thousands of its
 * attempts can be in flight with a small blocking dispatcher. The worker calls {@link #runAsync}
 * instead of {@link #run}.
 *
 * <p>{@link #runAsync} is called on the worker's actor thread: it must only start the work and
 * return at once. The stage's value is the result; its exception is treated like one thrown from
 * {@link #run} (an {@link Exception} is a failure, an {@link Error} crashes the worker). Watch the
 * context's cancellation and complete the stage soon after it fires.
 */
public interface AsyncJobHandler extends JobHandler {

  CompletionStage<JobResult> runAsync(JobContext ctx) throws Exception;

  /** The blocking form, for callers outside a worker (tests, scripts). */
  @Override
  default JobResult run(JobContext ctx) throws Exception {
    try {
      return runAsync(ctx).toCompletableFuture().get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception ex) {
        throw ex;
      }
      throw e;
    }
  }
}
