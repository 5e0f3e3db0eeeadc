package dev.slotted.orchestrator.runtime;

import dev.slotted.orchestrator.metrics.Metrics;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.ReadyTags;
import dev.slotted.protocol.WorkerProtocol;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The runner's view of every WorkerSupervisor that may run its jobs: its own, and in cluster mode
 * the worker nodes registered with the Receptionist ({@link WorkerProtocol#WORKERS}). It subscribes
 * to each node's capacity and passes it to the {@link WindowOwner} while the node is reachable (an
 * unreachable node, or one gone from the listing, gets no more dispatches: {@link
 * WindowOwner.WorkerGone}). It spawns the runner's {@link EventInbox}, where the worker nodes'
 * events arrive.
 *
 * <p>Toward the {@link LeaseKeeper} it stands for all the supervisors: {@link
 * WorkerProtocol.GetRunning} gathers the running attempts of its own supervisor and those the
 * worker nodes run for this runner (renewed in its window, in one statement); {@link
 * WorkerProtocol.Stop} goes to every supervisor (each stops only the attempt holding that lease).
 */
public final class WorkerSet extends AbstractBehavior<Object> {

  /** Asks for the worker nodes, for GET /api/v1/workers and the unroutable counts. */
  public record GetNodes(ActorRef<Nodes> replyTo) {}

  /** The worker nodes, and what the live supervisors (the runner's own included) can take. */
  public record Nodes(List<NodeView> nodes, List<Unroutable.Capability> live) {
    public Nodes {
      nodes = List.copyOf(nodes);
      live = List.copyOf(live);
    }
  }

  /**
   * One worker node as this runner sees it.
   *
   * @param running attempts running on it now
   * @param buffered jobs dispatched to it waiting for a worker
   * @param reachable false while the cluster's failure detector says it is unreachable (no
   *     dispatch then)
   */
  public record NodeView(String node, String address, Set<String> tags, Set<String> queues, int capacity,
      int running, int buffered, boolean accepting, boolean reachable) {}

  private record Listing(Receptionist.Listing listing) {}

  private record Report(WorkerProtocol.CapacityReport report) {}

  private record Reachability(ClusterEvent.ReachabilityEvent event) {}

  private record Part(long request, WorkerProtocol.Running running) {}

  private enum Resubscribe {
    INSTANCE
  }

  private enum CountUnroutable {
    INSTANCE
  }

  private record Ready(List<ReadyTags> ready) {}

  private static final class Remote {
    WorkerProtocol.CapacityReport report;
    boolean reachable = true;
  }

  private static final class Gather {
    final ActorRef<WorkerProtocol.Running> replyTo;
    int missing;
    final List<WorkerProtocol.RunningJob> jobs = new ArrayList<>();

    Gather(ActorRef<WorkerProtocol.Running> replyTo, int missing) {
      this.replyTo = replyTo;
      this.missing = missing;
    }
  }

  /** How often the unroutable jobs are counted for the metric (a read). */
  static final Duration COUNT_EVERY = Duration.ofSeconds(5);

  /** How long a worker node may take to say what it runs before a renewal goes on without it. */
  static final Duration RUNNING_TIMEOUT = Duration.ofSeconds(1);

  private final ActorRef<WorkerProtocol.Command> local;
  private final Unroutable.Capability localCapability;
  private final JobStore store;
  private final Metrics metrics;
  private final Set<String> queues;
  private final ActorRef<WindowOwner.Command> owner;
  private final ActorRef<WorkerProtocol.Inbound> inbox;
  private final ActorRef<WorkerProtocol.CapacityReport> reports;
  private final Map<ActorRef<WorkerProtocol.Command>, Remote> remotes = new LinkedHashMap<>();
  private final Map<Long, Gather> gathering = new HashMap<>();
  private long nextRequest;

  /**
   * @param local the runner's own WorkerSupervisor
   * @param localCapability what it takes (null: nothing, its capacity is 0)
   * @param store read (never written) to count the ready jobs no live worker can take
   * @param queues the configured queues (each gets the unroutable gauge)
   * @param cluster whether this runner is a cluster member (else it has only its own supervisor)
   */
  public static Behavior<Object> create(ActorRef<WorkerProtocol.Command> local, Unroutable.Capability localCapability,
      JobStore store, Metrics metrics, Set<String> queues, ActorRef<WindowOwner.Command> owner, boolean cluster) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new WorkerSet(ctx, timers, local, localCapability, store, metrics, queues, owner, cluster)));
  }

  private WorkerSet(ActorContext<Object> ctx, TimerScheduler<Object> timers, ActorRef<WorkerProtocol.Command> local,
      Unroutable.Capability localCapability, JobStore store, Metrics metrics, Set<String> queues,
      ActorRef<WindowOwner.Command> owner, boolean cluster) {
    super(ctx);
    this.local = local;
    this.localCapability = localCapability;
    this.store = store;
    this.metrics = metrics;
    this.queues = Set.copyOf(queues);
    this.owner = owner;
    timers.startTimerWithFixedDelay(CountUnroutable.INSTANCE, COUNT_EVERY);
    this.inbox = ctx.spawn(Behaviors.supervise(EventInbox.create(owner))
        .onFailure(SupervisorStrategy.restart()), "inbox");
    this.reports = ctx.messageAdapter(WorkerProtocol.CapacityReport.class, Report::new);
    if (cluster) {
      ctx.getSystem().receptionist().tell(Receptionist.subscribe(WorkerProtocol.WORKERS,
          ctx.messageAdapter(Receptionist.Listing.class, Listing::new)));
      Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(
          ctx.messageAdapter(ClusterEvent.ReachabilityEvent.class, Reachability::new),
          ClusterEvent.ReachabilityEvent.class));
      // A worker node's supervisor restarted by its gateway has forgotten its subscribers.
      timers.startTimerWithFixedDelay(Resubscribe.INSTANCE, WindowOwner.RESUBSCRIBE_EVERY);
    }
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(Listing.class, this::onListing)
        .onMessage(Report.class, this::onReport)
        .onMessage(Reachability.class, this::onReachability)
        .onMessage(WorkerProtocol.GetRunning.class, this::onGetRunning)
        .onMessage(Part.class, this::onPart)
        .onMessage(WorkerProtocol.Stop.class, this::onStop)
        .onMessage(GetNodes.class, this::onGetNodes)
        .onMessageEquals(CountUnroutable.INSTANCE, () -> {
          getContext().pipeToSelf(store.readyByTags(), (r, err) -> new Ready(err == null ? r : null));
          return this;
        })
        .onMessage(Ready.class, this::onReady)
        .onMessageEquals(Resubscribe.INSTANCE, () -> {
          remotes.keySet().forEach(r -> r.tell(new WorkerProtocol.Subscribe(reports)));
          return this;
        })
        .build();
  }

  private Behavior<Object> onListing(Listing l) {
    Set<ActorRef<WorkerProtocol.Command>> now = l.listing().getServiceInstances(WorkerProtocol.WORKERS);
    for (ActorRef<WorkerProtocol.Command> r : now) {
      if (!remotes.containsKey(r)) {
        remotes.put(r, new Remote());
        getContext().getLog().info("Worker node [{}] registered", r.path().address());
        r.tell(new WorkerProtocol.Subscribe(reports));
      }
    }
    for (ActorRef<WorkerProtocol.Command> r : new ArrayList<>(remotes.keySet())) {
      if (!now.contains(r)) {
        remotes.remove(r);
        getContext().getLog().info("Worker node [{}] left", r.path().address());
        owner.tell(new WindowOwner.WorkerGone(r));
      }
    }
    return this;
  }

  private Behavior<Object> onReport(Report r) {
    ActorRef<WorkerProtocol.Command> from = r.report().supervisor();
    Remote remote = from == null ? null : remotes.get(from);
    if (remote == null) {
      return this; // not (or no longer) listed
    }
    remote.report = r.report();
    if (remote.reachable) {
      owner.tell(new WindowOwner.RemoteCapacity(r.report(), inbox.narrow()));
    }
    return this;
  }

  private Behavior<Object> onReachability(Reachability r) {
    Address address = r.event().member().address();
    boolean reachable = r.event() instanceof ClusterEvent.ReachableMember;
    remotes.forEach((ref, remote) -> {
      if (ref.path().address().equals(address) && remote.reachable != reachable) {
        remote.reachable = reachable;
        getContext().getLog().info("Worker node [{}] is {}", address, reachable ? "reachable again" : "unreachable");
        if (!reachable) {
          owner.tell(new WindowOwner.WorkerGone(ref));
        } else if (remote.report != null) {
          owner.tell(new WindowOwner.RemoteCapacity(remote.report, inbox.narrow()));
        }
      }
    });
    return this;
  }

  private Behavior<Object> onGetRunning(WorkerProtocol.GetRunning g) {
    long id = nextRequest++;
    List<ActorRef<WorkerProtocol.Command>> asked = new ArrayList<>();
    asked.add(local);
    remotes.forEach((ref, remote) -> {
      if (remote.reachable) {
        asked.add(ref);
      }
    });
    gathering.put(id, new Gather(g.replyTo(), asked.size()));
    for (ActorRef<WorkerProtocol.Command> ref : asked) {
      // A node's attempts for other runners are theirs to renew (and to stop).
      ActorRef<WorkerProtocol.Inbound> filter = ref.equals(local) ? null : inbox;
      getContext().ask(WorkerProtocol.Running.class, ref, RUNNING_TIMEOUT,
          replyTo -> new WorkerProtocol.GetRunning(replyTo, filter),
          (running, err) -> new Part(id, running));
    }
    return this;
  }

  private Behavior<Object> onPart(Part p) {
    Gather g = gathering.get(p.request());
    if (g == null) {
      return this;
    }
    if (p.running() != null) {
      g.jobs.addAll(p.running().jobs());
    }
    if (--g.missing == 0) {
      gathering.remove(p.request());
      g.replyTo.tell(new WorkerProtocol.Running(g.jobs));
    }
    return this;
  }

  private Behavior<Object> onStop(WorkerProtocol.Stop s) {
    local.tell(s);
    remotes.keySet().forEach(r -> r.tell(s));
    return this;
  }

  private Behavior<Object> onReady(Ready r) {
    if (r.ready() != null) {
      Map<String, Long> unroutable = Unroutable.count(r.ready(), capabilities());
      for (String q : queues) {
        metrics.unroutableJobs(q, unroutable.getOrDefault(q, 0L));
      }
      unroutable.forEach((q, n) -> {
        if (!queues.contains(q)) {
          metrics.unroutableJobs(q, n);
        }
      });
    }
    return this;
  }

  /** What the live supervisors can take: the runner's own, and every reachable, accepting node's. */
  private List<Unroutable.Capability> capabilities() {
    List<Unroutable.Capability> live = new ArrayList<>();
    if (localCapability != null) {
      live.add(localCapability);
    }
    remotes.forEach((ref, remote) -> {
      WorkerProtocol.CapacityReport r = remote.report;
      if (remote.reachable && r != null && r.advert() != null && r.accepting() && r.capacity() > 0) {
        live.add(new Unroutable.Capability(r.advert().tags(), r.advert().queues()));
      }
    });
    return live;
  }

  private Behavior<Object> onGetNodes(GetNodes g) {
    List<NodeView> nodes = new ArrayList<>();
    remotes.forEach((ref, remote) -> {
      WorkerProtocol.CapacityReport r = remote.report;
      if (r != null && r.advert() != null) {
        nodes.add(new NodeView(r.advert().node(), ref.path().address().toString(), r.advert().tags(),
            r.advert().queues(), r.capacity(), r.busy(), r.buffered(), r.accepting(), remote.reachable));
      }
    });
    g.replyTo().tell(new Nodes(nodes, capabilities()));
    return this;
  }
}
