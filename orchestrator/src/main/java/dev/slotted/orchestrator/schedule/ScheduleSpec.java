package dev.slotted.orchestrator.schedule;

import com.cronutils.model.time.ExecutionTime;
import dev.slotted.protocol.FieldError;
import dev.slotted.protocol.ValidationException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A schedule as the user defines it (DESIGN §6): a cron expression or a fixed interval, in a time
 * zone, and the job each fire submits. Holds raw input: {@link #validate} lists everything wrong,
 * naming the field, before anything is written.
 *
 * @param cron 5 fields, or 6 with seconds first; {@code null} when {@code every} is set
 * @param every fixed interval (at least 1s); {@code null} when {@code cron} is set
 * @param anchor {@code every} only: fire times are {@code anchor + k * every} for k ≥ 0; {@code
 *     null} means the instant the schedule is created
 * @param timezone IANA zone id the cron expression is read in; {@code null} means UTC
 */
public record ScheduleSpec(
    String name,
    String cron,
    Duration every,
    Instant anchor,
    String timezone,
    JobTemplate job,
    MisfirePolicy misfire,
    OverlapPolicy overlap,
    boolean paused) {

  public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  public static final Duration MIN_EVERY = Duration.ofSeconds(1);
  public static final String DEFAULT_TIMEZONE = "UTC";

  // Any fixed instant works: a valid cron has no year field, so it fires after every instant.
  private static final ZonedDateTime PROBE = ZonedDateTime.of(2000, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);

  public ScheduleSpec {
    timezone = timezone == null ? DEFAULT_TIMEZONE : timezone;
    misfire = misfire == null ? MisfirePolicy.FIRE_ONCE : misfire;
    overlap = overlap == null ? OverlapPolicy.ALLOW : overlap;
  }

  /** A cron schedule in UTC with the default policies. */
  public static ScheduleSpec cron(String name, String cron, JobTemplate job) {
    return new ScheduleSpec(name, cron, null, null, null, job, null, null, false);
  }

  /** A fixed-interval schedule with the default policies, anchored at its creation. */
  public static ScheduleSpec every(String name, Duration every, JobTemplate job) {
    return new ScheduleSpec(name, null, every, null, null, job, null, null, false);
  }

  public ScheduleSpec withTimezone(String tz) {
    return new ScheduleSpec(name, cron, every, anchor, tz, job, misfire, overlap, paused);
  }

  public ScheduleSpec withAnchor(Instant a) {
    return new ScheduleSpec(name, cron, every, a, timezone, job, misfire, overlap, paused);
  }

  public ScheduleSpec withJob(JobTemplate j) {
    return new ScheduleSpec(name, cron, every, anchor, timezone, j, misfire, overlap, paused);
  }

  public ScheduleSpec withMisfire(MisfirePolicy m) {
    return new ScheduleSpec(name, cron, every, anchor, timezone, job, m, overlap, paused);
  }

  public ScheduleSpec withOverlap(OverlapPolicy o) {
    return new ScheduleSpec(name, cron, every, anchor, timezone, job, misfire, o, paused);
  }

  public ScheduleSpec withPaused(boolean p) {
    return new ScheduleSpec(name, cron, every, anchor, timezone, job, misfire, overlap, p);
  }

  /** The zone of a valid spec. */
  public ZoneId zone() {
    return ZoneId.of(timezone);
  }

  /**
   * Whether the fire times of {@code other} can differ from this spec's: a change of cron,
   * interval, anchor or zone (as opposed to a change of the job, policies or pause).
   */
  public boolean sameTiming(ScheduleSpec other) {
    return Objects.equals(cron, other.cron)
        && Objects.equals(every, other.every)
        && Objects.equals(anchor, other.anchor)
        && Objects.equals(timezone, other.timezone);
  }

  /** Every rule of DESIGN §6; empty when the spec is valid. */
  public List<FieldError> validate(int maxPayloadBytes) {
    List<FieldError> errors = new ArrayList<>();
    if (name == null || !NAME.matcher(name).matches()) {
      errors.add(new FieldError("name", "must match [a-z0-9][a-z0-9._-]{0,63}, got "
          + (name == null ? "nothing" : "'" + abbreviate(name) + "'")));
    }
    if (cron != null && every != null) {
      errors.add(new FieldError("cron", "give either cron or every, not both"));
    } else if (cron == null && every == null) {
      errors.add(new FieldError("cron", "one of cron or every is required"));
    } else if (cron != null) {
      checkCron(errors);
    } else {
      checkEvery(errors);
    }
    if (anchor != null && cron != null) {
      errors.add(new FieldError("anchor", "applies only to every schedules"));
    }
    if (timezone.isBlank()) {
      errors.add(new FieldError("timezone", "must not be blank; leave it out for UTC"));
    } else if (!ZoneId.getAvailableZoneIds().contains(timezone)) {
      // Only IANA region ids: Java also reads offsets ("GMT+5", "+05:00"), but "GMT+5" there means
      // UTC+5 while IANA's "Etc/GMT+5" means UTC-5; refusing offsets leaves no room for that mix-up.
      errors.add(new FieldError("timezone", "unknown time zone '" + abbreviate(timezone)
          + "' (expected an IANA id such as Europe/Berlin, UTC or Etc/GMT-5; offsets such as GMT+5"
          + " or +05:00 are not accepted)"));
    }
    if (job == null) {
      errors.add(new FieldError("job", "is required"));
    } else {
      errors.addAll(job.validate(maxPayloadBytes, "job."));
    }
    return errors;
  }

  /** Throws {@link ValidationException} when {@link #validate} finds anything. */
  public ScheduleSpec validated(int maxPayloadBytes) {
    List<FieldError> errors = validate(maxPayloadBytes);
    if (!errors.isEmpty()) {
      throw new ValidationException(errors);
    }
    return this;
  }

  private void checkCron(List<FieldError> errors) {
    try {
      ExecutionTime execution = ExecutionTime.forCron(CronExpressions.parse(cron));
      if (execution.nextExecution(PROBE).isEmpty()) {
        errors.add(new FieldError("cron", "'" + abbreviate(cron) + "' never fires"));
      }
    } catch (IllegalArgumentException e) {
      errors.add(new FieldError("cron", "invalid cron expression '" + abbreviate(cron) + "': "
          + e.getMessage()));
    }
  }

  private void checkEvery(List<FieldError> errors) {
    if (every.compareTo(MIN_EVERY) < 0) {
      errors.add(new FieldError("every", "must be at least 1s, got " + every));
    } else if (every.getNano() % 1_000_000 != 0) {
      errors.add(new FieldError("every", "must be a whole number of milliseconds, got " + every));
    }
  }

  private static String abbreviate(String s) {
    s = dev.slotted.protocol.Text.printable(s);
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }
}
