package dev.slotted.protocol;

import java.util.Objects;

/** One rejected field of a request: which field, and what is wrong with it. */
public record FieldError(String field, String message) {
  public FieldError {
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(message, "message");
  }

  @Override
  public String toString() {
    return field + ": " + message;
  }
}
