package dev.slotted.orchestrator.schedule;

import com.cronutils.model.time.ExecutionTime;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.zone.ZoneOffsetTransition;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneRules;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The fire times of a schedule (DESIGN §6, G4). Immutable and thread-safe; build one per spec with
 * {@link #of} and keep it.
 *
 * <p>A cron expression is matched against local wall-clock times. cron-utils does that matching,
 * but only ever in UTC, where no wall-clock time is skipped or repeated: its own time-zone handling
 * drops fire times that fall in a spring-forward gap and fires twice in a fall-back overlap, which
 * G4 forbids. Each matching local time is then mapped to an instant here:
 *
 * <ul>
 *   <li>a local time that exists once is that instant;
 *   <li>a local time in a gap (skipped hour) fires at the first instant after the gap, the
 *       transition itself (02:30 on the New York spring-forward day fires at 03:00 EDT);
 *   <li>a local time in an overlap (repeated hour) fires once, at its first occurrence.
 * </ul>
 *
 * This mapping never decreases as local time increases, so fire times come out in order; several
 * local times in one gap collapse into the single transition instant, which fires once.
 *
 * <p>An {@code every} schedule fires at {@code anchor + k * every} (k ≥ 0): plain instant
 * arithmetic, unaffected by DST. A spec without an anchor is anchored at the epoch here; the
 * schedule entity sets the creation instant as the anchor before that matters.
 */
public final class FireTimes {

  /** The most fire times one {@link #next} call returns. */
  public static final int MAX_COUNT = 100;

  // Offsets of one zone differ by at most 36 hours, so a clock set back more than this long ago
  // shows less now than it did then.
  private static final Duration OFFSET_WINDOW = Duration.ofDays(2);

  private final ExecutionTime cron;
  private final Duration every;
  private final Instant anchor;
  private final ZoneRules rules;

  private FireTimes(ExecutionTime cron, Duration every, Instant anchor, ZoneId zone) {
    this.cron = cron;
    this.every = every;
    this.anchor = anchor;
    this.rules = zone.getRules();
  }

  /** Fire times of a valid spec; throws {@link IllegalArgumentException} for an invalid one. */
  public static FireTimes of(ScheduleSpec spec) {
    ZoneId zone;
    try {
      zone = spec.zone();
    } catch (DateTimeException e) {
      throw new IllegalArgumentException("timezone: " + e.getMessage(), e);
    }
    if (spec.cron() != null && spec.every() == null) {
      return new FireTimes(ExecutionTime.forCron(CronExpressions.parse(spec.cron())), null, null, zone);
    }
    if (spec.every() != null && spec.cron() == null && spec.every().compareTo(ScheduleSpec.MIN_EVERY) >= 0) {
      return new FireTimes(null, spec.every(), spec.anchor() == null ? Instant.EPOCH : spec.anchor(), zone);
    }
    throw new IllegalArgumentException("not a valid schedule: " + spec.validate(Integer.MAX_VALUE));
  }

  /** The next {@code count} (at most {@value #MAX_COUNT}) fire times strictly after {@code from}. */
  public static List<Instant> next(ScheduleSpec spec, Instant from, int count) {
    return of(spec).next(from, count);
  }

  /** The next {@code count} (at most {@value #MAX_COUNT}) fire times strictly after {@code from}. */
  public List<Instant> next(Instant from, int count) {
    if (count < 0 || count > MAX_COUNT) {
      throw new IllegalArgumentException("count must be between 0 and " + MAX_COUNT + ", got " + count);
    }
    List<Instant> out = new ArrayList<>(count);
    Instant cursor = from;
    while (out.size() < count) {
      Optional<Instant> next = nextAfter(cursor);
      if (next.isEmpty()) {
        break;
      }
      out.add(next.get());
      cursor = next.get();
    }
    return out;
  }

  /** The first fire time strictly after {@code from}; empty only for a cron that never fires. */
  public Optional<Instant> nextAfter(Instant from) {
    if (every != null) {
      if (from.isBefore(anchor)) {
        return Optional.of(anchor);
      }
      long k = Duration.between(anchor, from).dividedBy(every) + 1;
      return Optional.of(anchor.plus(every.multipliedBy(k)));
    }
    // Every local time whose fire instant lies after `from` is later than from's own local time
    // (the mapping is monotonic), so the search starts there. The loop skips the local times of the
    // second pass through an overlap and the gap times that collapsed into an instant already passed.
    // cron-utils keeps the fraction of a second it is given; fire times are whole seconds.
    LocalDateTime local =
        LocalDateTime.ofInstant(from, rules.getOffset(from)).truncatedTo(ChronoUnit.SECONDS);
    while (true) {
      Optional<ZonedDateTime> candidate = cron.nextExecution(local.atZone(ZoneOffset.UTC));
      if (candidate.isEmpty()) {
        return Optional.empty();
      }
      local = candidate.get().toLocalDateTime();
      Instant fire = toInstant(local);
      if (fire.isAfter(from)) {
        return Optional.of(fire);
      }
    }
  }

  /** The last fire time strictly before {@code before}; empty when there is none. */
  public Optional<Instant> latestBefore(Instant before) {
    if (every != null) {
      if (!before.isAfter(anchor)) {
        return Optional.empty();
      }
      Duration elapsed = Duration.between(anchor, before);
      long q = elapsed.dividedBy(every);
      long k = elapsed.equals(every.multipliedBy(q)) ? q - 1 : q;
      return Optional.of(anchor.plus(every.multipliedBy(k)));
    }
    // No local time above this bound maps to an instant before `before`, so the backward search
    // starts just above it.
    long bound = latestLocalSecond(before) + 1;
    LocalDateTime local = LocalDateTime.ofEpochSecond(bound, 0, ZoneOffset.UTC);
    while (true) {
      Optional<ZonedDateTime> candidate = cron.lastExecution(local.atZone(ZoneOffset.UTC));
      if (candidate.isEmpty()) {
        return Optional.empty();
      }
      local = candidate.get().toLocalDateTime();
      Instant fire = toInstant(local);
      if (fire.isBefore(before)) {
        return Optional.of(fire);
      }
    }
  }

  /** G4's mapping of a matched local time to the instant it fires at. */
  Instant toInstant(LocalDateTime local) {
    List<ZoneOffset> offsets = rules.getValidOffsets(local);
    if (offsets.size() == 1) {
      return local.toInstant(offsets.get(0));
    }
    if (offsets.isEmpty()) {
      return rules.getTransition(local).getInstant();
    }
    Instant a = local.toInstant(offsets.get(0));
    Instant b = local.toInstant(offsets.get(1));
    return a.isBefore(b) ? a : b;
  }

  /**
   * The latest local time (epoch seconds of the local date-time) shown by the clock at or before
   * {@code at}: the local time at {@code at}, or higher while {@code at} lies in the second pass of
   * a repeated hour, when the clock showed more just before it was set back.
   */
  private long latestLocalSecond(Instant at) {
    long latest = at.getEpochSecond() + rules.getOffset(at).getTotalSeconds();
    Instant floor = at.minus(OFFSET_WINDOW);
    // plusNanos(1): previousTransition is strictly before its argument, and `at` may be one.
    ZoneOffsetTransition t = rules.previousTransition(at.plusNanos(1));
    while (t != null && !t.getInstant().isBefore(floor)) {
      if (t.isOverlap()) {
        latest = Math.max(latest, t.getInstant().getEpochSecond() + t.getOffsetBefore().getTotalSeconds());
      }
      t = rules.previousTransition(t.getInstant());
    }
    return latest;
  }
}
