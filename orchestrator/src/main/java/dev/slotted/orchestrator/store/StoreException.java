package dev.slotted.orchestrator.store;

/** A store failure that is not the caller's fault (I/O, SQLITE_BUSY after retries, a bug). */
public class StoreException extends RuntimeException {
  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }

  public StoreException(String message) {
    super(message);
  }
}
