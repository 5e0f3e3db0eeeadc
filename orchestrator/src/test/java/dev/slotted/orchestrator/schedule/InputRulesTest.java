package dev.slotted.orchestrator.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.protocol.FieldError;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Issue 9, item 5: the schedule rules that silently read one input as another. */
class InputRulesTest {
  private static final Instant FROM = Instant.parse("2026-06-01T00:00:00Z");

  private static List<Instant> fires(String cron) {
    return FireTimes.next(ScheduleSpec.cron("c", cron, JobTemplate.of("demo", "null")), FROM, 20);
  }

  @Test
  void aDayFieldThatSelectsEveryDayIsUnrestrictedHoweverItIsSpelled() {
    // Mondays only: day-of-month selects every day, so only day-of-week restricts.
    List<Instant> mondays = fires("0 0 * * 1");
    assertThat(fires("0 0 */1 * 1")).isEqualTo(mondays);
    assertThat(fires("0 0 1-31/1 * 1")).isEqualTo(mondays);
    assertThat(fires("0 0 1-31 * 1")).isEqualTo(mondays);
    // The 1st only: day-of-week selects every day.
    List<Instant> firsts = fires("0 0 1 * *");
    assertThat(fires("0 0 1 * */1")).isEqualTo(firsts);
    assertThat(fires("0 0 1 * 0-6")).isEqualTo(firsts);
    assertThat(fires("0 0 1 * 1-7")).isEqualTo(firsts);
  }

  @Test
  void twoRestrictedDayFieldsAreOredWhateverTheSpelling() {
    List<Instant> oddDaysOrMondays = fires("0 0 1-31/2 * 1");
    assertThat(fires("0 0 */2 * 1")).isEqualTo(oddDaysOrMondays);
    assertThat(oddDaysOrMondays).contains(Instant.parse("2026-06-01T00:00:00Z").plus(Duration.ofDays(7)));
    assertThat(oddDaysOrMondays).contains(Instant.parse("2026-06-03T00:00:00Z"));
    assertThat(fires("0 0 0 */1 * 1")).as("six fields").isEqualTo(mondays6());
  }

  private static List<Instant> mondays6() {
    return fires("0 0 0 * * 1");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "   "})
  void aBlankTimezoneIsRefusedNotReadAsUtc(String tz) {
    assertThat(fields(ScheduleSpec.cron("c", "0 3 * * *", JobTemplate.of("demo", "null")).withTimezone(tz)))
        .contains("timezone");
  }

  @ParameterizedTest
  @ValueSource(strings = {"GMT+5", "UTC+05:00", "+05:00", "Z", "europe/berlin", "EST"})
  void onlyIanaRegionIdsAreAccepted(String tz) {
    assertThat(fields(ScheduleSpec.cron("c", "0 3 * * *", JobTemplate.of("demo", "null")).withTimezone(tz)))
        .contains("timezone");
  }

  @ParameterizedTest
  @ValueSource(strings = {"UTC", "Europe/Berlin", "Etc/GMT+5", "America/New_York"})
  void ianaIdsAreAccepted(String tz) {
    assertThat(fields(ScheduleSpec.cron("c", "0 3 * * *", JobTemplate.of("demo", "null")).withTimezone(tz)))
        .isEmpty();
  }

  @Test
  void aJobTemplateTimeoutBeyondTheLimitOrBelowAMillisecondIsRefusedAtAddTime() {
    for (Duration t : List.of(Duration.ofHours(9_999_999_999_999L), Duration.ofNanos(100_000), Duration.ofDays(31))) {
      JobTemplate job = new JobTemplate("demo", "null", 0, null, List.of(), t);
      assertThat(fields(ScheduleSpec.cron("c", "0 3 * * *", job))).as(t.toString()).contains("job.timeout");
    }
  }

  @Test
  void aJobTemplatePayloadWithALoneSurrogateIsRefused() {
    JobTemplate job = JobTemplate.of("demo", "{\"a\":\"\ud800\"}");
    assertThat(fields(ScheduleSpec.cron("c", "0 3 * * *", job))).contains("job.payload");
  }

  private static List<String> fields(ScheduleSpec spec) {
    return spec.validate(2048).stream().map(FieldError::field).toList();
  }
}
