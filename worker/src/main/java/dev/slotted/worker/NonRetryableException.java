package dev.slotted.worker;

/** Thrown by a handler when another attempt cannot succeed: the job goes to the dead letters at once. */
public class NonRetryableException extends Exception {

  public NonRetryableException(String message) {
    super(message);
  }

  public NonRetryableException(String message, Throwable cause) {
    super(message, cause);
  }
}
