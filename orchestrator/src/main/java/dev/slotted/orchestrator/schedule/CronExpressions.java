package dev.slotted.orchestrator.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinition;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.parser.CronParser;
import java.util.Locale;
import java.util.Map;

/**
 * Parses the two cron dialects a schedule accepts: classic 5-field UNIX crontab (minute hour
 * day-of-month month day-of-week) and the same with a leading seconds field. Day-of-month and
 * day-of-week combine as in Vixie cron: when both are restricted, either one matching is enough.
 * The nicknames {@code @yearly @annually @monthly @weekly @daily @midnight @hourly} are accepted.
 */
final class CronExpressions {

  private static final CronDefinition FIVE_FIELDS =
      CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX);

  // The UNIX definition with seconds in front, so 5- and 6-field expressions mean the same thing.
  private static final CronDefinition SIX_FIELDS =
      CronDefinitionBuilder.defineCron()
          .withSeconds().withValidRange(0, 59).withStrictRange().and()
          .withMinutes().withValidRange(0, 59).withStrictRange().and()
          .withHours().withValidRange(0, 23).withStrictRange().and()
          .withDayOfMonth().withValidRange(1, 31).withStrictRange().and()
          .withMonth().withValidRange(1, 12).withStrictRange().and()
          .withDayOfWeek().withValidRange(0, 7).withMondayDoWValue(1).withIntMapping(7, 0)
          .withStrictRange().and()
          .instance();

  private static final Map<String, String> NICKNAMES =
      Map.of(
          "@yearly", "0 0 1 1 *",
          "@annually", "0 0 1 1 *",
          "@monthly", "0 0 1 * *",
          "@weekly", "0 0 * * 0",
          "@daily", "0 0 * * *",
          "@midnight", "0 0 * * *",
          "@hourly", "0 * * * *");

  private static final String LIBRARY_PREFIX = "Failed to parse cron expression. ";

  private CronExpressions() {}

  /**
   * The parsed expression; throws {@link IllegalArgumentException} whose message is the reason,
   * fit to show to the user.
   */
  static Cron parse(String expression) {
    if (expression == null || expression.isBlank()) {
      throw new IllegalArgumentException("must not be empty");
    }
    String normalized = expression.trim().replaceAll("\\s+", " ");
    String expanded = NICKNAMES.get(normalized.toLowerCase(Locale.ROOT));
    if (expanded != null) {
      normalized = expanded;
    } else if (normalized.startsWith("@")) {
      throw new IllegalArgumentException(
          "unknown nickname '" + normalized + "' (expected one of " + String.join(", ",
              NICKNAMES.keySet().stream().sorted().toList()) + ")");
    }
    int fields = normalized.split(" ").length;
    CronDefinition definition;
    if (fields == 5) {
      definition = FIVE_FIELDS;
    } else if (fields == 6) {
      definition = SIX_FIELDS;
    } else {
      throw new IllegalArgumentException(
          "must have 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got "
              + fields);
    }
    try {
      // A parser per call: parsing is rare, and this keeps thread-safety out of the question.
      return new CronParser(definition).parse(normalized).validate();
    } catch (IllegalArgumentException e) {
      String reason = e.getMessage() == null ? e.toString() : e.getMessage();
      if (reason.startsWith(LIBRARY_PREFIX)) {
        reason = reason.substring(LIBRARY_PREFIX.length());
      }
      throw new IllegalArgumentException(reason, e);
    } catch (RuntimeException e) {
      // cron-utils throws other unchecked types on some malformed input (e.g. dangling ranges).
      throw new IllegalArgumentException(String.valueOf(e.getMessage()), e);
    }
  }
}
