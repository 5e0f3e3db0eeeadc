package dev.slotted.orchestrator.store;

import dev.slotted.protocol.JobState;

/**
 * A page of the job list, newest first.
 *
 * @param queue only this queue, or null for all
 * @param state only this state, or null for all
 * @param cursor the {@code nextCursor} of the previous page, or null for the first
 * @param idempotencyKey only the job with this idempotency key (in any queue unless one is given),
 *     or null
 */
public record JobQuery(String queue, JobState state, int limit, String cursor, String idempotencyKey) {
  public static final int MAX_LIMIT = 500;

  public JobQuery(String queue, JobState state, int limit, String cursor) {
    this(queue, state, limit, cursor, null);
  }

  public JobQuery {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException("limit must be between 1 and " + MAX_LIMIT + ": " + limit);
    }
  }
}
