package dev.slotted.orchestrator.clock;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.slotted.orchestrator.clock.SlotClock.GetStatus;
import dev.slotted.orchestrator.clock.SlotClock.MembershipApplied;
import dev.slotted.orchestrator.clock.SlotClock.SetMembership;
import dev.slotted.orchestrator.clock.SlotClock.SlotWorkDone;
import dev.slotted.orchestrator.clock.SlotClock.Status;
import dev.slotted.orchestrator.clock.SlotClock.WindowClosed;
import dev.slotted.orchestrator.clock.SlotClock.WindowOpened;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The SlotClock under ManualTime: the scheduler only moves when the test says so, together with a
 * settable wall clock. Moving the wall clock further than the scheduler simulates a late tick.
 *
 * <p>The subscriber and the status reply share one probe: the clock's messages to it arrive in
 * order, so receiving the Status proves that no event was sent before it.
 */
class SlotClockTest {

  /** A cycle start for one-second cycles. */
  private static final long T0 = 1_700_000_000_000L;

  private static final long K = T0 / 1000;

  private static final ClockSettings TDMA =
      new ClockSettings(true, Duration.ofSeconds(1), Duration.ofMillis(20));

  private static ActorTestKit testKit;
  private static ManualTime manualTime;

  private final SettableClock clock = new SettableClock();
  private final TestProbe<Object> probe = testKit.createTestProbe();
  private final RecordingListener listener = new RecordingListener();
  private ActorRef<SlotClock.Command> slotClock;

