package dev.slotted.protocol;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the durations requests accept: ISO-8601 ({@code PT10S}) or {@code 500ms}, {@code 10s},
 * {@code 5m}, {@code 1h}, {@code 2d}. Every duration is stored in milliseconds, so one finer than a
 * millisecond is refused rather than rounded (a {@code PT0.0001S} timeout would be stored as 0), and
 * none may exceed {@link #MAX} in either direction (larger ones overflow epoch-millisecond arithmetic).
 */
public final class Durations {
  /** The longest duration any request may give (fields may set tighter limits). */
  public static final Duration MAX = Duration.ofDays(36_500);

  private static final Pattern SHORT = Pattern.compile("(\\d{1,12})\\s*(ms|s|m|h|d)");

  private Durations() {}

  /** @throws IllegalArgumentException with a message saying what is accepted */
  public static Duration parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("a duration is required (e.g. PT10S, 500ms, 10s, 5m, 1h)");
    }
    String s = text.trim();
    Duration d = parseUnchecked(s);
    String shown = s.length() <= 80 ? s : s.substring(0, 77) + "...";
    if (d.abs().compareTo(MAX) > 0) {
      throw new IllegalArgumentException("'" + shown + "' is longer than the largest duration accepted, "
          + MAX.toDays() + " days (" + MAX + ")");
    }
    if (d.getNano() % 1_000_000 != 0) {
      throw new IllegalArgumentException("'" + shown + "' is finer than a millisecond; durations are kept"
          + " in whole milliseconds");
    }
    return d;
  }

  private static Duration parseUnchecked(String s) {
    Matcher m = SHORT.matcher(s);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      };
    }
    try {
      return Duration.parse(s);
    } catch (DateTimeParseException | ArithmeticException e) {
      String shown = s.length() <= 80 ? s : s.substring(0, 77) + "...";
      throw new IllegalArgumentException(
          "'" + shown + "' is not a duration within range (expected e.g. PT10S, 500ms, 10s, 5m, 1h)");
    }
  }
}
