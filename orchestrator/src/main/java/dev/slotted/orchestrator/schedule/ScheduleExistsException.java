package dev.slotted.orchestrator.schedule;

/** A create named a schedule that already exists. The HTTP API answers 409. */
public class ScheduleExistsException extends RuntimeException {
  public ScheduleExistsException(String name) {
    super("a schedule named '" + name + "' already exists");
  }
}
