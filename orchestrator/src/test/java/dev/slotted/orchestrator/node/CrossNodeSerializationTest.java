package dev.slotted.orchestrator.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.slotted.protocol.AttemptOutcome;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.CrossNode;
import dev.slotted.protocol.WorkerProtocol;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.jackson.JacksonJsonSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Every message that crosses nodes between orchestrators and worker nodes goes through Pekko's
 * Jackson serializer (bound to {@link CrossNode} in slotted-overrides.conf, Java serialization
 * off) and comes back equal, ActorRefs included, in a system configured as a cluster member.
 */
class CrossNodeSerializationTest {
  private static final ActorTestKit KIT = ActorTestKit.create("slotted", ConfigFactory.parseString("""
      pekko.actor.provider = cluster
      pekko.remote.artery.canonical.port = 0
      pekko.cluster.jmx.enabled = off
      """).withFallback(ConfigFactory.load()));

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  @Test
  void everyCrossNodeMessageRoundTripsThroughJackson() {
    TestProbe<WorkerProtocol.Command> supervisor = KIT.createTestProbe();
    TestProbe<WorkerProtocol.CapacityReport> reports = KIT.createTestProbe();
    TestProbe<WorkerProtocol.Event> events = KIT.createTestProbe();
    TestProbe<WorkerProtocol.Running> running = KIT.createTestProbe();
    TestProbe<WorkerProtocol.Drained> drained = KIT.createTestProbe();
    TestProbe<WorkerProtocol.Inbound> inbox = KIT.createTestProbe();
    TestProbe<WorkerProtocol.CompletionsAck> acks = KIT.createTestProbe();
    Instant t = Instant.parse("2026-12-01T08:00:00.123456Z");
    ClaimedJob job = new ClaimedJob("42", "work", "{\"ms\":100,\"x\":[1,2.50]}", 2, 5, "tok-1", "key-1", 7,
        List.of("gpu", "region-eu"), Duration.ofSeconds(90), t, t.plusMillis(5), -3);
    ClaimedJob plain = new ClaimedJob("43", "work", "null", 1, 5, "tok-2", null, 0, List.of(), null, t, t);
    Completion done = Completion.failed(job, true, "exit code 3", 3, "last\nlines", "gpu-node/w-3", t.plusSeconds(1))
        .startedAt(t.plusMillis(7));
    WorkerProtocol.Advert advert = new WorkerProtocol.Advert("gpu-node", Set.of("gpu"), Set.of("work", "reports"));
    WorkerProtocol.Finished finished = new WorkerProtocol.Finished(job, done, t.plusMillis(7));
    List<CrossNode> messages = List.of(
        new WorkerProtocol.Subscribe(reports.ref()),
        new WorkerProtocol.CapacityReport(64, 3, 5, 100, Map.of("reports", 2), Map.of("reports", 9L), true)
            .from(supervisor.ref(), advert),
        new WorkerProtocol.CapacityReport(1, 0, 0, 0, Map.of(), Map.of(), false),
        new WorkerProtocol.Dispatch(List.of(job, plain), events.ref()),
        new WorkerProtocol.TakeBuffer(running.ref()),
        new WorkerProtocol.Stop(Map.of("42", "tok-1"), "lease lost"),
        new WorkerProtocol.GetRunning(running.ref()),
        new WorkerProtocol.GetRunning(running.ref(), inbox.ref()),
        new WorkerProtocol.Running(List.of(new WorkerProtocol.RunningJob("42", "tok-1", "work", "gpu-node/w-3", t),
            new WorkerProtocol.RunningJob("43", "tok-2", "work", null, null))),
        new WorkerProtocol.Drain(Duration.ofSeconds(30), drained.ref()),
        new WorkerProtocol.Drained(List.of(new WorkerProtocol.RunningJob("42", "tok-1", "work", null, null))),
        new WorkerProtocol.Started(job, "gpu-node/w-3", t.plusMillis(7)),
        finished,
        new WorkerProtocol.Finished(plain, Completion.succeeded(plain, "n/w-1", t), null),
        new WorkerProtocol.Completions(17, List.of(finished), acks.ref()),
        new WorkerProtocol.CompletionsAck(17),
        advert);
    SerializationTestKit serialization = new SerializationTestKit(KIT.system());
    var extension = SerializationExtension.get(KIT.system().classicSystem());
    for (CrossNode m : messages) {
      assertThat(extension.findSerializerFor(m)).as("serializer of %s", m.getClass().getSimpleName())
          .isInstanceOf(JacksonJsonSerializer.class);
      assertThat(serialization.verifySerialization(m, true)).as(m.getClass().getSimpleName()).isEqualTo(m);
    }
    assertThat(done.outcome()).isEqualTo(AttemptOutcome.FAILED);
    assertThat(KIT.system().settings().config().getBoolean("pekko.actor.allow-java-serialization")).isFalse();
  }
}
