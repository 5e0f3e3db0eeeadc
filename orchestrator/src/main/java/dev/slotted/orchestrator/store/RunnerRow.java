package dev.slotted.orchestrator.store;

import java.time.Instant;

/**
 * A runner's lease row.
 *
 * @param statusJson what the runner published at its last heartbeat (slot table figures)
 * @param alive whether its lease had not expired at the time of the read
 */
public record RunnerRow(
    String id, Instant startedAt, Instant heartbeatAt, Instant expiresAt, String statusJson, boolean alive) {}
