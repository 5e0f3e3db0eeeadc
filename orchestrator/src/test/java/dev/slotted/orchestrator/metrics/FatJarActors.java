package dev.slotted.orchestrator.metrics;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** A plain ActorSystem (no testkit: it is not in the fat jar) with a nested reconciler-1. */
final class FatJarActors {
  private static ActorSystem<Integer> system;

  private FatJarActors() {}

  static void run(int messages) throws Exception {
    CountDownLatch done = new CountDownLatch(messages);
    CompletableFuture<ActorRef<CountDownLatch>> reconciler = new CompletableFuture<>();
    system = ActorSystem.create(Behaviors.setup(ctx -> {
      ActorRef<CountDownLatch> runtime = ctx.spawn(Behaviors.setup(rt -> {
        reconciler.complete(rt.spawn(countDown(), "reconciler-1"));
        return Behaviors.<CountDownLatch>empty();
      }), "runtime");
      ctx.watch(runtime);
      return Behaviors.<Integer>empty();
    }), "slotted");
    ActorRef<CountDownLatch> ref = reconciler.get(10, TimeUnit.SECONDS);
    for (int i = 0; i < messages; i++) {
      ref.tell(done);
    }
    if (!done.await(Duration.ofSeconds(10).toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("reconciler-1 did not process its messages");
    }
  }

  static void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static Behavior<CountDownLatch> countDown() {
    return Behaviors.receive(CountDownLatch.class)
        .onMessage(CountDownLatch.class, latch -> {
          latch.countDown();
          return Behaviors.same();
        })
        .build();
  }
}
