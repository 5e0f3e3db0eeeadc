package dev.slotted.worker.handler;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.slotted.worker.AsyncJobHandler;
import dev.slotted.worker.JobContext;
import dev.slotted.worker.JobResult;
import dev.slotted.worker.NonRetryableException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Demo and test handler. Reads {@code {"ms": N, "fail": p, "failFirst": k}} (every field optional):
 * sleeps N ms (cut short by a cancel), then fails with probability p, and always fails attempts 1..k,
 * so retries and dead letters can be shown deterministically. A payload that is not an object means
 * all defaults (no sleep, success).
 *
 * <p>The sleep is a timer, not a parked thread, so one runner can hold thousands of sleeping jobs
 * (the lease-renewal benchmark) with a small blocking dispatcher.
 */
public final class SleepHandler implements AsyncJobHandler {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The parsed payload. */
  record Spec(long ms, double fail, int failFirst) {}

  @Override
  public CompletionStage<JobResult> runAsync(JobContext ctx) throws NonRetryableException {
    Spec spec = parse(ctx.payload());
    if (spec.ms() <= 0) {
      return CompletableFuture.completedFuture(outcome(spec, ctx));
    }
    CompletableFuture<JobResult> done = new CompletableFuture<>();
    CompletableFuture.delayedExecutor(spec.ms(), TimeUnit.MILLISECONDS)
        .execute(() -> done.complete(outcome(spec, ctx)));
    ctx.cancellation()
        .onCancel(() -> done.complete(JobResult.retryableFailure("cancelled while sleeping")));
    return done;
  }

  private static JobResult outcome(Spec spec, JobContext ctx) {
    if (ctx.attempt() <= spec.failFirst()) {
      return JobResult.retryableFailure(
          "failing attempt " + ctx.attempt() + " of the first " + spec.failFirst() + " (failFirst)");
    }
    if (spec.fail() > 0 && ThreadLocalRandom.current().nextDouble() < spec.fail()) {
      return JobResult.retryableFailure("random failure (fail=" + spec.fail() + ")");
    }
    return JobResult.success();
  }

  static Spec parse(String payload) throws NonRetryableException {
    JsonNode n;
    try {
      n = JSON.readTree(payload == null ? "null" : payload);
    } catch (JsonProcessingException e) {
      throw new NonRetryableException("sleep: the payload is not JSON: " + e.getOriginalMessage());
    }
    if (n == null || !n.isObject()) {
      return new Spec(0, 0, 0);
    }
    long ms = number(n, "ms", 0, Long.MAX_VALUE).longValue();
    double fail = number(n, "fail", 0, 1).doubleValue();
    int failFirst = number(n, "failFirst", 0, Integer.MAX_VALUE).intValue();
    return new Spec(ms, fail, failFirst);
  }

  private static Number number(JsonNode obj, String field, double min, double max)
      throws NonRetryableException {
    JsonNode v = obj.get(field);
    if (v == null || v.isNull()) {
      return 0;
    }
    if (!v.isNumber() || v.doubleValue() < min || v.doubleValue() > max) {
      throw new NonRetryableException(
          "sleep: '" + field + "' must be a number in [" + fmt(min) + ", " + fmt(max) + "], got " + v);
    }
    return v.numberValue();
  }

  private static String fmt(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }
}
