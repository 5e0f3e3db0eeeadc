package dev.slotted.protocol;

import java.time.Instant;

/**
 * One attempt of a job. {@code endedAt} and {@code outcome} are null while the attempt runs.
 *
 * @param runner the runner (node id) that claimed it
 * @param worker the worker child that ran it, when known
 */
public record Attempt(
    int number,
    String runner,
    String worker,
    Instant startedAt,
    Instant endedAt,
    AttemptOutcome outcome,
    String error,
    Integer exitCode,
    String logTail) {}
