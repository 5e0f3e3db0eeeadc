package dev.slotted.orchestrator.app;

import dev.slotted.orchestrator.runtime.RunnerGuardian;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** The actor system's guardian: spawns the runner once the store is open. */
public final class RootGuardian {
  private RootGuardian() {}

  /** What the root guardian accepts. */
  public sealed interface Command {}

  /** Spawn the runner with these dependencies and reply with its reference. */
  public record StartRunner(RunnerGuardian.Deps deps, ActorRef<ActorRef<RunnerGuardian.Command>> replyTo)
      implements Command {}

  public static Behavior<Command> create() {
    return Behaviors.setup(ctx -> Behaviors.receive(Command.class)
        .onMessage(StartRunner.class, m -> {
          m.replyTo().tell(ctx.spawn(RunnerGuardian.create(m.deps()), "runner"));
          return Behaviors.same();
        })
        .build());
  }
}
