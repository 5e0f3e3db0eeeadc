package dev.slotted.orchestrator.store;

/** Per-queue counts by state, and the age of the oldest ready job (0 when none). */
public record QueueCounts(
    String queue,
    long scheduled,
    long ready,
    long running,
    long succeeded,
    long dead,
    long cancelled,
    long oldestReadyAgeMs) {}
