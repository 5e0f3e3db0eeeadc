package dev.slotted.worker.testing;

import dev.slotted.worker.Cancellation;
import dev.slotted.worker.JobContext;
import dev.slotted.worker.JobHandler;
import dev.slotted.worker.JobResult;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A handler whose attempts block until the test releases them (or they are cancelled); it records
 * how many ran at once.
 */
public final class GateHandler implements JobHandler {
  private final Map<String, CompletableFuture<JobResult>> gates = new ConcurrentHashMap<>();
  private final Map<String, Cancellation.Reason> cancelled = new ConcurrentHashMap<>();
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicInteger maxRunning = new AtomicInteger();
  private final AtomicInteger started = new AtomicInteger();

  @Override
  public JobResult run(JobContext ctx) throws Exception {
    int now = running.incrementAndGet();
    maxRunning.accumulateAndGet(now, Math::max);
    started.incrementAndGet();
    try {
      CompletableFuture<JobResult> gate = gate(ctx.jobId());
      CompletableFuture.anyOf(gate, ctx.cancellation().future()).get();
      if (gate.isDone()) {
        return gate.join();
      }
      cancelled.put(ctx.jobId(), ctx.cancellation().reason().orElseThrow());
      return JobResult.retryableFailure("cancelled");
    } finally {
      running.decrementAndGet();
    }
  }

  private CompletableFuture<JobResult> gate(String jobId) {
    return gates.computeIfAbsent(jobId, k -> new CompletableFuture<>());
  }

  public void release(String jobId) {
    gate(jobId).complete(JobResult.success());
  }

  public void releaseAll() {
    gates.values().forEach(g -> g.complete(JobResult.success()));
  }

  public int running() {
    return running.get();
  }

  public int maxRunning() {
    return maxRunning.get();
  }

  public int started() {
    return started.get();
  }

  public Cancellation.Reason cancelReason(String jobId) {
    return cancelled.get(jobId);
  }

  /** Waits until {@code n} attempts have started (a test helper with a generous limit). */
  public void awaitStarted(int n, Duration max) throws InterruptedException {
    long end = System.nanoTime() + max.toNanos();
    while (started.get() < n) {
      if (System.nanoTime() > end) {
        throw new AssertionError("only " + started.get() + " of " + n + " attempts started");
      }
      TimeUnit.MILLISECONDS.sleep(5);
    }
  }
}
