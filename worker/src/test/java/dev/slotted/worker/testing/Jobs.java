package dev.slotted.worker.testing;

import dev.slotted.protocol.ClaimedJob;
import dev.slotted.worker.Cancellation;
import dev.slotted.worker.JobContext;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/** Claimed jobs and contexts for tests. */
public final class Jobs {
  private static final AtomicInteger SEQ = new AtomicInteger();

  private Jobs() {}

  public static ClaimedJob job(String queue, String payload) {
    return job(queue, payload, 1, null);
  }

  public static ClaimedJob job(String queue, String payload, int attempt, Duration timeout) {
    Instant now = Instant.now();
    return new ClaimedJob(
        "job-" + SEQ.incrementAndGet(), queue, payload, attempt, 5, "lease-" + UUID.randomUUID(),
        "key-" + SEQ.get(), 0, List.of(), timeout, now, now);
  }

  public static ClaimedJob withId(String id, String queue, String payload) {
    Instant now = Instant.now();
    return new ClaimedJob(id, queue, payload, 1, 5, "lease-" + UUID.randomUUID(), null, 0, List.of(), null, now, now);
  }

  /** The same claimed job with another priority. */
  public static ClaimedJob withPriority(ClaimedJob j, int priority) {
    return new ClaimedJob(j.id(), j.queue(), j.payload(), j.attempt(), j.maxAttempts(), j.leaseToken(),
        j.idempotencyKey(), j.partition(), j.tags(), j.timeout(), j.dueAt(), j.claimedAt(), priority);
  }

  public static JobContext context(ClaimedJob job, Path logDir) {
    return new JobContext(job, logDir, 4000, null, new Cancellation());
  }

  public static JobContext context(ClaimedJob job, Path logDir, int tailChars) {
    return new JobContext(job, logDir, tailChars, null, new Cancellation());
  }
}
