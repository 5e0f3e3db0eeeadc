package dev.slotted.orchestrator.store;

/** No job has the given id. */
public class JobNotFoundException extends RuntimeException {
  public JobNotFoundException(String id) {
    super("no job with id '" + id + "'");
  }
}
