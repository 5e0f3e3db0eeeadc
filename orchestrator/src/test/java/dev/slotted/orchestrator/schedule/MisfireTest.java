package dev.slotted.orchestrator.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class MisfireTest {

  private static final Duration THRESHOLD = Duration.ofSeconds(60);
  // Fires on every whole minute.
  private static final FireTimes MINUTELY =
      FireTimes.of(ScheduleSpec.cron("m", "* * * * *", JobTemplate.of("q", "{}")));

  private static Instant t(String hhmmss) {
    return Instant.parse("2026-06-01T" + hhmmss + "Z");
  }

  private static Misfire.Plan plan(MisfirePolicy policy, String cursor, String now, int maxCatchUp) {
    return Misfire.plan(MINUTELY, policy, t(cursor), t(now), THRESHOLD, maxCatchUp);
  }

  @Test
  void onTimeFireTimesFireUnderEveryPolicy() {
    for (MisfirePolicy p : MisfirePolicy.values()) {
      Misfire.Plan plan = plan(p, "10:00:00", "10:01:00.300", 10);
      assertThat(plan.fires()).as("%s", p).containsExactly(t("10:01:00"));
      assertThat(plan.latestMissed()).isEmpty();
      // A runner that took over 50 s late still fires it.
      assertThat(plan(p, "10:00:00", "10:01:50", 10).fires()).containsExactly(t("10:01:00"));
      // Within the threshold every fire time fires once, under every policy.
      assertThat(Misfire.plan(MINUTELY, p, t("10:00:00"), t("10:02:20"), Duration.ofSeconds(90), 1).fires())
          .containsExactly(t("10:01:00"), t("10:02:00"));
    }
  }

  @Test
  void nothingIsDueBeforeTheNextFireTime() {
    assertThat(plan(MisfirePolicy.FIRE_ONCE, "10:01:00", "10:01:59.999", 10).isEmpty()).isTrue();
    assertThat(plan(MisfirePolicy.CATCH_UP, "10:01:00", "10:01:00", 10).isEmpty()).isTrue();
  }

  @Test
  void fireOnceFiresTheLatestMissedOnly() {
    // Down from 10:00:30 to 12:00:30: 10:01 .. 11:59 are missed, 12:00 is on time.
    Misfire.Plan plan = plan(MisfirePolicy.FIRE_ONCE, "10:00:00", "12:00:30", 10);
    assertThat(plan.fires()).containsExactly(t("11:59:00"), t("12:00:00"));
    assertThat(plan.latestMissed()).contains(t("11:59:00"));
  }

  @Test
  void skipFiresNoneOfTheMissed() {
    Misfire.Plan plan = plan(MisfirePolicy.SKIP, "10:00:00", "12:00:30", 10);
    assertThat(plan.fires()).containsExactly(t("12:00:00"));
    assertThat(plan.latestMissed()).contains(t("11:59:00"));
    assertThat(plan(MisfirePolicy.SKIP, "10:00:00", "12:00:00.5", 10).fires()).containsExactly(t("12:00:00"));
  }

  @Test
  void catchUpFiresEachMissedUpToTheBoundTheLatestFirst() {
    Misfire.Plan plan = plan(MisfirePolicy.CATCH_UP, "10:00:00", "12:00:30", 3);
    assertThat(plan.fires()).containsExactly(t("11:57:00"), t("11:58:00"), t("11:59:00"), t("12:00:00"));
    // Fewer missed than the bound: all of them, oldest first.
    assertThat(plan(MisfirePolicy.CATCH_UP, "11:56:00", "12:00:30", 10).fires())
        .containsExactly(t("11:57:00"), t("11:58:00"), t("11:59:00"), t("12:00:00"));
  }

  @Test
  void aFireTimeAtTheCursorIsDone() {
    assertThat(plan(MisfirePolicy.CATCH_UP, "11:58:00", "12:00:30", 10).fires())
        .containsExactly(t("11:59:00"), t("12:00:00"));
  }

  @Test
  void aLongOutageCostsLittle() {
    // A per-second cron down for a year: the plan walks back, never through every missed time.
    FireTimes everySecond = FireTimes.of(ScheduleSpec.cron("s", "* * * * * *", JobTemplate.of("q", "{}")));
    long start = System.nanoTime();
    Misfire.Plan plan = Misfire.plan(everySecond, MisfirePolicy.CATCH_UP,
        Instant.parse("2025-06-01T00:00:00Z"), t("12:00:00.5"), Duration.ofSeconds(5), 4);
    assertThat(plan.fires()).containsExactly(
        t("11:59:52"), t("11:59:53"), t("11:59:54"), t("11:59:55"),
        t("11:59:56"), t("11:59:57"), t("11:59:58"), t("11:59:59"), t("12:00:00"));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void everySchedulesMisfireTheSameWay() {
    FireTimes every = FireTimes.of(ScheduleSpec.every("e", Duration.ofMinutes(15), JobTemplate.of("q", "{}"))
        .withAnchor(t("00:00:00")));
    Misfire.Plan plan = Misfire.plan(every, MisfirePolicy.FIRE_ONCE, t("01:00:00"), t("05:00:10"), THRESHOLD, 10);
    assertThat(plan.fires()).isEqualTo(List.of(t("04:45:00"), t("05:00:00")));
  }
}
