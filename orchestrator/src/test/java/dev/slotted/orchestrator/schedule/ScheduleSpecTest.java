package dev.slotted.orchestrator.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.slotted.protocol.FieldError;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.ValidationException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScheduleSpecTest {

  private static final int MAX_PAYLOAD = 1024;
  private static final JobTemplate JOB = JobTemplate.of("reports", "{\"day\":\"today\"}");

  private static List<String> fields(ScheduleSpec spec) {
    return spec.validate(MAX_PAYLOAD).stream().map(FieldError::field).toList();
  }

  private static String message(ScheduleSpec spec, String field) {
    return spec.validate(MAX_PAYLOAD).stream().filter(e -> e.field().equals(field))
        .map(FieldError::message).findFirst().orElseThrow();
  }

  @ParameterizedTest
  @ValueSource(strings = {"0 3 * * *", "*/5 * * * 1-5", "0 0 3 * * *", "30 */10 * * * SUN",
      "0 0 1 JAN *", "@daily", "@HOURLY", "  0   3 * * *  "})
  void acceptsFiveAndSixFieldCronAndNicknames(String cron) {
    assertThat(ScheduleSpec.cron("nightly", cron, JOB).validate(MAX_PAYLOAD)).isEmpty();
  }

  @Test
  void aBadCronIsReportedOnTheCronFieldWithTheParsersReason() {
    ScheduleSpec spec = ScheduleSpec.cron("nightly", "61 3 * * *", JOB);
    assertThat(fields(spec)).containsExactly("cron");
    assertThat(message(spec, "cron")).contains("61 3 * * *").contains("61").contains("[0, 59]");

    assertThat(message(ScheduleSpec.cron("n", "0 3 * *", JOB), "cron")).contains("5 fields");
    assertThat(message(ScheduleSpec.cron("n", "0 0 0 3 * * *", JOB), "cron")).contains("got 7");
    assertThat(message(ScheduleSpec.cron("n", "@fortnightly", JOB), "cron")).contains("unknown nickname");
    assertThat(message(ScheduleSpec.cron("n", "0 0 30 2 *", JOB), "cron")).contains("never fires");
    assertThat(message(ScheduleSpec.cron("n", "a b c d e", JOB), "cron")).startsWith("invalid cron");
    assertThat(message(ScheduleSpec.cron("n", "", JOB), "cron")).contains("must not be empty");
  }

  @Test
  void anUnknownZoneIsReportedOnTheTimezoneField() {
    ScheduleSpec spec = ScheduleSpec.cron("nightly", "0 3 * * *", JOB).withTimezone("Mars/Olympus_Mons");
    assertThat(fields(spec)).containsExactly("timezone");
    assertThat(message(spec, "timezone")).contains("Mars/Olympus_Mons");
    assertThat(ScheduleSpec.cron("nightly", "0 3 * * *", JOB).withTimezone("Europe/Berlin")
        .validate(MAX_PAYLOAD)).isEmpty();
  }

  @Test
  void cronXorEvery() {
    ScheduleSpec both = new ScheduleSpec("s", "0 3 * * *", Duration.ofMinutes(5), null, null, JOB, null, null, false);
    ScheduleSpec neither = new ScheduleSpec("s", null, null, null, null, JOB, null, null, false);
    assertThat(message(both, "cron")).contains("not both");
    assertThat(message(neither, "cron")).contains("required");
    assertThat(fields(ScheduleSpec.every("s", Duration.ofMillis(999), JOB))).containsExactly("every");
    assertThat(fields(ScheduleSpec.every("s", Duration.ofSeconds(1), JOB))).isEmpty();
    assertThat(fields(ScheduleSpec.every("s", Duration.ofNanos(1_000_000_001L), JOB))).containsExactly("every");
    assertThat(fields(ScheduleSpec.cron("s", "0 3 * * *", JOB).withAnchor(Instant.EPOCH))).containsExactly("anchor");
  }

  @Test
  void nameAndJobFieldsAreCheckedWithTheirPaths() {
    ScheduleSpec spec = new ScheduleSpec("Nightly Report", "0 3 * * *", null, null, null,
        new JobTemplate("Bad Queue", "{not json", 5000, 0, List.of("ok", "bad tag"), Duration.ZERO),
        null, null, false);
    assertThat(fields(spec)).containsExactlyInAnyOrder(
        "name", "job.queue", "job.priority", "job.maxAttempts", "job.tags[1]", "job.timeout", "job.payload");
    assertThat(message(spec, "job.payload")).contains("not valid JSON");
    assertThat(fields(new ScheduleSpec("n", "0 3 * * *", null, null, null, null, null, null, false)))
        .containsExactly("job");
    assertThat(fields(ScheduleSpec.cron("n", "0 3 * * *", JobTemplate.of("q", "\"" + "x".repeat(2000) + "\""))))
        .containsExactly("job.payload");
  }

  @Test
  void defaultsAndValidatedThrowsWithEveryError() {
    ScheduleSpec spec = ScheduleSpec.cron("n", "0 3 * * *", JOB);
    assertThat(spec.timezone()).isEqualTo("UTC");
    assertThat(spec.misfire()).isEqualTo(MisfirePolicy.FIRE_ONCE);
    assertThat(spec.overlap()).isEqualTo(OverlapPolicy.ALLOW);
    assertThat(spec.validated(MAX_PAYLOAD)).isSameAs(spec);
    assertThatThrownBy(() -> ScheduleSpec.cron("N", "x", JOB).withTimezone("Nowhere").validated(MAX_PAYLOAD))
        .isInstanceOf(ValidationException.class)
        .satisfies(e -> assertThat(((ValidationException) e).errors()).extracting(FieldError::field)
            .containsExactly("name", "cron", "timezone"));
  }

  @Test
  void policiesHaveWireNames() {
    assertThat(MisfirePolicy.parse("fire-once")).isEqualTo(MisfirePolicy.FIRE_ONCE);
    assertThat(MisfirePolicy.parse("catch-up")).isEqualTo(MisfirePolicy.CATCH_UP);
    assertThat(MisfirePolicy.SKIP.wire()).isEqualTo("skip");
    assertThat(OverlapPolicy.parse("skip")).isEqualTo(OverlapPolicy.SKIP);
    assertThatThrownBy(() -> MisfirePolicy.parse("later")).hasMessageContaining("fire-once, skip, catch-up");
  }

  @Test
  void overlapSkipsOnlyWhileThePreviousJobIsUnfinished() {
    assertThat(OverlapPolicy.SKIP.skips(Optional.of(JobState.RUNNING))).isTrue();
    assertThat(OverlapPolicy.SKIP.skips(Optional.of(JobState.READY))).isTrue();
    assertThat(OverlapPolicy.SKIP.skips(Optional.of(JobState.SCHEDULED))).isTrue();
    assertThat(OverlapPolicy.SKIP.skips(Optional.of(JobState.SUCCEEDED))).isFalse();
    assertThat(OverlapPolicy.SKIP.skips(Optional.of(JobState.DEAD))).isFalse();
    assertThat(OverlapPolicy.SKIP.skips(Optional.empty())).isFalse();
    assertThat(OverlapPolicy.ALLOW.skips(Optional.of(JobState.RUNNING))).isFalse();
  }

  @Test
  void timingChangesAreTold() {
    ScheduleSpec spec = ScheduleSpec.cron("n", "0 3 * * *", JOB);
    assertThat(spec.sameTiming(spec.withJob(JobTemplate.of("other", "1")).withPaused(true)
        .withMisfire(MisfirePolicy.SKIP))).isTrue();
    assertThat(spec.sameTiming(spec.withTimezone("Asia/Tokyo"))).isFalse();
  }
}
