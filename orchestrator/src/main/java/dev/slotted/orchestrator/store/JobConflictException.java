package dev.slotted.orchestrator.store;

import dev.slotted.protocol.JobState;

/** The job's state does not allow the operation (cancel a finished job, requeue a live one). */
public class JobConflictException extends RuntimeException {
  private final JobState state;

  public JobConflictException(String id, JobState state, String operation) {
    super("job '" + id + "' is " + state.wire() + ": cannot " + operation);
    this.state = state;
  }

  public JobState state() {
    return state;
  }
}
