package dev.slotted.worker.supervise;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.protocol.AttemptOutcome;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.WorkerProtocol;
import dev.slotted.worker.JobHandler;
import dev.slotted.worker.JobResult;
import dev.slotted.worker.handler.HandlerRegistry;
import dev.slotted.worker.handler.NoopHandler;
import dev.slotted.worker.handler.SleepHandler;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Noop jobs through Subscribe → CapacityReport → Dispatch → Started/Finished, as the runner's window
 * owner drives them: it keeps the supervisor's buffer topped up from the capacity it pushes. Prints
 * the rate; asserts only that every job finished once.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WorkerThroughputTest {

  @JUnit5TestKit ActorTestKit testKit = new JUnit5TestKitBuilder().build();

  @TempDir Path logDir;

  /** Mimics the window owner: tops the buffer up to twice the capacity whenever capacity is pushed. */
  static Behavior<Object> driver(
      ActorRef<WorkerProtocol.Command> sup, int total, CompletableFuture<BitSet> done) {
    return Behaviors.setup(
        ctx -> {
          ActorRef<WorkerProtocol.CapacityReport> reports =
              ctx.messageAdapter(WorkerProtocol.CapacityReport.class, r -> r);
          ActorRef<WorkerProtocol.Event> events = ctx.messageAdapter(WorkerProtocol.Event.class, e -> e);
          BitSet seen = new BitSet(total);
          int[] state = {0, 0}; // dispatched, finished
          Instant now = Instant.now();
          sup.tell(new WorkerProtocol.Subscribe(reports));
          return Behaviors.receive(Object.class)
              .onMessage(
                  WorkerProtocol.CapacityReport.class,
                  r -> {
                    long onTheWay = state[0] - r.received();
                    int n = (int) Math.min(2L * r.capacity() - r.busy() - r.buffered() - onTheWay, total - state[0]);
                    if (n > 0) {
                      List<ClaimedJob> jobs = new ArrayList<>(n);
                      for (int i = 0; i < n; i++) {
                        int id = state[0]++;
                        jobs.add(new ClaimedJob(
                            Integer.toString(id), "noop", "{}", 1, 5, "t" + id, null, 0, List.of(), null, now, now));
                      }
                      sup.tell(new WorkerProtocol.Dispatch(jobs, events));
                    }
                    return Behaviors.same();
                  })
              .onMessage(
                  WorkerProtocol.Finished.class,
                  f -> {
                    int id = Integer.parseInt(f.job().id());
                    if (f.completion().outcome() != AttemptOutcome.SUCCEEDED || seen.get(id)) {
                      done.completeExceptionally(new AssertionError("bad or duplicate finish " + f));
                    }
                    seen.set(id);
                    if (++state[1] == total) {
                      done.complete(seen);
                    }
                    return Behaviors.same();
                  })
              .onMessage(WorkerProtocol.Started.class, s -> Behaviors.same())
              .build();
        });
  }

  private double run(int jobs, JobHandler handler) throws Exception {
    var sup =
        testKit.spawn(
            WorkerSupervisor.create(
                WorkerSettings.of(64, logDir), HandlerRegistry.of(Map.of("noop", handler)),
                Clock.systemUTC()));
    CompletableFuture<BitSet> done = new CompletableFuture<>();
    long t0 = System.nanoTime();
    testKit.spawn(driver(sup, jobs, done));
    BitSet seen = done.get(60, TimeUnit.SECONDS);
    double secs = (System.nanoTime() - t0) / 1e9;
    assertThat(seen.cardinality()).isEqualTo(jobs);
    testKit.stop(sup);
    return jobs / secs;
  }

  @Test
  void noopJobsThroughTheSupervisor() throws Exception {
    run(10_000, new NoopHandler()); // warm-up
    double inline = run(50_000, new NoopHandler());
    // The same work declared blocking: one hop to the blocking dispatcher per job.
    JobHandler blockingNoop = ctx -> JobResult.success();
    double hop = run(20_000, blockingNoop);
    System.out.printf(
        "WorkerSupervisor throughput, capacity 64: noop %,.0f jobs/s; blocking no-op %,.0f jobs/s%n",
        inline, hop);
  }

  @Test
  void thousandsOfSleepingJobsRunAtOnce() throws Exception {
    int n = 3_000;
    var sup =
        testKit.spawn(
            WorkerSupervisor.create(
                WorkerSettings.of(n, logDir), HandlerRegistry.of(Map.of("sleep", new SleepHandler())),
                Clock.systemUTC()));
    TestProbe<WorkerProtocol.Event> events = testKit.createTestProbe();
    Instant now = Instant.now();
    List<ClaimedJob> jobs = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      jobs.add(new ClaimedJob("s" + i, "sleep", "{\"ms\": 1000}", 1, 5, "t" + i, null, 0, List.of(), null, now, now));
    }
    long t0 = System.nanoTime();
    sup.tell(new WorkerProtocol.Dispatch(jobs, events.ref()));
    TestProbe<WorkerProtocol.Running> running = testKit.createTestProbe();
    sup.tell(new WorkerProtocol.GetRunning(running.ref()));
    List<WorkerProtocol.RunningJob> all = running.receiveMessage(Duration.ofSeconds(10)).jobs();
    assertThat(all).hasSize(n).allMatch(j -> j.worker() != null);
    int finished = 0;
    while (finished < n) {
      WorkerProtocol.Event e = events.receiveMessage(Duration.ofSeconds(20));
      if (e instanceof WorkerProtocol.Finished f) {
        assertThat(f.completion().outcome()).isEqualTo(AttemptOutcome.SUCCEEDED);
        finished++;
      }
    }
    System.out.printf(
        "%,d sleep jobs of 1 s at once (timers, no parked threads): all done in %.2f s%n",
        n, (System.nanoTime() - t0) / 1e9);
    testKit.stop(sup);
  }
}
