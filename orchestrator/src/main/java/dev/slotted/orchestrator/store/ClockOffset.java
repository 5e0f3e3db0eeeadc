package dev.slotted.orchestrator.store;

import java.time.Instant;

/**
 * How far the database's clock is ahead of this host's clock, measured Cristian-style: the
 * database's time read in one round trip, compared with the midpoint of the host's times before and
 * after; the true offset lies within {@code uncertaintyMs} (half the round trip) of {@code offsetMs}.
 */
public record ClockOffset(long offsetMs, long uncertaintyMs, Instant measuredAt) {}
