package dev.slotted.orchestrator.metrics;

import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The actor side of ActorMetricsAgentTest, in its own class so that no Pekko class loads before
 * the test has started Kamon (JUnit reflects over the test class's fields and methods first).
 * Actors are named the way the runtime names them, at the top level and nested.
 */
final class ActorFixture implements AutoCloseable {

  record Ping(ActorRef<String> replyTo) {}

  private final ActorTestKit testKit;
  private final ActorRef<Ping> slotClock;
  private final ActorRef<Ping> reconciler;
  private final ActorRef<Ping> supervisor;

  ActorFixture(String systemName) {
    testKit = ActorTestKit.create(systemName);
    slotClock = testKit.spawn(echo(), "slot-clock");
    reconciler = testKit.spawn(parentOf("reconciler-3"), "runtime");
    supervisor = testKit.spawn(parentOf("worker-1"), "worker-supervisor");
  }

  /** Sends n pings to each actor (the parents forward to their child) and waits for the replies. */
  void pingAll(int n) {
    TestProbe<String> probe = testKit.createTestProbe();
    for (int i = 0; i < n; i++) {
      slotClock.tell(new Ping(probe.ref()));
      reconciler.tell(new Ping(probe.ref()));
      supervisor.tell(new Ping(probe.ref()));
    }
    probe.receiveSeveralMessages(3 * n, Duration.ofSeconds(10));
  }

  private static Behavior<Ping> echo() {
    return Behaviors.receive(Ping.class)
        .onMessage(Ping.class, p -> {
          p.replyTo().tell("pong");
          return Behaviors.same();
        })
        .build();
  }

  /** Handles each ping itself, then forwards it to its one child. */
  private static Behavior<Ping> parentOf(String childName) {
    return Behaviors.setup(ctx -> {
      ActorRef<Ping> child = ctx.spawn(echo(), childName);
      return Behaviors.receive(Ping.class)
          .onMessage(Ping.class, p -> {
            child.tell(p);
            return Behaviors.same();
          })
          .build();
    });
  }

  @Override
  public void close() {
    testKit.shutdownTestKit();
  }
}
