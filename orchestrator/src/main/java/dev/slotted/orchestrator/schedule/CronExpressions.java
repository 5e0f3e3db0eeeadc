package dev.slotted.orchestrator.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinition;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Parses the two cron dialects a schedule accepts: classic 5-field UNIX crontab (minute hour
 * day-of-month month day-of-week) and the same with a leading seconds field. Day-of-month and
 * day-of-week combine as in Vixie cron: when both are restricted, either one matching is enough.
 * "Restricted" is read from the days a field selects, not from how it is spelled: a day field that
 * selects every day ({@code *}, {@code *}{@code /1}, {@code 1-31}, {@code 1-31/1}, {@code 0-6}, {@code 1-7})
 * is unrestricted, and any other ({@code *}{@code /2}, {@code *,10}, {@code 1-15}) is restricted.
 * (Vixie's own code looks only at the first character, so there {@code *}{@code /2} is unrestricted.)
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

  private static final ZonedDateTime FIRST_PROBE_DAY = ZonedDateTime.of(2000, 5, 1, 0, 0, 0, 0, ZoneOffset.UTC);

  private static final String LIBRARY_PREFIX = "Failed to parse cron expression. ";

  private CronExpressions() {}

  /**
   * Rewrites a day-of-month or day-of-week field that selects every day to {@code *}, so the Vixie
   * OR applies only when both fields really restrict the days (cron-utils only knows a literal
   * {@code *} as unrestricted, plus {@code *}{@code /1}, which made {@code 1-31/1} mean something else).
   */
  private static String unrestrictAllDays(String expression, CronDefinition definition, int dom) {
    String[] f = expression.split(" ");
    int dow = dom + 2;
    if (!f[dom].equals("*") && selectsAll(f, dom, definition, 31)) {
      f[dom] = "*";
    }
    if (!f[dow].equals("*") && selectsAll(f, dow, definition, 7)) {
      f[dow] = "*";
    }
    return String.join(" ", f);
  }

  /**
   * Whether field {@code i} alone (every other field a fixed time, the other day field {@code *})
   * fires on each of {@code days} consecutive days from Monday 2000-05-01 (May has 31 days).
   */
  private static boolean selectsAll(String[] fields, int i, CronDefinition definition, int days) {
    String[] probe = new String[fields.length];
    Arrays.fill(probe, "*");
    for (int k = 0; k < fields.length - 3; k++) {
      probe[k] = "0"; // seconds, minutes, hours: midnight only
    }
    probe[i] = fields[i];
    try {
      ExecutionTime t = ExecutionTime.forCron(new CronParser(definition).parse(String.join(" ", probe)));
      ZonedDateTime at = ZonedDateTime.of(2000, 4, 30, 12, 0, 0, 0, ZoneOffset.UTC);
      for (int d = 0; d < days; d++) {
        Optional<ZonedDateTime> next = t.nextExecution(at);
        ZonedDateTime expected = FIRST_PROBE_DAY.plusDays(d);
        if (next.isEmpty() || !next.get().equals(expected)) {
          return false;
        }
        at = next.get();
      }
      return true;
    } catch (RuntimeException e) {
      return false; // not a valid field: the real parse below reports it
    }
  }

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
      if (fields == 5 || fields == 6) {
        normalized = unrestrictAllDays(normalized, definition, fields - 3);
      }
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
