package dev.slotted.orchestrator.app;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;

/**
 * Pekko Management readiness check ({@code /ready}): true once the store is open with its
 * migrations applied and the SlotClock is running, false again when shutdown begins. Registered
 * under {@code pekko.management.health-checks.readiness-checks.slotted}.
 */
public final class Readiness implements Supplier<CompletionStage<Boolean>> {

  private static final java.util.Map<ActorSystem, Flags> FLAGS =
      java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

  private final Flags flags;

  /** Pekko Management instantiates the check with the classic system. */
  public Readiness(ActorSystem system) {
    this.flags = flags(system);
  }

  /** The readiness flags of one actor system. */
  public static final class Flags {
    private volatile boolean storeReady;
    private volatile boolean clockRunning;
    private volatile boolean stopping;

    public void storeReady() {
      storeReady = true;
    }

    public void clockRunning() {
      clockRunning = true;
    }

    public void stopping() {
      stopping = true;
    }

    public boolean ready() {
      return storeReady && clockRunning && !stopping;
    }
  }

  public static Flags flags(ActorSystem system) {
    return FLAGS.computeIfAbsent(system, s -> new Flags());
  }

  @Override
  public CompletionStage<Boolean> get() {
    return CompletableFuture.completedFuture(flags.ready());
  }
}
