package dev.slotted.worker.supervise;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.slotted.protocol.AttemptOutcome;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.WorkerProtocol;
import dev.slotted.protocol.WorkerProtocol.Dispatch;
import dev.slotted.protocol.WorkerProtocol.Event;
import dev.slotted.protocol.WorkerProtocol.Finished;
import dev.slotted.worker.AttemptLogs;
import dev.slotted.worker.handler.HandlerRegistry;
import dev.slotted.worker.process.PidRegistry;
import dev.slotted.worker.process.ProcessTree;
import dev.slotted.worker.testing.Jobs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Shell jobs end to end through the supervisor: configuration, timeout and stop kill the tree. */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShellSupervisionTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @JUnit5TestKit ActorTestKit testKit = new JUnit5TestKitBuilder().build();

  @TempDir Path dir;

  private ActorRef<WorkerProtocol.Command> supervisor(PidRegistry pids) {
    Config config =
        ConfigFactory.parseString(
                """
                slotted.workers {
                  capacity = 4
                  log-dir = "%s"
                  log-tail-chars = 1000
                  restart { min-backoff = 200ms, max-backoff = 1s, random-factor = 0.2 }
                  pid-dir = "%s"
                  stop-timeout = 10s
                }
                slotted.queue-defaults { concurrency = 0, timeout = 1h }
                slotted.queues.tree.handler {
                  type = shell
                  command = ["sh", "-c", "sleep 100 & echo \\"bg=$!\\"; echo \\"sh=$$\\"; sleep 100"]
                  kill-grace = 2s
                }
                """
                    .formatted(dir.resolve("logs"), dir.resolve("pids")))
            .withFallback(ConfigFactory.defaultReference())
            .resolve();
    WorkerSettings settings =
        WorkerSettings.fromConfig(config).withDispatcher(org.apache.pekko.actor.typed.DispatcherSelector.blocking());
    assertThat(settings.pidDir()).isEqualTo(dir.resolve("pids"));
    return testKit.spawn(
        WorkerSupervisor.create(settings, HandlerRegistry.fromConfig(config, pids), Clock.systemUTC()));
  }

  @Test
  void timeoutKillsTheWholeProcessTreeAndReportsTimedOut() throws Exception {
    PidRegistry pids = PidRegistry.open(dir.resolve("pids"));
    var sup = supervisor(pids);
    TestProbe<Event> events = testKit.createTestProbe();
    ClaimedJob job = Jobs.job("tree", "{}", 1, Duration.ofSeconds(2));
    sup.tell(new Dispatch(List.of(job), events.ref()));
    long[] tree = awaitPids(AttemptLogs.path(dir.resolve("logs"), job.id(), 1));
    assertThat(running(tree[0])).isTrue();
    assertThat(running(tree[1])).isTrue();

    Completion c = finished(events, job.id()).completion();
    assertThat(c.outcome()).isEqualTo(AttemptOutcome.TIMED_OUT);
    assertThat(c.retryable()).isTrue();
    assertThat(c.logTail()).contains("bg=" + tree[0]);
    assertThat(running(tree[0])).as("background sleep").isFalse();
    assertThat(running(tree[1])).as("shell").isFalse();
    assertThat(pids.entries()).isEmpty();
  }

  @Test
  void stopKillsTheTreeAndReportsNothing() throws Exception {
    var sup = supervisor(PidRegistry.open(dir.resolve("pids")));
    TestProbe<Event> events = testKit.createTestProbe();
    ClaimedJob job = Jobs.job("tree", "{}");
    sup.tell(new Dispatch(List.of(job), events.ref()));
    long[] tree = awaitPids(AttemptLogs.path(dir.resolve("logs"), job.id(), 1));
    events.expectMessageClass(WorkerProtocol.Started.class, WAIT);

    sup.tell(new WorkerProtocol.Stop(Map.of(job.id(), job.leaseToken()), "cancelled by the API"));
    long end = System.nanoTime() + WAIT.toNanos();
    while ((running(tree[0]) || running(tree[1])) && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertThat(running(tree[0])).isFalse();
    assertThat(running(tree[1])).isFalse();
    events.expectNoMessage(Duration.ofMillis(300));
  }

  private static Finished finished(TestProbe<Event> events, String jobId) {
    while (true) {
      Event e = events.receiveMessage(WAIT);
      if (e instanceof Finished f && f.job().id().equals(jobId)) {
        return f;
      }
    }
  }

  private static boolean running(long pid) {
    return ProcessHandle.of(pid).map(ProcessTree::isRunning).orElse(false);
  }

  private static long[] awaitPids(Path log) throws Exception {
    Pattern p = Pattern.compile("bg=(\\d+)\\s+sh=(\\d+)");
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < end) {
      if (Files.exists(log)) {
        Matcher m = p.matcher(Files.readString(log));
        if (m.find()) {
          return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
        }
      }
      Thread.sleep(10);
    }
    throw new AssertionError("the script never printed its pids to " + log);
  }
}
