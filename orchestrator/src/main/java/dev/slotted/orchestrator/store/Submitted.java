package dev.slotted.orchestrator.store;

import dev.slotted.protocol.Job;

/** The result of a submit: the job, and whether it was created or already existed (same key). */
public record Submitted(Job job, boolean created) {}
