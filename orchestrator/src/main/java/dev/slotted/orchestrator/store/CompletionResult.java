package dev.slotted.orchestrator.store;

import dev.slotted.protocol.JobState;

/**
 * What the store did with one completion.
 *
 * @param accepted false when the lease token was stale (nothing written for that job)
 * @param newState the job's state after the completion (null when refused)
 * @param queue the job's queue (null when refused)
 */
public record CompletionResult(String jobId, boolean accepted, JobState newState, String queue) {}
