package dev.slotted.orchestrator.node;

import dev.slotted.protocol.WorkerProtocol;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * A worker node's entry point: registered with the Receptionist under {@link
 * WorkerProtocol#WORKERS}, it passes the orchestrators' commands to the node's WorkerSupervisor (its
 * supervised child) and carries the supervisor's events back.
 *
 * <ul>
 *   <li>It remembers which orchestrator dispatched each job (by lease token). A job's {@link
 *       WorkerProtocol.Started} goes to that orchestrator; its {@link WorkerProtocol.Finished} goes,
 *       in a batch ({@link WorkerProtocol.Completions}), to that orchestrator while it is listed and
 *       reachable, else to any live one: the completion is fenced by its lease token there, whoever
 *       claimed the job. A batch not acknowledged in {@link #RESEND_AFTER} is sent again, to
 *       whichever orchestrator is alive then; with none alive, completions wait for one.
 *   <li>{@link WorkerProtocol.GetRunning} from an orchestrator (for its lease renewal) is answered
 *       with the attempts that orchestrator dispatched only.
 * </ul>
 *
 * <p>The attempts themselves never depend on an orchestrator: a node that loses its orchestrator
 * keeps running them and delivers their completions to the next one.
 */
public final class NodeGateway extends AbstractBehavior<Object> {

  /** How long a batch of completions waits for its acknowledgement before it is sent again. */
  static final Duration RESEND_AFTER = Duration.ofSeconds(2);

  private record FromSupervisor(WorkerProtocol.Event event) {}

  private record Acked(WorkerProtocol.CompletionsAck ack) {}

  private record Listing(Receptionist.Listing listing) {}

  private record RunningFor(ActorRef<WorkerProtocol.Running> replyTo, ActorRef<WorkerProtocol.Inbound> by,
      WorkerProtocol.Running running) {}

  private enum Flush {
    INSTANCE
  }

  private enum Tick {
    INSTANCE
  }

  private record Pending(ActorRef<WorkerProtocol.Inbound> target, List<WorkerProtocol.Finished> finished,
      Instant sentAt) {}

  private final TimerScheduler<Object> timers;
  private final ActorRef<WorkerProtocol.Command> supervisor;
  private final ActorRef<WorkerProtocol.Event> events;
  private final ActorRef<WorkerProtocol.CompletionsAck> acks;
  private final Cluster cluster;
  /** Lease token to the inbox of the orchestrator that dispatched the job. */
  private final Map<String, ActorRef<WorkerProtocol.Inbound>> owners = new HashMap<>();
  private Set<ActorRef<WorkerProtocol.Inbound>> orchestrators = Set.of();
  /** Completions to send at the next flush, by the orchestrator they were dispatched by. */
  private final Map<ActorRef<WorkerProtocol.Inbound>, List<WorkerProtocol.Finished>> outgoing = new LinkedHashMap<>();
  private final Map<Long, Pending> unacked = new LinkedHashMap<>();
  private boolean flushPending;
  private long seq;

  /**
   * @param supervisor the node's WorkerSupervisor, given the gateway's reference to name in its
   *     capacity reports (dispatches for it come here)
   */
  public static Behavior<WorkerProtocol.Command> create(
      Function<ActorRef<WorkerProtocol.Command>, Behavior<WorkerProtocol.Command>> supervisor) {
    return Behaviors.<Object>setup(ctx -> Behaviors.withTimers(timers -> new NodeGateway(ctx, timers, supervisor)))
        .narrow();
  }

  private NodeGateway(ActorContext<Object> ctx, TimerScheduler<Object> timers,
      Function<ActorRef<WorkerProtocol.Command>, Behavior<WorkerProtocol.Command>> supervisor) {
    super(ctx);
    this.timers = timers;
    ActorRef<WorkerProtocol.Command> self = ctx.getSelf().narrow();
    this.supervisor = ctx.spawn(Behaviors.supervise(supervisor.apply(self))
        .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2)),
        "worker-supervisor");
    ctx.watch(this.supervisor);
    this.events = ctx.messageAdapter(WorkerProtocol.Event.class, FromSupervisor::new);
    this.acks = ctx.messageAdapter(WorkerProtocol.CompletionsAck.class, Acked::new);
    this.cluster = Cluster.get(ctx.getSystem());
    ctx.getSystem().receptionist().tell(Receptionist.register(WorkerProtocol.WORKERS, self));
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(WorkerProtocol.ORCHESTRATORS,
        ctx.messageAdapter(Receptionist.Listing.class, Listing::new)));
    timers.startTimerWithFixedDelay(Tick.INSTANCE, Duration.ofMillis(500));
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(WorkerProtocol.Dispatch.class, this::onDispatch)
        .onMessage(WorkerProtocol.GetRunning.class, this::onGetRunning)
        .onMessage(RunningFor.class, this::onRunningFor)
        .onMessage(WorkerProtocol.Stop.class, this::onStop)
        .onMessage(WorkerProtocol.Command.class, this::onOther)
        .onMessage(FromSupervisor.class, this::onEvent)
        .onMessage(Acked.class, a -> {
          unacked.remove(a.ack().seq());
          return this;
        })
        .onMessage(Listing.class, this::onListing)
        .onMessageEquals(Flush.INSTANCE, () -> flush(true))
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .build();
  }

  // ---- from the orchestrators

  @SuppressWarnings("unchecked")
  private Behavior<Object> onDispatch(WorkerProtocol.Dispatch d) {
    // A worker node's dispatches come from an orchestrator's inbox, which takes every Inbound.
    ActorRef<WorkerProtocol.Inbound> owner = (ActorRef<WorkerProtocol.Inbound>) (ActorRef<?>) d.replyTo();
    for (var job : d.jobs()) {
      owners.put(job.leaseToken(), owner);
    }
    supervisor.tell(new WorkerProtocol.Dispatch(d.jobs(), events));
    return this;
  }

  private Behavior<Object> onGetRunning(WorkerProtocol.GetRunning g) {
    getContext().ask(WorkerProtocol.Running.class, supervisor, Duration.ofSeconds(2),
        WorkerProtocol.GetRunning::new,
        (r, err) -> new RunningFor(g.replyTo(), g.dispatchedBy(), r));
    return this;
  }

  private Behavior<Object> onRunningFor(RunningFor r) {
    if (r.running() == null) {
      return this; // the supervisor did not answer; the orchestrator goes on without this node
    }
    List<WorkerProtocol.RunningJob> mine = new ArrayList<>();
    for (WorkerProtocol.RunningJob j : r.running().jobs()) {
      if (r.by() == null || r.by().equals(owners.get(j.leaseToken()))) {
        mine.add(j);
      }
    }
    r.replyTo().tell(new WorkerProtocol.Running(mine));
    return this;
  }

  private Behavior<Object> onStop(WorkerProtocol.Stop s) {
    supervisor.tell(s);
    s.leases().values().forEach(owners::remove);
    return this;
  }

  private Behavior<Object> onOther(WorkerProtocol.Command c) {
    supervisor.tell(c);
    return this;
  }

  // ---- to the orchestrators

  private Behavior<Object> onEvent(FromSupervisor e) {
    if (e.event() instanceof WorkerProtocol.Started s) {
      ActorRef<WorkerProtocol.Inbound> owner = owners.get(s.job().leaseToken());
      if (owner != null && alive(owner)) {
        owner.tell(s);
      }
    } else if (e.event() instanceof WorkerProtocol.Finished f) {
      ActorRef<WorkerProtocol.Inbound> owner = owners.remove(f.job().leaseToken());
      outgoing.computeIfAbsent(owner, k -> new ArrayList<>()).add(f);
      if (!flushPending) {
        flushPending = true;
        getContext().getSelf().tell(Flush.INSTANCE); // after the burst already in the mailbox
      }
    }
    return this;
  }

  /** @param fresh completions just reported (log a wait once, not at every retry) */
  private Behavior<Object> flush(boolean fresh) {
    if (fresh) {
      flushPending = false;
    }
    for (Iterator<Map.Entry<ActorRef<WorkerProtocol.Inbound>, List<WorkerProtocol.Finished>>> it =
        outgoing.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      ActorRef<WorkerProtocol.Inbound> target = target(e.getKey());
      if (target != null) {
        if (!target.equals(e.getKey())) {
          getContext().getLog().info("[{}] completions go to [{}], not the orchestrator that dispatched them",
              e.getValue().size(), target.path().address());
        }
        send(target, e.getValue());
        it.remove();
      } else if (fresh) {
        getContext().getLog().info("No live orchestrator: [{}] completions wait for one", e.getValue().size());
      }
    }
    return this;
  }

  private void send(ActorRef<WorkerProtocol.Inbound> target, List<WorkerProtocol.Finished> finished) {
    long n = ++seq;
    unacked.put(n, new Pending(target, finished, Instant.now()));
    target.tell(new WorkerProtocol.Completions(n, finished, acks));
  }

  /** Resends what was not acknowledged in time, and what waited for a live orchestrator. */
  private Behavior<Object> onTick() {
    Instant due = Instant.now().minus(RESEND_AFTER);
    List<Pending> again = new ArrayList<>();
    for (Iterator<Pending> it = unacked.values().iterator(); it.hasNext(); ) {
      Pending p = it.next();
      if (p.sentAt().isBefore(due) || !alive(p.target())) {
        it.remove();
        again.add(p);
      }
    }
    for (Pending p : again) {
      ActorRef<WorkerProtocol.Inbound> target = target(p.target());
      if (target == null) {
        outgoing.computeIfAbsent(p.target(), k -> new ArrayList<>()).addAll(p.finished());
      } else {
        if (!target.equals(p.target())) {
          getContext().getLog().info("[{}] completions for [{}] go to [{}] instead", p.finished().size(),
              p.target().path().address(), target.path().address());
        }
        send(target, p.finished());
      }
    }
    return flush(false);
  }

  private Behavior<Object> onListing(Listing l) {
    orchestrators = l.listing().getServiceInstances(WorkerProtocol.ORCHESTRATORS);
    getContext().getLog().info("Orchestrators now: {}", orchestrators.stream().map(r -> r.path().address()).toList());
    return onTick();
  }

  /** The job's own orchestrator while it is alive, else any live one (null: none now). */
  private ActorRef<WorkerProtocol.Inbound> target(ActorRef<WorkerProtocol.Inbound> owner) {
    if (owner != null && alive(owner)) {
      return owner;
    }
    return orchestrators.stream().filter(this::alive)
        .min(Comparator.comparing(r -> r.path().address().toString()))
        .orElse(null);
  }

  private boolean alive(ActorRef<WorkerProtocol.Inbound> inbox) {
    if (!orchestrators.contains(inbox)) {
      return false;
    }
    Address a = inbox.path().address();
    if (!a.hasGlobalScope()) {
      return true;
    }
    for (Member m : cluster.state().getUnreachable()) {
      if (m.address().equals(a)) {
        return false;
      }
    }
    return true;
  }
}
