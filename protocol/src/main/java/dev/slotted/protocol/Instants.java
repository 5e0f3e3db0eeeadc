package dev.slotted.protocol;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * The instants requests accept (runAt, a schedule's anchor, {@code next?from=}): ISO-8601 with
 * {@code Z} or an offset, in whole milliseconds (times are stored as epoch milliseconds), between
 * {@link #MIN} and {@link #MAX}. Java parses years up to ±999,999,999, but epoch milliseconds stop
 * near ±292,000,000 and other clients (JavaScript, SQLite's date functions) at four-digit years.
 */
public final class Instants {
  public static final Instant MIN = Instant.parse("0000-01-01T00:00:00Z");
  public static final Instant MAX = Instant.parse("9999-12-31T23:59:59.999Z");

  private Instants() {}

  /** @throws IllegalArgumentException with a message saying what is accepted */
  public static Instant parse(String text) {
    String shown = text.length() <= 80 ? text : text.substring(0, 77) + "...";
    Instant at;
    try {
      at = Instant.parse(text);
    } catch (DateTimeParseException e) {
      try {
        at = OffsetDateTime.parse(text).toInstant();
      } catch (DateTimeException e2) {
        throw new IllegalArgumentException(
            "'" + shown + "' is not an ISO-8601 instant (e.g. 2026-11-22T03:00:00Z)");
      }
    }
    String problem = problem(at);
    if (problem != null) {
      throw new IllegalArgumentException("'" + shown + "' " + problem);
    }
    if (at.getNano() % 1_000_000 != 0) {
      // Refused rather than truncated: the reply would show another instant than the one sent.
      throw new IllegalArgumentException("'" + shown + "' is finer than a millisecond; instants are kept"
          + " in whole milliseconds");
    }
    return at;
  }

  /** Why {@code at} is outside the range that can be stored, or null when it is inside. */
  public static String problem(Instant at) {
    if (at.isBefore(MIN) || at.isAfter(MAX)) {
      return "is outside the range accepted, " + MIN + " to " + MAX;
    }
    return null;
  }
}
