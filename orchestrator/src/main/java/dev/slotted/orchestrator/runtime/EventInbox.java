package dev.slotted.orchestrator.runtime;

import dev.slotted.protocol.WorkerProtocol;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * An orchestrator's inbox of worker nodes' events, registered with the Receptionist under {@link
 * WorkerProtocol#ORCHESTRATORS}: the jobs this runner dispatches to worker nodes report here, and a
 * worker node whose own orchestrator died sends its completions to any live inbox. It passes every
 * event on to the {@link WindowOwner} (completions are written in its window, fenced by their lease
 * tokens, whoever claimed them) and acknowledges each batch of completions once it has passed them
 * on. A batch sent again (its acknowledgement was lost) passes on only the completions not seen yet.
 */
public final class EventInbox {
  private EventInbox() {}

  /** How many recent completions (by lease token) are remembered to drop a repeat. */
  static final int REMEMBERED = 100_000;

  public static Behavior<WorkerProtocol.Inbound> create(ActorRef<WindowOwner.Command> owner) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(WorkerProtocol.ORCHESTRATORS, ctx.getSelf()));
      Map<String, Boolean> seen = new LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
          return size() > REMEMBERED;
        }
      };
      return Behaviors.receive(WorkerProtocol.Inbound.class)
          .onMessage(WorkerProtocol.Event.class, e -> {
            owner.tell(new WindowOwner.FromWorker(e));
            return Behaviors.same();
          })
          .onMessage(WorkerProtocol.Completions.class, c -> {
            for (WorkerProtocol.Finished f : c.finished()) {
              if (seen.put(f.completion().leaseToken(), Boolean.TRUE) == null) {
                owner.tell(new WindowOwner.FromWorker(f));
              }
            }
            c.replyTo().tell(new WorkerProtocol.CompletionsAck(c.seq()));
            return Behaviors.same();
          })
          .build();
    });
  }
}
