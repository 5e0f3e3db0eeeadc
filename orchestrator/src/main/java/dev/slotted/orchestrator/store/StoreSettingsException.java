package dev.slotted.orchestrator.store;

/**
 * The store cannot be used with a setting as given (a wrong password, a database that does not
 * exist): the operator must change {@link #key()}. The application exits 2 naming it.
 */
public class StoreSettingsException extends StoreException {
  private final String key;

  public StoreSettingsException(String key, String message, Throwable cause) {
    super(message, cause);
    this.key = key;
  }

  public String key() {
    return key;
  }
}
