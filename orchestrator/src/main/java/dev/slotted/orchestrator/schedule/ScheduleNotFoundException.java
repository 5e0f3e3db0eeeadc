package dev.slotted.orchestrator.schedule;

/** No schedule of that name (never created, or deleted). The HTTP API answers 404. */
public class ScheduleNotFoundException extends RuntimeException {
  public ScheduleNotFoundException(String name) {
    super("no schedule named '" + name + "'");
  }
}
