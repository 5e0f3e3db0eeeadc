package dev.slotted.orchestrator.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Kamon's agent attached at runtime, the way {@code serve} starts: Metrics.init before any Pekko
 * class loads, then a real ActorSystem. Runs in its own surefire JVM (see the pom). No Pekko type
 * appears in this class's fields or signatures: JUnit's reflection would load Pekko too early.
 */
class ActorMetricsAgentTest {

  private static final int PINGS = 20;
  private static final String TRACKED_RECONCILER = "slotted/user/runtime/reconciler-3";
  private static final String TRACKED_CLOCK = "slotted/user/slot-clock";
  private static final String TRACKED_SUPERVISOR = "slotted/user/worker-supervisor";
  private static final Set<String> ACTOR_LABELS =
      Set.of("path", "system", "dispatcher", "class", "le");

  private static Metrics metrics;
  private static AutoCloseable actors;

  @BeforeAll
  static void start() {
    // -Dtest=... also selects this class in the shared surefire JVM, where the agent is off.
    assumeTrue("on".equals(System.getProperty("slotted.metrics.actor-metrics")),
        "runs in the agent-tests surefire execution");
    long start = System.nanoTime();
    metrics = Metrics.init(ConfigFactory.load());
    System.out.printf("Metrics.init took %d ms (attach self allowed: %s)%n",
        (System.nanoTime() - start) / 1_000_000, System.getProperty("jdk.attach.allowAttachSelf"));
    ActorFixture fixture = new ActorFixture("slotted");
    actors = fixture;
    fixture.pingAll(PINGS);
  }

  @AfterAll
  static void stop() throws Exception {
    if (actors != null) {
      actors.close();
    }
    if (metrics != null) {
      metrics.close();
    }
  }

  @Test
  void agentAttachedInProcess() {
    assertThat(((KamonMetrics) metrics).actorMetrics()).isTrue();
  }

  @Test
  void namedActorsExportProcessingTimeAndTimeInMailbox() {
    // Kamon records a message's figures after the behavior returns, so the last replies can
    // arrive before the last records: poll until all of them are in.
    Exposition e = awaitScrape(x -> count(x, Metrics.ACTOR_PROCESSING_TIME, TRACKED_RECONCILER) >= PINGS
        && count(x, Metrics.ACTOR_PROCESSING_TIME, TRACKED_CLOCK) >= PINGS
        && count(x, Metrics.ACTOR_PROCESSING_TIME, TRACKED_SUPERVISOR) >= PINGS
        && count(x, Metrics.ACTOR_TIME_IN_MAILBOX, TRACKED_RECONCILER) >= PINGS);

    assertThat(e.types())
        .containsEntry(Metrics.ACTOR_PROCESSING_TIME, "histogram")
        .containsEntry(Metrics.ACTOR_TIME_IN_MAILBOX, "histogram")
        .containsEntry(Metrics.ACTOR_MAILBOX_SIZE, "histogram");
    assertThat(count(e, Metrics.ACTOR_TIME_IN_MAILBOX, TRACKED_CLOCK)).isGreaterThanOrEqualTo(PINGS);
    assertThat(e.named(Metrics.ACTOR_PROCESSING_TIME + "_count"))
        .extracting(s -> s.labels().get("system")).containsOnly("slotted");
  }

  @Test
  void mailboxSizeIsSampledForNamedActors() {
    // A range sampler, read every 200 ms by Kamon.
    Exposition e = awaitScrape(x -> count(x, Metrics.ACTOR_MAILBOX_SIZE, TRACKED_RECONCILER) > 0);
    assertThat(e.named(Metrics.ACTOR_MAILBOX_SIZE + "_bucket"))
        .anySatisfy(s -> assertThat(s.labels()).containsEntry("path", TRACKED_RECONCILER));
  }

  @Test
  void onlyTheConfiguredActorsAreTracked() {
    Exposition e = awaitScrape(x -> count(x, Metrics.ACTOR_PROCESSING_TIME, TRACKED_RECONCILER) > 0);
    List<String> paths = e.samples().stream()
        .filter(s -> s.name().startsWith("pekko_actor_"))
        .map(s -> s.labels().get("path"))
        .distinct()
        .toList();
    assertThat(paths).containsExactlyInAnyOrder(
        TRACKED_RECONCILER, TRACKED_CLOCK, TRACKED_SUPERVISOR);
    assertThat(e.samples()).filteredOn(s -> s.name().startsWith("pekko_actor_"))
        .allSatisfy(s -> assertThat(ACTOR_LABELS).containsAll(s.labels().keySet()));
    // No auto-grouped or per-dispatcher families either.
    assertThat(e.types().keySet()).noneMatch(n -> n.startsWith("pekko_group_"))
        .noneMatch(n -> n.startsWith("executor_"));
  }

  @Test
  void nothingListensOutsideLoopback() throws Exception {
    assumeTrue(ListeningSockets.supported(), "needs Linux /proc");
    awaitScrape(x -> true);
    List<String> listeners = ListeningSockets.ofThisProcess();
    System.out.println("Listening sockets of this JVM: " + listeners);
    assertThat(listeners).allMatch(l -> l.endsWith(" loopback"));
  }

  @Test
  void aTerminatedSystemLeavesNoDispatcherThreads() throws Exception {
    // With Kamon's scheduler instrumentation the dispatcher threads outlive terminate() and keep
    // the JVM alive (Kamon issue #1176); Metrics.init leaves that instrumentation out.
    ActorFixture other = new ActorFixture("shutdown-check");
    other.pingAll(1);
    assertThat(threadsNamed("shutdown-check-")).isNotEmpty();
    other.close();
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (!threadsNamed("shutdown-check-").isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(threadsNamed("shutdown-check-")).isEmpty();
  }

  private static List<String> threadsNamed(String prefix) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.startsWith(prefix))
        .toList();
  }

  private static double count(Exposition e, String family, String path) {
    return e.named(family + "_count").stream()
        .filter(s -> path.equals(s.labels().get("path")))
        .mapToDouble(Exposition.Sample::value)
        .sum();
  }

  private static Exposition awaitScrape(Predicate<Exposition> ready) {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    Exposition last = Exposition.parse(metrics.scrape());
    while (!ready.test(last) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
      last = Exposition.parse(metrics.scrape());
    }
    assertThat(ready).as("scrape never got there; last pekko_ series: %s",
        last.samples().stream().filter(s -> s.name().startsWith("pekko_actor")).toList())
        .accepts(last);
    return last;
  }
}
