package dev.slotted.orchestrator.config;

/** A setting that cannot be used. The message names the key and the value. */
public class ConfigError extends RuntimeException {
  public ConfigError(String key, Object value, String problem) {
    super("invalid setting " + key + " = " + value + ": " + problem);
  }

  public ConfigError(String message, Throwable cause) {
    super(message, cause);
  }
}
