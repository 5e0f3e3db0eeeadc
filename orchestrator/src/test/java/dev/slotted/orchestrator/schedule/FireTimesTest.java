package dev.slotted.orchestrator.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneOffsetTransition;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * G4 against hand-written tables (expected values written as local time with its offset, derived
 * from each zone's published DST rules), and against a brute-force oracle over two full years.
 */
class FireTimesTest {

  private static final JobTemplate JOB = JobTemplate.of("reports", "{}");

  private static ScheduleSpec cron(String cron, String zone) {
    return ScheduleSpec.cron("s", cron, JOB).withTimezone(zone);
  }

  private static Instant at(String offsetDateTime) {
    return OffsetDateTime.parse(offsetDateTime).toInstant();
  }

  static Stream<Arguments> tables() {
    return Stream.of(
        // ---- America/New_York: gap 02:00-03:00 on 2026-03-08 and 2027-03-14, overlap 01:00-02:00
        // on 2026-11-01 and 2027-11-07.
        Arguments.of("America/New_York", "30 2 * * *", "2026-03-06T12:00-05:00", List.of(
            "2026-03-07T02:30-05:00", "2026-03-08T03:00-04:00", "2026-03-09T02:30-04:00",
            "2026-03-10T02:30-04:00")),
        Arguments.of("America/New_York", "0 * * * *", "2026-03-08T00:30-05:00", List.of(
            "2026-03-08T01:00-05:00", "2026-03-08T03:00-04:00", "2026-03-08T04:00-04:00")),
        Arguments.of("America/New_York", "*/15 * * * *", "2026-03-08T01:40-05:00", List.of(
            "2026-03-08T01:45-05:00", "2026-03-08T03:00-04:00", "2026-03-08T03:15-04:00")),
        Arguments.of("America/New_York", "*/30 * * * *", "2026-03-08T03:00-04:00", List.of(
            "2026-03-08T03:30-04:00", "2026-03-08T04:00-04:00")),
        Arguments.of("America/New_York", "30 1 * * *", "2026-10-30T12:00-04:00", List.of(
            "2026-10-31T01:30-04:00", "2026-11-01T01:30-04:00", "2026-11-02T01:30-05:00")),
        Arguments.of("America/New_York", "30 * * * *", "2026-11-01T00:00-04:00", List.of(
            "2026-11-01T00:30-04:00", "2026-11-01T01:30-04:00", "2026-11-01T02:30-05:00",
            "2026-11-01T03:30-05:00")),
        // From inside the second pass of the repeated hour: 01:30 already fired in the first pass.
        Arguments.of("America/New_York", "30 1 * * *", "2026-11-01T01:10-05:00", List.of(
            "2026-11-02T01:30-05:00")),
        Arguments.of("America/New_York", "0 0 2 * * *", "2027-03-13T12:00-05:00", List.of(
            "2027-03-14T03:00-04:00", "2027-03-15T02:00-04:00")),
        Arguments.of("America/New_York", "0 1 * * *", "2027-11-06T12:00-04:00", List.of(
            "2027-11-07T01:00-04:00", "2027-11-08T01:00-05:00")),
        Arguments.of("America/New_York", "30 2 * * 0", "2027-03-01T00:00-05:00", List.of(
            "2027-03-07T02:30-05:00", "2027-03-14T03:00-04:00", "2027-03-21T02:30-04:00")),

        // ---- Europe/Berlin: gap 02:00-03:00 on 2026-03-29 and 2027-03-28, overlap 02:00-03:00 on
        // 2026-10-25 and 2027-10-31.
        Arguments.of("Europe/Berlin", "30 2 * * *", "2026-03-28T12:00+01:00", List.of(
            "2026-03-29T03:00+02:00", "2026-03-30T02:30+02:00")),
        Arguments.of("Europe/Berlin", "30 2 * * *", "2026-10-24T12:00+02:00", List.of(
            "2026-10-25T02:30+02:00", "2026-10-26T02:30+01:00")),
        Arguments.of("Europe/Berlin", "0 * * * *", "2026-10-25T01:30+02:00", List.of(
            "2026-10-25T02:00+02:00", "2026-10-25T03:00+01:00", "2026-10-25T04:00+01:00")),
        Arguments.of("Europe/Berlin", "0 2 * * *", "2027-03-27T12:00+01:00", List.of(
            "2027-03-28T03:00+02:00", "2027-03-29T02:00+02:00")),
        Arguments.of("Europe/Berlin", "15 2 * * *", "2027-10-30T12:00+02:00", List.of(
            "2027-10-31T02:15+02:00", "2027-11-01T02:15+01:00")),
        Arguments.of("Europe/Berlin", "30 59 2 * * *", "2027-03-27T12:00+01:00", List.of(
            "2027-03-28T03:00+02:00", "2027-03-29T02:59:30+02:00")),

        // ---- Australia/Sydney (southern hemisphere): overlap 02:00-03:00 on 2026-04-05 and
        // 2027-04-04, gap 02:00-03:00 on 2026-10-04 and 2027-10-03.
        Arguments.of("Australia/Sydney", "30 2 * * *", "2026-04-04T12:00+11:00", List.of(
            "2026-04-05T02:30+11:00", "2026-04-06T02:30+10:00")),
        Arguments.of("Australia/Sydney", "30 2 * * *", "2026-10-03T12:00+10:00", List.of(
            "2026-10-04T03:00+11:00", "2026-10-05T02:30+11:00")),
        Arguments.of("Australia/Sydney", "0 2 * * *", "2027-04-03T12:00+11:00", List.of(
            "2027-04-04T02:00+11:00", "2027-04-05T02:00+10:00")),
        Arguments.of("Australia/Sydney", "0 2 * * *", "2027-10-02T12:00+10:00", List.of(
            "2027-10-03T03:00+11:00", "2027-10-04T02:00+11:00")),
        Arguments.of("Australia/Sydney", "0 * * * *", "2027-04-04T01:30+11:00", List.of(
            "2027-04-04T02:00+11:00", "2027-04-04T03:00+10:00")),

        // ---- Australia/Lord_Howe (30-minute shift): overlap 01:30-02:00 on 2026-04-05 and
        // 2027-04-04, gap 02:00-02:30 on 2026-10-04 and 2027-10-03.
        Arguments.of("Australia/Lord_Howe", "45 1 * * *", "2026-04-04T12:00+11:00", List.of(
            "2026-04-05T01:45+11:00", "2026-04-06T01:45+10:30")),
        Arguments.of("Australia/Lord_Howe", "*/15 * * * *", "2026-04-05T01:20+11:00", List.of(
            "2026-04-05T01:30+11:00", "2026-04-05T01:45+11:00", "2026-04-05T02:00+10:30",
            "2026-04-05T02:15+10:30")),
        Arguments.of("Australia/Lord_Howe", "15 2 * * *", "2026-10-03T12:00+10:30", List.of(
            "2026-10-04T02:30+11:00", "2026-10-05T02:15+11:00")),
        Arguments.of("Australia/Lord_Howe", "*/15 * * * *", "2026-10-04T01:50+10:30", List.of(
            "2026-10-04T02:30+11:00", "2026-10-04T02:45+11:00", "2026-10-04T03:00+11:00")),
        Arguments.of("Australia/Lord_Howe", "30 1 * * *", "2027-04-03T12:00+11:00", List.of(
            "2027-04-04T01:30+11:00", "2027-04-05T01:30+10:30")),
        Arguments.of("Australia/Lord_Howe", "0 2 * * *", "2027-10-02T12:00+10:30", List.of(
            "2027-10-03T02:30+11:00", "2027-10-04T02:00+11:00")),

        // ---- Asia/Tokyo: no DST; the other zones' transition days change nothing.
        Arguments.of("Asia/Tokyo", "30 2 * * *", "2026-03-07T12:00+09:00", List.of(
            "2026-03-08T02:30+09:00", "2026-03-09T02:30+09:00")),
        Arguments.of("Asia/Tokyo", "30 2 * * *", "2026-10-24T12:00+09:00", List.of(
            "2026-10-25T02:30+09:00", "2026-10-26T02:30+09:00")),
        Arguments.of("Asia/Tokyo", "0 * * * *", "2027-11-07T00:30+09:00", List.of(
            "2027-11-07T01:00+09:00", "2027-11-07T02:00+09:00", "2027-11-07T03:00+09:00")),

        // ---- UTC default, day-of-month OR day-of-week as in Vixie cron, month boundaries.
        Arguments.of("UTC", "0 0 13 * 5", "2026-01-01T00:00Z", List.of(
            "2026-01-02T00:00Z", "2026-01-09T00:00Z", "2026-01-13T00:00Z", "2026-01-16T00:00Z")),
        Arguments.of("UTC", "0 12 29 2 *", "2026-01-01T00:00Z", List.of(
            "2028-02-29T12:00Z", "2032-02-29T12:00Z")),
        Arguments.of("UTC", "@daily", "2026-12-31T00:00Z", List.of(
            "2027-01-01T00:00Z", "2027-01-02T00:00Z")));
  }

  @ParameterizedTest(name = "{0} [{1}] after {2}")
  @MethodSource("tables")
  void nextFireTimesFollowG4(String zone, String cron, String from, List<String> expected) {
    List<Instant> actual = FireTimes.next(cron(cron, zone), at(from), expected.size());
    assertThat(actual).containsExactlyElementsOf(expected.stream().map(FireTimesTest::at).toList());
  }

  @ParameterizedTest(name = "{0} [{1}] before the last of the table")
  @MethodSource("tables")
  void latestBeforeWalksTheSameTableBackwards(String zone, String cron, String from, List<String> expected) {
    FireTimes times = FireTimes.of(cron(cron, zone));
    List<Instant> want = expected.stream().map(FireTimesTest::at).toList();
    for (int i = want.size() - 1; i > 0; i--) {
      assertThat(times.latestBefore(want.get(i))).contains(want.get(i - 1));
    }
  }

  // ---- brute force over two years ----------------------------------------------------------------

  record Oracle(String cron, Predicate<LocalDateTime> matches) {}

  static Stream<Arguments> twoYears() {
    List<Oracle> oracles = List.of(
        new Oracle("*/30 0-4 * * *", t -> t.getMinute() % 30 == 0 && t.getHour() <= 4),
        new Oracle("30 2 * * *", t -> t.getHour() == 2 && t.getMinute() == 30),
        new Oracle("15 1,2,3 * * 0", t -> t.getMinute() == 15 && t.getHour() >= 1 && t.getHour() <= 3
            && t.getDayOfWeek().getValue() == 7),
        new Oracle("45 1-2 * 3,4,10,11 *", t -> t.getMinute() == 45 && (t.getHour() == 1 || t.getHour() == 2)
            && List.of(3, 4, 10, 11).contains(t.getMonthValue())));
    return Stream.of("America/New_York", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Tokyo")
        .flatMap(z -> oracles.stream().map(o -> Arguments.of(z, o)));
  }

  /**
   * Every local quarter-hour of 2026 and 2027 is checked against the cron by hand and mapped per G4 with
   * java.time's transition data; the fire times must be exactly that set, each once, in order.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("twoYears")
  void matchesABruteForceOracleOverTwoYears(String zoneId, Oracle oracle) {
    ZoneId zone = ZoneId.of(zoneId);
    LocalDateTime start = LocalDateTime.of(2026, 1, 1, 0, 0);
    LocalDateTime end = LocalDateTime.of(2028, 1, 1, 0, 0);
    List<Instant> expected = new ArrayList<>();
    // Every oracle fires on multiples of 15 minutes, the finest step any of these zones shifts by.
    for (LocalDateTime t = start; t.isBefore(end); t = t.plusMinutes(15)) {
      if (!oracle.matches().test(t)) {
        continue;
      }
      Instant fire;
      ZoneOffsetTransition tr = zone.getRules().getTransition(t);
      if (tr != null && tr.isGap()) {
        fire = tr.getInstant();
      } else {
        fire = t.atZone(zone).withEarlierOffsetAtOverlap().toInstant();
      }
      if (expected.isEmpty() || !expected.get(expected.size() - 1).equals(fire)) {
        expected.add(fire);
      }
    }
    Instant from = start.atZone(zone).toInstant().minusNanos(1);
    Instant until = end.atZone(zone).toInstant();
    FireTimes times = FireTimes.of(cron(oracle.cron(), zoneId));
    List<Instant> actual = new ArrayList<>();
    while (true) {
      List<Instant> page = times.next(from, FireTimes.MAX_COUNT);
      boolean done = false;
      for (Instant i : page) {
        if (!i.isBefore(until)) {
          done = true;
          break;
        }
        actual.add(i);
      }
      if (done || page.isEmpty()) {
        break;
      }
      from = page.get(page.size() - 1);
    }
    assertThat(actual).as("fire times").containsExactlyElementsOf(expected);
    assertThat(actual).doesNotHaveDuplicates().isSorted();

    // latestBefore agrees with the same set at random instants (and right at each fire time).
    Random random = new Random(zoneId.hashCode() ^ oracle.cron().hashCode());
    long span = until.getEpochSecond() - expected.get(0).getEpochSecond();
    for (int n = 0; n < 300; n++) {
      Instant x = expected.get(0).plusSeconds(1 + (long) (random.nextDouble() * span));
      if (n % 3 == 0) {
        x = expected.get(1 + random.nextInt(expected.size() - 1));
      }
      Instant probe = x;
      Instant want = expected.stream().filter(i -> i.isBefore(probe)).reduce((a, b) -> b).orElseThrow();
      assertThat(times.latestBefore(x)).as("latest before %s", x).contains(want);
    }
  }

  @Test
  void nothingFiresInTheSecondPassOfARepeatedHour() {
    // Every local second of 01:00-01:59 fired in the first pass (EDT); the second pass (EST) is silent.
    FireTimes perSecond = FireTimes.of(cron("* * * * * *", "America/New_York"));
    Instant secondPass = at("2026-11-01T01:30:00.500-05:00");
    assertThat(perSecond.nextAfter(secondPass)).contains(at("2026-11-01T02:00:00-05:00"));
    assertThat(perSecond.latestBefore(secondPass)).contains(at("2026-11-01T01:59:59-04:00"));
    assertThat(perSecond.latestBefore(at("2026-11-01T02:00:00-05:00"))).contains(at("2026-11-01T01:59:59-04:00"));
    assertThat(perSecond.latestBefore(at("2026-11-01T02:00:01-05:00"))).contains(at("2026-11-01T02:00:00-05:00"));
    FireTimes daily = FireTimes.of(cron("30 1 * * *", "America/New_York"));
    assertThat(daily.latestBefore(at("2026-11-01T01:45-05:00"))).contains(at("2026-11-01T01:30-04:00"));
    assertThat(daily.latestBefore(at("2026-11-01T01:15-05:00"))).contains(at("2026-11-01T01:30-04:00"));
    assertThat(daily.latestBefore(at("2026-11-01T01:30-04:00"))).contains(at("2026-10-31T01:30-04:00"));
    // Lord Howe's half-hour overlap: 01:30-02:00 repeats.
    FireTimes lh = FireTimes.of(cron("45 1 * * *", "Australia/Lord_Howe"));
    assertThat(lh.latestBefore(at("2026-04-05T01:50+10:30"))).contains(at("2026-04-05T01:45+11:00"));
    assertThat(lh.nextAfter(at("2026-04-05T01:40+10:30"))).contains(at("2026-04-06T01:45+10:30"));
  }

  // ---- every ---------------------------------------------------------------------------------------

  @Test
  void everyIsFixedIntervalFromTheAnchorUnaffectedByDst() {
    Instant anchor = at("2026-10-31T22:17:05-04:00");
    ScheduleSpec spec = ScheduleSpec.every("e", Duration.ofHours(1), JOB)
        .withAnchor(anchor).withTimezone("America/New_York");
    List<Instant> fires = FireTimes.next(spec, at("2026-11-01T00:00-04:00"), 30);
    assertThat(fires.get(0)).isEqualTo(at("2026-11-01T00:17:05-04:00"));
    for (int i = 1; i < fires.size(); i++) {
      assertThat(Duration.between(fires.get(i - 1), fires.get(i))).isEqualTo(Duration.ofHours(1));
    }
    // The fall-back day has 25 hours, and an hourly interval fires in all of them.
    long onThatDay = fires.stream()
        .filter(i -> i.atZone(ZoneId.of("America/New_York")).toLocalDate().getDayOfMonth() == 1)
        .count();
    // 00:17 .. 23:17 local with 01:17 twice: the interval ignores the wall clock.
    assertThat(onThatDay).isEqualTo(25);
  }

  @Test
  void everyStartsAtTheAnchorAndIsStrictlyAfterFrom() {
    Instant anchor = Instant.parse("2026-05-01T10:00:00Z");
    FireTimes times = FireTimes.of(ScheduleSpec.every("e", Duration.ofMinutes(10), JOB).withAnchor(anchor));
    assertThat(times.next(Instant.parse("2026-04-01T00:00:00Z"), 2))
        .containsExactly(anchor, anchor.plus(10, ChronoUnit.MINUTES));
    assertThat(times.next(anchor, 1)).containsExactly(Instant.parse("2026-05-01T10:10:00Z"));
    assertThat(times.next(Instant.parse("2026-05-01T10:09:59.999Z"), 1))
        .containsExactly(Instant.parse("2026-05-01T10:10:00Z"));
    assertThat(times.latestBefore(Instant.parse("2026-05-01T10:10:00Z"))).contains(anchor);
    assertThat(times.latestBefore(Instant.parse("2026-05-01T10:10:00.001Z")))
        .contains(Instant.parse("2026-05-01T10:10:00Z"));
    assertThat(times.latestBefore(anchor)).isEmpty();
  }

  // ---- limits ----------------------------------------------------------------------------------------

  @Test
  void countIsBoundedAndAFireTimeIsStrictlyAfterFrom() {
    FireTimes times = FireTimes.of(cron("* * * * * *", "UTC"));
    Instant from = Instant.parse("2026-01-01T00:00:00Z");
    assertThat(times.next(from, 100)).hasSize(100).first().isEqualTo(from.plusSeconds(1));
    assertThat(times.next(from.plusMillis(500), 1)).containsExactly(from.plusSeconds(1));
    assertThat(times.next(from, 0)).isEmpty();
    assertThatThrownBy(() -> times.next(from, 101)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> times.next(from, -1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anInstantInsideAGapMapsToTheEndOfTheGap() {
    FireTimes times = FireTimes.of(cron("0 0 * * *", "America/New_York"));
    assertThat(times.toInstant(LocalDateTime.of(2026, 3, 8, 2, 59, 59)))
        .isEqualTo(at("2026-03-08T03:00-04:00"));
    assertThat(times.toInstant(LocalDateTime.of(2026, 11, 1, 1, 0)))
        .isEqualTo(LocalDateTime.of(2026, 11, 1, 1, 0).toInstant(ZoneOffset.ofHours(-4)));
  }
}
