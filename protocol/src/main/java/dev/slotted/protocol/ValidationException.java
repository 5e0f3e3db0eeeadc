package dev.slotted.protocol;

import java.util.List;
import java.util.stream.Collectors;

/** Bad input, found before anything was written. Carries every field at fault. */
public class ValidationException extends RuntimeException {
  private final List<FieldError> errors;

  public ValidationException(List<FieldError> errors) {
    super(errors.stream().map(FieldError::toString).collect(Collectors.joining("; ")));
    this.errors = List.copyOf(errors);
  }

  public ValidationException(String field, String message) {
    this(List.of(new FieldError(field, message)));
  }

  public List<FieldError> errors() {
    return errors;
  }
}
