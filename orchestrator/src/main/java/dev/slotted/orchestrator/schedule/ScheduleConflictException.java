package dev.slotted.orchestrator.schedule;

/**
 * A write to a schedule lost a race with another process's write of the same schedule (the
 * journal refused the second append). Nothing of it was written; the entity has replayed the
 * journal, so retrying the command acts on the current state. The HTTP API answers 409.
 */
public class ScheduleConflictException extends RuntimeException {
  public ScheduleConflictException(String name) {
    super("schedule '" + name + "' was changed by another runner at the same moment; try again");
  }
}
