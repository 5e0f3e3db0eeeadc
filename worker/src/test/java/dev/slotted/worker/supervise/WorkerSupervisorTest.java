package dev.slotted.worker.supervise;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.protocol.AttemptOutcome;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.WorkerProtocol;
import dev.slotted.protocol.WorkerProtocol.Dispatch;
import dev.slotted.protocol.WorkerProtocol.Drained;
import dev.slotted.protocol.WorkerProtocol.Event;
import dev.slotted.protocol.WorkerProtocol.Finished;
import dev.slotted.protocol.WorkerProtocol.CapacityReport;
import dev.slotted.protocol.WorkerProtocol.Running;
import dev.slotted.protocol.WorkerProtocol.RunningJob;
import dev.slotted.protocol.WorkerProtocol.Started;
import dev.slotted.worker.Cancellation;
import dev.slotted.worker.JobHandler;
import dev.slotted.worker.JobResult;
import dev.slotted.worker.handler.HandlerRegistry;
import dev.slotted.worker.handler.NoopHandler;
import dev.slotted.worker.handler.SleepHandler;
import dev.slotted.worker.testing.GateHandler;
import dev.slotted.worker.testing.Jobs;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WorkerSupervisorTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @JUnit5TestKit ActorTestKit testKit = new JUnit5TestKitBuilder().build();

  @TempDir Path logDir;

  private ActorRef<WorkerProtocol.Command> supervisor(WorkerSettings settings, Map<String, JobHandler> handlers) {
    return testKit.spawn(WorkerSupervisor.create(settings, HandlerRegistry.of(handlers), Clock.systemUTC()));
  }

  private ActorRef<WorkerProtocol.Command> supervisor(
      WorkerSettings settings, Map<String, JobHandler> handlers, WorkerMetrics metrics) {
    return testKit.spawn(
        WorkerSupervisor.create(settings, HandlerRegistry.of(handlers), Clock.systemUTC(), metrics));
  }

  /** The supervisor's capacity as of now (a fresh subscriber gets it at once). */
  private CapacityReport report(ActorRef<WorkerProtocol.Command> sup) {
    TestProbe<CapacityReport> probe = testKit.createTestProbe();
    sup.tell(new WorkerProtocol.Subscribe(probe.ref()));
    return probe.receiveMessage(WAIT);
  }

  private List<RunningJob> running(ActorRef<WorkerProtocol.Command> sup) {
    TestProbe<Running> probe = testKit.createTestProbe();
    sup.tell(new WorkerProtocol.GetRunning(probe.ref()));
    return probe.receiveMessage(WAIT).jobs();
  }

  private static Finished finished(TestProbe<Event> events, String jobId) {
    while (true) {
      Event e = events.receiveMessage(WAIT);
      if (e instanceof Finished f && f.job().id().equals(jobId)) {
        return f;
      }
    }
  }

  private static List<Finished> finishedAll(TestProbe<Event> events, int n) {
    List<Finished> out = new ArrayList<>();
    while (out.size() < n) {
      Event e = events.receiveMessage(WAIT);
      if (e instanceof Finished f) {
        out.add(f);
      }
    }
    return out;
  }

  @Test
  void noopJobStartsAndFinishesWithItsLeaseToken() {
    var sup = supervisor(WorkerSettings.of(2, logDir), Map.of("q", new NoopHandler()));
    TestProbe<Event> events = testKit.createTestProbe();
    assertThat(report(sup).idle()).isEqualTo(2);
    ClaimedJob job = Jobs.job("q", "{}");
    sup.tell(new Dispatch(List.of(job), events.ref()));

    Started started = events.expectMessageClass(Started.class, WAIT);
    assertThat(started.job()).isEqualTo(job);
    assertThat(started.worker()).isEqualTo("w-1");
    Finished f = events.expectMessageClass(Finished.class, WAIT);
    Completion c = f.completion();
    assertThat(c.outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
    assertThat(c.jobId()).isEqualTo(job.id());
    assertThat(c.leaseToken()).isEqualTo(job.leaseToken());
    assertThat(c.worker()).isEqualTo("w-1");
    assertThat(f.startedAt()).isEqualTo(started.startedAt());
    assertThat(c.startedAt()).isEqualTo(started.startedAt());
    assertThat(running(sup)).isEmpty();
    CapacityReport after = report(sup);
    assertThat(after.idle()).isEqualTo(2);
    assertThat(after.received()).isEqualTo(1);
  }

  @Test
  void neverRunsMoreThanCapacityBuffersTheRestAndPushesWhatItCanTake() throws Exception {
    GateHandler gate = new GateHandler();
    var sup = supervisor(WorkerSettings.of(3, logDir), Map.of("g", gate));
    TestProbe<Event> events = testKit.createTestProbe();
    TestProbe<CapacityReport> pushed = testKit.createTestProbe();
    sup.tell(new WorkerProtocol.Subscribe(pushed.ref()));
    assertThat(pushed.receiveMessage(WAIT).idle()).isEqualTo(3);

    // More than capacity: the extra jobs wait in the buffer, they never run beyond capacity.
    List<ClaimedJob> jobs = List.of(Jobs.job("g", "{}"), Jobs.job("g", "{}"), Jobs.job("g", "{}"), Jobs.job("g", "{}"));
    sup.tell(new Dispatch(jobs.subList(0, 1), events.ref()));
    sup.tell(new Dispatch(jobs.subList(1, 4), events.ref()));
    gate.awaitStarted(3, WAIT);
    assertThat(running(sup)).hasSize(4).filteredOn(j -> j.worker() == null).hasSize(1);
    assertThat(gate.running()).isEqualTo(3);
    CapacityReport full = pushed.fishForMessage(WAIT, r -> r.received() == 4
        ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
        : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore()).get(0);
    assertThat(full.idle()).isZero();
    assertThat(full.buffered()).isEqualTo(1);

    gate.releaseAll();
    gate.awaitStarted(4, WAIT);
    gate.releaseAll();
    List<Finished> done = finishedAll(events, 4);
    assertThat(done).allMatch(f -> f.completion().outcome() == AttemptOutcome.SUCCEEDED);
    assertThat(gate.maxRunning()).isEqualTo(3);
    testKit.createTestProbe().awaitAssert(WAIT, () -> {
      assertThat(report(sup).idle()).isEqualTo(3);
      return null;
    });
  }

  @Test
  void theBufferStartsTheHighestPriorityFirstWhateverTheArrivalOrder() throws Exception {
    GateHandler gate = new GateHandler();
    var sup = supervisor(WorkerSettings.of(1, logDir), Map.of("g", gate));
    TestProbe<Event> events = testKit.createTestProbe();
    ClaimedJob first = Jobs.job("g", "{}");
    sup.tell(new Dispatch(List.of(first), events.ref()));
    gate.awaitStarted(1, WAIT);
    List<ClaimedJob> low = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      low.add(Jobs.withPriority(Jobs.job("g", "{}"), 0));
    }
    sup.tell(new Dispatch(low, events.ref()));
    ClaimedJob high = Jobs.withPriority(Jobs.job("g", "{}"), 10);
    sup.tell(new Dispatch(List.of(high), events.ref()));
    testKit.createTestProbe().awaitAssert(WAIT, () -> {
      assertThat(report(sup).buffered()).isEqualTo(4);
      return null;
    });
    List<String> order = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      Event e;
      do {
        e = events.receiveMessage(WAIT);
      } while (!(e instanceof Started));
      String id = ((Started) e).job().id();
      order.add(id);
      gate.release(id); // one worker: the next start comes only after this one ends
    }
    assertThat(order.get(0)).isEqualTo(first.id());
    assertThat(order.get(1)).isEqualTo(high.id());
    assertThat(order.subList(2, 5)).containsExactlyElementsOf(low.stream().map(ClaimedJob::id).toList());
    gate.releaseAll();
  }

  @Test
  void perQueueConcurrencyLimitsRunningAttemptsAndTheRoomItReports() throws Exception {
    GateHandler gate = new GateHandler();
    WorkerSettings s = WorkerSettings.of(6, logDir).withQueue("limited", 2, null);
    var sup = supervisor(s, Map.of("limited", gate, "free", new NoopHandler()));
    TestProbe<Event> events = testKit.createTestProbe();
    assertThat(report(sup).room()).containsExactly(Map.entry("limited", 2));

    // An orchestrator that dispatches 3 of the limited queue gets at most 2 running.
    List<ClaimedJob> jobs = List.of(Jobs.job("limited", "{}"), Jobs.job("limited", "{}"), Jobs.job("limited", "{}"));
    sup.tell(new Dispatch(jobs, events.ref()));
    gate.awaitStarted(2, WAIT);
    List<RunningJob> running = running(sup);
    assertThat(running).hasSize(3);
    assertThat(running.stream().filter(j -> j.worker() == null).count()).isEqualTo(1);
    CapacityReport r = report(sup);
    assertThat(r.room()).as("one of the two buffer places is taken").containsEntry("limited", 1);
    assertThat(r.receivedByQueue()).containsEntry("limited", 3L);

    // Other queues still run meanwhile.
    ClaimedJob other = Jobs.job("free", "{}");
    sup.tell(new Dispatch(List.of(other), events.ref()));
    assertThat(finished(events, other.id()).completion().outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);

    for (int i = 0; i < 3; i++) {
      gate.releaseAll();
      if (i < 2) {
        gate.awaitStarted(3, WAIT);
      }
    }
    Set<String> ids = jobs.stream().map(ClaimedJob::id).collect(Collectors.toSet());
    List<Finished> done = new ArrayList<>();
    while (done.size() < 3) {
      Event e = events.receiveMessage(WAIT);
      if (e instanceof Finished f && ids.contains(f.job().id())) {
        done.add(f);
      }
    }
    assertThat(gate.maxRunning()).isEqualTo(2);
  }

  @Test
  void takeBufferHandsBackWhatHasNotStartedAndAcceptsNoMore() throws Exception {
    GateHandler gate = new GateHandler();
    var sup = supervisor(WorkerSettings.of(1, logDir), Map.of("g", gate));
    TestProbe<Event> events = testKit.createTestProbe();
    List<ClaimedJob> jobs = List.of(Jobs.job("g", "{}"), Jobs.job("g", "{}"), Jobs.job("g", "{}"));
    sup.tell(new Dispatch(jobs, events.ref()));
    gate.awaitStarted(1, WAIT);
    TestProbe<Running> taken = testKit.createTestProbe();
    sup.tell(new WorkerProtocol.TakeBuffer(taken.ref()));
    assertThat(taken.receiveMessage(WAIT).jobs()).extracting(RunningJob::jobId)
        .containsExactlyInAnyOrder(jobs.get(1).id(), jobs.get(2).id());
    assertThat(report(sup).accepting()).isFalse();
    assertThat(running(sup)).extracting(RunningJob::jobId).containsExactly(jobs.get(0).id());
    gate.releaseAll();
    assertThat(finished(events, jobs.get(0).id()).completion().outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
  }

  @Test
  void timeoutStopsTheHandlerAndReportsTimedOut() {
    var sup = supervisor(WorkerSettings.of(2, logDir), Map.of("sleep", new SleepHandler()));
    TestProbe<Event> events = testKit.createTestProbe();
    ClaimedJob job = Jobs.job("sleep", "{\"ms\": 60000}", 1, Duration.ofMillis(200));
    sup.tell(new Dispatch(List.of(job), events.ref()));
    Completion c = finished(events, job.id()).completion();
    assertThat(c.outcome()).isEqualTo(AttemptOutcome.TIMED_OUT);
    assertThat(c.retryable()).isTrue();
    assertThat(c.leaseToken()).isEqualTo(job.leaseToken());
    assertThat(c.error()).contains("timed out");
  }

  @Test
  void queueTimeoutAppliesWhenTheJobHasNone() {
    WorkerSettings s = WorkerSettings.of(2, logDir).withQueue("sleep", 0, Duration.ofMillis(150));
    var sup = supervisor(s, Map.of("sleep", new SleepHandler()));
    TestProbe<Event> events = testKit.createTestProbe();
    ClaimedJob job = Jobs.job("sleep", "{\"ms\": 60000}");
    sup.tell(new Dispatch(List.of(job), events.ref()));
    assertThat(finished(events, job.id()).completion().outcome()).isEqualTo(AttemptOutcome.TIMED_OUT);
  }

  @Test
  void aHandlerIgnoringItsCancelIsInterruptedAfterTheStopTimeout() {
    JobHandler stubborn =
        ctx -> {
          Thread.sleep(60_000); // ignores the cancellation signal; only an interrupt ends it
          return JobResult.success();
        };
    WorkerSettings s = WorkerSettings.of(1, logDir).withStopTimeout(Duration.ofMillis(200));
    var sup = supervisor(s, Map.of("q", stubborn));
    TestProbe<Event> events = testKit.createTestProbe();
    ClaimedJob job = Jobs.job("q", "{}", 1, Duration.ofMillis(100));
    sup.tell(new Dispatch(List.of(job), events.ref()));
    Completion c = finished(events, job.id()).completion();
    assertThat(c.outcome()).isEqualTo(AttemptOutcome.TIMED_OUT);
    // The worker is free again.
    assertThat(report(sup).idle()).isEqualTo(1);
  }

  @Test
  void stopCancelsTheAttemptAndReportsNothing() throws Exception {
    GateHandler gate = new GateHandler();
    var sup = supervisor(WorkerSettings.of(2, logDir), Map.of("g", gate));
    TestProbe<Event> events = testKit.createTestProbe();
    ClaimedJob job = Jobs.job("g", "{}");
    ClaimedJob other = Jobs.job("g", "{}");
    sup.tell(new Dispatch(List.of(job, other), events.ref()));
    gate.awaitStarted(2, WAIT);
    assertThat(running(sup)).extracting(RunningJob::leaseToken)
        .containsExactlyInAnyOrder(job.leaseToken(), other.leaseToken());

    sup.tell(new WorkerProtocol.Stop(Map.of(job.id(), job.leaseToken()), "cancelled"));
    assertThat(running(sup)).extracting(RunningJob::jobId).containsExactly(other.id());
    gate.release(other.id());
    // The next event after both Started is the other job's Finished; the stopped one never reports.
    assertThat(finished(events, other.id()).completion().outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
    events.expectNoMessage(Duration.ofMillis(200));
    assertThat(gate.cancelReason(job.id())).isEqualTo(Cancellation.Reason.STOPPED);
    assertThat(report(sup).idle()).isEqualTo(2);
  }

  @Test
  void aStopNamesALeaseNotAJobSoALaterAttemptOfTheSameJobRunsOn() throws Exception {
    GateHandler gate = new GateHandler();
    var sup = supervisor(WorkerSettings.of(1, logDir), Map.of("g", gate));
    TestProbe<Event> events = testKit.createTestProbe();
    ClaimedJob first = Jobs.withId("job-x", "g", "{}");
    sup.tell(new Dispatch(List.of(first), events.ref()));
    gate.awaitStarted(1, WAIT);
    sup.tell(new WorkerProtocol.Stop(Map.of(first.id(), first.leaseToken()), "lease lost"));
    testKit.createTestProbe().awaitAssert(WAIT, () -> {
      assertThat(running(sup)).isEmpty();
      assertThat(report(sup).idle()).isEqualTo(1);
      return null;
    });
    // The same job, claimed again with a new lease: a stale renewal names the old one.
    ClaimedJob again = Jobs.withId("job-x", "g", "{}");
    ClaimedJob buffered = Jobs.job("g", "{}");
    sup.tell(new Dispatch(List.of(again, buffered), events.ref()));
    gate.awaitStarted(2, WAIT);
    sup.tell(new WorkerProtocol.Stop(Map.of(first.id(), first.leaseToken()), "stale renewal"));
    assertThat(running(sup)).extracting(RunningJob::leaseToken)
        .containsExactlyInAnyOrder(again.leaseToken(), buffered.leaseToken());
    // A buffered job whose lease is gone (cancelled) leaves the buffer without running.
    sup.tell(new WorkerProtocol.Stop(Map.of(buffered.id(), buffered.leaseToken()), "cancelled"));
    assertThat(running(sup)).extracting(RunningJob::leaseToken).containsExactly(again.leaseToken());
    gate.release(again.id());
    assertThat(finished(events, again.id()).completion().leaseToken()).isEqualTo(again.leaseToken());
    events.expectNoMessage(Duration.ofMillis(300));
    assertThat(gate.started()).isEqualTo(2);
  }

  @Test
  void drainLetsAttemptsFinishWithinGraceThenInterruptsTheRest() throws Exception {
    GateHandler gate = new GateHandler();
    var sup = supervisor(WorkerSettings.of(3, logDir), Map.of("g", gate));
    TestProbe<Event> events = testKit.createTestProbe();
    TestProbe<Drained> drained = testKit.createTestProbe();
    ClaimedJob quick = Jobs.job("g", "{}");
    ClaimedJob slow = Jobs.job("g", "{}");
    sup.tell(new Dispatch(List.of(quick, slow), events.ref()));
    gate.awaitStarted(2, WAIT);

    sup.tell(new WorkerProtocol.Drain(Duration.ofSeconds(2), drained.ref()));
    assertThat(report(sup).accepting()).isFalse();
    gate.release(quick.id());
    assertThat(finished(events, quick.id()).completion().outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
    drained.expectNoMessage(Duration.ofMillis(200));

    Drained d = drained.receiveMessage(WAIT);
    assertThat(d.interrupted()).extracting(RunningJob::jobId).containsExactly(slow.id());
    assertThat(d.interrupted().get(0).leaseToken()).isEqualTo(slow.leaseToken());
    assertThat(gate.cancelReason(slow.id())).isEqualTo(Cancellation.Reason.SHUTDOWN);
    assertThat(gate.running()).isZero();
    events.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void drainWithNothingRunningRepliesAtOnce() {
    var sup = supervisor(WorkerSettings.of(1, logDir), Map.of("q", new NoopHandler()));
    TestProbe<Drained> drained = testKit.createTestProbe();
    sup.tell(new WorkerProtocol.Drain(Duration.ofSeconds(30), drained.ref()));
    assertThat(drained.receiveMessage(Duration.ofSeconds(2)).interrupted()).isEmpty();
  }

  @Test
  void crashedWorkerRestartsWithBackoffWhileOtherJobsKeepRunning() throws Exception {
    GateHandler gate = new GateHandler();
    JobHandler crashing =
        ctx -> {
          throw new AssertionError("boom"); // an Error is a worker crash, not a job failure
        };
    WorkerMetrics.Counting metrics = WorkerMetrics.counting();
    WorkerSettings s =
        WorkerSettings.of(2, logDir).withRestartBackoff(Duration.ofMillis(300), Duration.ofSeconds(1), 0.0);
    var sup = supervisor(s, Map.of("g", gate, "crash", crashing), metrics);
    TestProbe<Event> events = testKit.createTestProbe();

    ClaimedJob held = Jobs.job("g", "{}");
    sup.tell(new Dispatch(List.of(held), events.ref()));
    gate.awaitStarted(1, WAIT);
    ClaimedJob bad = Jobs.job("crash", "{}");
    sup.tell(new Dispatch(List.of(bad), events.ref()));

    Completion c = finished(events, bad.id()).completion();
    assertThat(c.outcome()).isEqualTo(AttemptOutcome.FAILED);
    assertThat(c.retryable()).isTrue();
    assertThat(c.error()).contains("crashed").contains("boom");
    assertThat(c.leaseToken()).isEqualTo(bad.leaseToken());
    assertThat(metrics.restarts()).isEqualTo(1);

    // The other attempt was untouched and still completes.
    gate.release(held.id());
    assertThat(finished(events, held.id()).completion().outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);

    // After the backoff the restarted worker serves again: both slots are free.
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(5), () -> {
      assertThat(report(sup).idle()).isEqualTo(2);
      return null;
    });
    ClaimedJob after = Jobs.job("g", "{}");
    gate.release(after.id());
    sup.tell(new Dispatch(List.of(after), events.ref()));
    assertThat(finished(events, after.id()).completion().outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
  }

  @Test
  void jobFailuresAreNotCrashes() {
    JobHandler failing =
        ctx -> {
          throw new IllegalStateException("bad input");
        };
    WorkerMetrics.Counting metrics = WorkerMetrics.counting();
    var sup = supervisor(WorkerSettings.of(1, logDir), Map.of("f", failing), metrics);
    TestProbe<Event> events = testKit.createTestProbe();
    ClaimedJob job = Jobs.job("f", "{}");
    sup.tell(new Dispatch(List.of(job), events.ref()));
    Completion c = finished(events, job.id()).completion();
    assertThat(c.outcome()).isEqualTo(AttemptOutcome.FAILED);
    assertThat(c.retryable()).isTrue();
    assertThat(c.error()).isEqualTo("IllegalStateException: bad input");
    assertThat(metrics.restarts()).isZero();
  }

  @Test
  void aQueueWithoutHandlerFailsRetryably() {
    var sup = supervisor(WorkerSettings.of(1, logDir), Map.of("q", new NoopHandler()));
    TestProbe<Event> events = testKit.createTestProbe();
    ClaimedJob job = Jobs.job("unknown", "{}");
    sup.tell(new Dispatch(List.of(job), events.ref()));
    Completion c = finished(events, job.id()).completion();
    assertThat(c.outcome()).isEqualTo(AttemptOutcome.FAILED);
    assertThat(c.retryable()).isTrue();
    assertThat(c.error()).contains("unknown");
  }
}