  @BeforeAll
  static void startTestKit() {
    testKit = ActorTestKit.create(ManualTime.config().withFallback(ConfigFactory.load()));
    manualTime = ManualTime.get(testKit.system());
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  @AfterEach
  void stopClock() {
    if (slotClock != null) {
      testKit.stop(slotClock);
    }
  }

  @Test
  void opensAndClosesItsWindowEveryCycleOnTheEpochGrid() {
    clock.set(T0 + 100);
    start(TDMA, 0, 2);
    // Started inside its window: it opens at once with the window's true bounds.
    probe.expectMessage(opened(K, T0 + 20, T0 + 480));
    Status status = status();
    assertThat(status.open()).isTrue();
    assertThat(status.index()).isZero();
    assertThat(status.count()).isEqualTo(2);
    assertThat(status.cycle()).isEqualTo(K);
    assertThat(status.windowStartMs()).isEqualTo(20);
    assertThat(status.windowEndMs()).isEqualTo(480);

    stepTo(T0 + 479);
    assertThat(status().open()).isTrue();
    stepTo(T0 + 480);
    probe.expectMessage(new WindowClosed(K));
    assertThat(status().open()).isFalse();
    stepTo(T0 + 1019);
    status();
    stepTo(T0 + 1020);
    probe.expectMessage(opened(K + 1, T0 + 1020, T0 + 1480));
    stepTo(T0 + 1480);
    probe.expectMessage(new WindowClosed(K + 1));
    stepTo(T0 + 2020);
    probe.expectMessage(opened(K + 2, T0 + 2020, T0 + 2480));
    assertThat(status().missedWindows()).isZero();
  }

  @Test
  void aRunnerStartedAtAnyTimeUsesTheSameEpochAlignedWindows() {
    clock.set(T0 + 1300);
    start(TDMA, 1, 2);
    status(); // closed until its slot
    stepTo(T0 + 1520);
    probe.expectMessage(opened(K + 1, T0 + 1520, T0 + 1980));
    stepTo(T0 + 1980);
    probe.expectMessage(new WindowClosed(K + 1));
  }

  @Test
  void aLateTickInsideTheWindowStillOpensItWithTheTrueCloseTime() {
    clock.set(T0 + 600);
    start(TDMA, 0, 2);
    status();
    // The timer for T0+1020 fires, but the wall clock already reads T0+1300.
    clock.set(T0 + 1300);
    manualTime.timePasses(Duration.ofMillis(420));
    probe.expectMessage(opened(K + 1, T0 + 1020, T0 + 1480));
    assertThat(status().missedWindows()).isZero();
    // The single timer was re-armed to the true close, 180 ms on: the lateness is not carried over.
    passes(179);
    assertThat(status().open()).isTrue();
    passes(1);
    probe.expectMessage(new WindowClosed(K + 1));
  }

  @Test
  void aTickAfterTheWindowEndedSkipsItAndCountsItMissed() {
    clock.set(T0 + 600);
    start(TDMA, 0, 2, listener);
    status();
    clock.set(T0 + 1500); // the window [T0+1020, T0+1480) is already over
    manualTime.timePasses(Duration.ofMillis(420));
    Status status = status(); // no WindowOpened came first
    assertThat(status.open()).isFalse();
    assertThat(status.missedWindows()).isEqualTo(1);
    assertThat(listener.missed).containsExactly(K + 1);
    passes(519);
    status();
    passes(1);
    probe.expectMessage(opened(K + 2, T0 + 2020, T0 + 2480));
  }

  @Test
  void aPauseAcrossCyclesClosesTheOldWindowAndOpensTheCurrentOne() {
    clock.set(T0 + 100);
    start(TDMA, 0, 2);
    probe.expectMessage(opened(K, T0 + 20, T0 + 480));
    clock.set(T0 + 3100); // the close tick comes three cycles late
    manualTime.timePasses(Duration.ofMillis(380));
    probe.expectMessage(new WindowClosed(K));
    probe.expectMessage(opened(K + 3, T0 + 3020, T0 + 3480));
    assertThat(status().missedWindows()).isEqualTo(2);
  }

  @Test
  void aMembershipChangeTakesEffectAtTheNextCycleBoundary() {
    clock.set(T0 + 100);
    start(TDMA, 1, 2);
    status();
    slotClock.tell(new SetMembership(0, 1));
    Status before = status();
    assertThat(before.index()).isEqualTo(1);
    assertThat(before.count()).isEqualTo(2);
    // The rest of this cycle still follows the old membership: its slot is the second half.
    stepTo(T0 + 520);
    probe.expectMessage(opened(K, T0 + 520, T0 + 980));
    stepTo(T0 + 980);
    probe.expectMessage(new WindowClosed(K));
    stepTo(T0 + 999);
    assertThat(status().count()).isEqualTo(2);
    stepTo(T0 + 1000);
    probe.expectMessage(new MembershipApplied(K + 1, 0, 1));
    // Alone now: the window is the whole cycle and never closes.
    probe.expectMessageClass(WindowOpened.class);
    Status after = status();
    assertThat(after.index()).isZero();
    assertThat(after.count()).isEqualTo(1);
    assertThat(after.windowStartMs()).isZero();
    assertThat(after.windowEndMs()).isEqualTo(1000);
  }

  @Test
  void aChangeRevertedBeforeTheBoundaryNeverApplies() {
    clock.set(T0 + 100);
    start(TDMA, 0, 2);
    probe.expectMessage(opened(K, T0 + 20, T0 + 480));
    slotClock.tell(new SetMembership(1, 3));
    slotClock.tell(new SetMembership(0, 2));
    status();
    stepTo(T0 + 480);
    probe.expectMessage(new WindowClosed(K));
    stepTo(T0 + 1020);
    probe.expectMessage(opened(K + 1, T0 + 1020, T0 + 1480)); // no MembershipApplied before it
  }

  @Test
  void aSingleRunnerWithoutGuardStaysOpenUntilASecondRunnerJoins() {
    ClockSettings noGuard = new ClockSettings(true, Duration.ofSeconds(1), Duration.ZERO);
    clock.set(T0 + 100);
    start(noGuard, 0, 1);
    WindowOpened endless = probe.expectMessageClass(WindowOpened.class);
    assertThat(endless.endless()).isTrue();
    assertThat(endless.cycle()).isEqualTo(K);
    passes(2400); // no timer is armed: one step stands for any number of small ones
    assertThat(status().open()).isTrue(); // no event across the cycle boundaries
    slotClock.tell(new SetMembership(1, 2));
    status();
    stepTo(T0 + 3000);
    probe.expectMessage(new WindowClosed(K));
    probe.expectMessage(new MembershipApplied(K + 3, 1, 2));
    stepTo(T0 + 3500);
    probe.expectMessage(opened(K + 3, T0 + 3500, T0 + 4000));
  }

  @Test
  void aRunnerWithoutASlotOpensNoWindowUntilTheCycleItIsAdmittedIn() {
    clock.set(T0 + 100);
    slotClock = testKit.spawn(SlotClock.create(clock, TDMA, Membership.Assignment.none(2),
        List.of(probe.ref().narrow()), SlotClock.Listener.NONE));
    assertThat(status().index()).isEqualTo(Membership.NO_SLOT);
    slotClock.tell(new SetMembership(1, 3, K + 2));
    status();
    stepTo(T0 + 1500);
    assertThat(status().open()).isFalse(); // cycle K + 1: still no slot
    stepTo(T0 + 2000);
    probe.expectMessage(new MembershipApplied(K + 2, 1, 3));
    stepTo(T0 + 2353);
    probe.expectMessage(opened(K + 2, T0 + 2353, T0 + 2646));
  }

  @Test
  void aRunnerWhoseLeaseExpiredGivesUpItsSlotAtOnce() {
    clock.set(T0 + 100);
    start(TDMA, 0, 2);
    probe.expectMessage(opened(K, T0 + 20, T0 + 480));
    slotClock.tell(new SlotClock.SetLeaseExpiry(at(T0 + 2300)));
    status();
    stepTo(T0 + 480);
    probe.expectMessage(new WindowClosed(K));
    // A pause past the lease: the clock jumps into what would be its window of cycle K + 2.
    clock.set(T0 + 2290);
    manualTime.timePasses(Duration.ofMillis(1810));
    probe.expectMessage(new MembershipApplied(K + 2, Membership.NO_SLOT, 2));
    Status s = status(); // no window was opened
    assertThat(s.open()).isFalse();
    assertThat(s.index()).isEqualTo(Membership.NO_SLOT);
    // Admitted again later, with a renewed lease.
    slotClock.tell(new SlotClock.SetLeaseExpiry(at(T0 + 9000)));
    slotClock.tell(new SetMembership(0, 2, K + 4));
    status();
    stepTo(T0 + 4000);
    probe.expectMessage(new MembershipApplied(K + 4, 0, 2));
    stepTo(T0 + 4020);
    probe.expectMessage(opened(K + 4, T0 + 4020, T0 + 4480));
  }

  @Test
  void anInvalidMembershipIsIgnored() {
    clock.set(T0 + 600);
    start(TDMA, 0, 2);
    status();
    slotClock.tell(new SetMembership(0, 30)); // 33 ms slots cannot hold two 20 ms guards
    slotClock.tell(new SetMembership(2, 2));
    status();
    stepTo(T0 + 1020);
    probe.expectMessage(opened(K + 1, T0 + 1020, T0 + 1480)); // no MembershipApplied
    assertThat(status().count()).isEqualTo(2);
  }

  @Test
  void slotWorkIsSummedPerSlotAndOverrunsAreCountedOncePerSlot() {
    clock.set(T0 + 100);
    start(TDMA, 0, 2, listener);
    probe.expectMessage(opened(K, T0 + 20, T0 + 480));
    slotClock.tell(new SlotWorkDone(K, Duration.ofMillis(100), at(T0 + 300)));
    slotClock.tell(new SlotWorkDone(K, Duration.ofMillis(50), at(T0 + 480))); // ends at the close
    Status inTime = status();
    assertThat(inTime.lastWorkCycle()).isEqualTo(K);
    assertThat(inTime.lastSlotWorkMs()).isEqualTo(150);
    assertThat(inTime.overruns()).isZero();

    slotClock.tell(new SlotWorkDone(K, Duration.ofMillis(30), at(T0 + 481)));
    slotClock.tell(new SlotWorkDone(K, Duration.ofMillis(5), at(T0 + 490)));
    Status overran = status();
    assertThat(overran.overruns()).isEqualTo(1);
    assertThat(overran.lastSlotWorkMs()).isEqualTo(185);
    assertThat(listener.overruns).containsExactly(K);

    stepTo(T0 + 480);
    probe.expectMessage(new WindowClosed(K));
    stepTo(T0 + 1020);
    probe.expectMessage(opened(K + 1, T0 + 1020, T0 + 1480));
    slotClock.tell(new SlotWorkDone(K + 1, Duration.ofMillis(40), at(T0 + 1100)));
    slotClock.tell(new SlotWorkDone(K, Duration.ofMillis(10), at(T0 + 1200))); // late, same slot
    Status next = status();
    assertThat(next.lastWorkCycle()).isEqualTo(K + 1);
    assertThat(next.lastSlotWorkMs()).isEqualTo(40);
    assertThat(next.overruns()).isEqualTo(1);
    assertThat(listener.slotWork).containsExactly(new Work(K, Duration.ofMillis(185)));

    slotClock.tell(new SlotWorkDone(K + 1, Duration.ofMillis(1), at(T0 + 1481)));
    assertThat(status().overruns()).isEqualTo(2);
    assertThat(listener.overruns).containsExactly(K, K + 1);
  }

  @Test
  void continuousModeOpensOneEndlessWindowAndNeverClosesIt() {
    ClockSettings continuous =
        new ClockSettings(false, Duration.ofSeconds(1), Duration.ofMillis(20));
    clock.set(T0 + 100);
    start(continuous, 0, 1);
    probe.expectMessage(new WindowOpened(K, at(T0 + 100), Instant.MAX));
    passes(3000);
    Status status = status();
    assertThat(status.tdma()).isFalse();
    assertThat(status.open()).isTrue();
    assertThat(status.windowStartMs()).isZero();
    assertThat(status.windowEndMs()).isEqualTo(1000);

    slotClock.tell(new SetMembership(1, 3));
    status(); // the change is registered before time moves on
    stepTo(T0 + 4000);
    probe.expectMessage(new MembershipApplied(K + 4, 1, 3)); // and no WindowClosed
    Status after = status();
    assertThat(after.index()).isEqualTo(1);
    assertThat(after.count()).isEqualTo(3);
    assertThat(after.open()).isTrue();
    assertThat(after.windowEndMs()).isEqualTo(1000);

    // Reports carry the window's one cycle number; the work is summed by the cycle it ended in.
    slotClock.tell(new SlotWorkDone(K, Duration.ofMillis(10), at(T0 + 4100)));
    slotClock.tell(new SlotWorkDone(K, Duration.ofMillis(5), at(T0 + 4200)));
    Status work = status();
    assertThat(work.lastWorkCycle()).isEqualTo(K + 4);
    assertThat(work.lastSlotWorkMs()).isEqualTo(15);
    assertThat(work.overruns()).isZero();
    stepTo(T0 + 9000);
    status(); // still nothing
  }

  @Test
  void aLateSubscriberGetsTheOpenWindowAtOnceAndAnUnsubscribedOneNothing() {
    clock.set(T0 + 100);
    start(TDMA, 0, 2);
    probe.expectMessage(opened(K, T0 + 20, T0 + 480));
    TestProbe<Object> late = testKit.createTestProbe();
    slotClock.tell(new SlotClock.Subscribe(late.ref().narrow()));
    late.expectMessage(opened(K, T0 + 20, T0 + 480));
    slotClock.tell(new SlotClock.Unsubscribe(late.ref().narrow()));
    status();
    stepTo(T0 + 480);
    probe.expectMessage(new WindowClosed(K));
    slotClock.tell(new GetStatus(late.ref().narrow()));
    late.expectMessageClass(Status.class); // the close never reached it
  }

  // ---- helpers ------------------------------------------------------------------------------

  private void start(ClockSettings settings, int index, int count) {
    start(settings, index, count, SlotClock.Listener.NONE);
  }

  private void start(ClockSettings settings, int index, int count, SlotClock.Listener l) {
    slotClock =
        testKit.spawn(
            SlotClock.create(
                clock, settings, Membership.fixed(index, count), List.of(probe.ref().narrow()), l));
  }

  /** Replies in order after any event the clock sent before: fails if an event comes first. */
  private Status status() {
    slotClock.tell(new GetStatus(probe.ref().narrow()));
    return probe.expectMessageClass(Status.class);
  }

  /** Moves the wall clock and the scheduler together; the tick sees the clock already moved. */
  private void passes(long ms) {
    clock.advance(ms);
    manualTime.timePasses(Duration.ofMillis(ms));
  }

  private void stepTo(long epochMs) {
    passes(epochMs - clock.millis());
  }

  private static Instant at(long epochMs) {
    return Instant.ofEpochMilli(epochMs);
  }

  private static WindowOpened opened(long cycle, long opensAt, long closesAt) {
    return new WindowOpened(cycle, at(opensAt), at(closesAt));
  }

  private record Work(long cycle, Duration work) {}

  private static final class RecordingListener implements SlotClock.Listener {
    final List<Work> slotWork = new CopyOnWriteArrayList<>();
    final List<Long> overruns = new CopyOnWriteArrayList<>();
    final List<Long> missed = new CopyOnWriteArrayList<>();

    @Override
    public void slotWork(long cycle, Duration work) {
      slotWork.add(new Work(cycle, work));
    }

    @Override
    public void overrun(long cycle) {
      overruns.add(cycle);
    }

    @Override
    public void windowMissed(long cycle) {
      missed.add(cycle);
    }
  }
}
