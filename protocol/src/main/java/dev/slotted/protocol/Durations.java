package dev.slotted.protocol;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the durations requests accept: ISO-8601 ({@code PT10S}) or {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}, {@code 2d}. */
public final class Durations {
  private static final Pattern SHORT = Pattern.compile("(\\d{1,12})\\s*(ms|s|m|h|d)");

  private Durations() {}

  /** @throws IllegalArgumentException with a message saying what is accepted */
  public static Duration parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("a duration is required (e.g. PT10S, 500ms, 10s, 5m, 1h)");
    }
    String s = text.trim();
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
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "'" + s + "' is not a duration (expected e.g. PT10S, 500ms, 10s, 5m, 1h)");
    }
  }
}
