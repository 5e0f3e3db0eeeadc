package dev.slotted.protocol;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A job as the store holds it, with its attempt history (DESIGN §3). {@code payload} is JSON text.
 */
public record Job(
    String id,
    String queue,
    JobState state,
    String payload,
    int priority,
    int maxAttempts,
    int attemptCount,
    String idempotencyKey,
    String partitionKey,
    int partition,
    List<String> tags,
    Duration timeout,
    Instant runAt,
    Instant createdAt,
    Instant finishedAt,
    List<Attempt> attempts) {

  public Job {
    tags = tags == null ? List.of() : List.copyOf(tags);
    attempts = attempts == null ? List.of() : List.copyOf(attempts);
  }
}
