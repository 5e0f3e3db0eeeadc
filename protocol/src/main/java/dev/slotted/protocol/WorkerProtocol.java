package dev.slotted.protocol;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * Messages between the orchestrator (the runner's window owner, lease keeper, shutdown) and a
 * WorkerSupervisor.
 *
 * <p>Capacity is pushed, not requested per claim: a WorkerSupervisor sends a {@link
 * CapacityReport} to its subscriber whenever what it can take changes, and the orchestrator sizes
 * its claims from the latest one. Claimed jobs arrive in batches ({@link Dispatch}) and wait in the
 * supervisor's buffer, highest priority first, until a worker (and their queue's concurrency)
 * frees: no round trip per claim, so a supervisor may live on another node.
 *
 * <p>Worker-only nodes register their entry point under {@link #WORKERS} with the Receptionist;
 * orchestrators register the inbox of their workers' events under {@link #ORCHESTRATORS}, where a
 * worker whose orchestrator died finds another one for its completions ({@link Completions}).
 */
public final class WorkerProtocol {
  private WorkerProtocol() {}

  /** The worker nodes' entry points (one per node), in the Receptionist. */
  public static final ServiceKey<Command> WORKERS = ServiceKey.create(Command.class, "slotted-workers");

  /** The orchestrators' inboxes of worker events, in the Receptionist. */
  public static final ServiceKey<Inbound> ORCHESTRATORS = ServiceKey.create(Inbound.class, "slotted-orchestrators");

  /** What a WorkerSupervisor accepts. */
  public sealed interface Command extends CrossNode {}

  /**
   * Who a WorkerSupervisor is and what it serves.
   *
   * @param node its node's {@code slotted.node-id}; attempts name their worker {@code node/w-n}
   * @param tags the capabilities it advertises: it runs a job only if all the job's tags are here
   * @param queues the queues it has handlers for
   */
  public record Advert(String node, Set<String> tags, Set<String> queues) implements CrossNode {
    public Advert {
      Objects.requireNonNull(node, "node");
      tags = Set.copyOf(tags);
      queues = Set.copyOf(queues);
    }
  }

  /** Send a {@link CapacityReport} to {@code subscriber} now and whenever it changes. */
  public record Subscribe(ActorRef<CapacityReport> subscriber) implements Command {
    public Subscribe {
      Objects.requireNonNull(subscriber, "subscriber");
    }
  }

  /**
   * What a WorkerSupervisor holds and can take.
   *
   * @param capacity the size of its worker pool
   * @param busy workers running an attempt (or backing off after a crash)
   * @param buffered claimed jobs waiting for a worker
   * @param received jobs received through {@link Dispatch} since it started: the orchestrator
   *     compares it with what it dispatched to know what is still on its way
   * @param room per queue with a concurrency limit, how many more jobs of it may be claimed (limit -
   *     buffered: at most one limit's worth waits besides those running); queues not listed are
   *     limited by capacity alone
   * @param receivedByQueue per limited queue, jobs received since start
   * @param accepting false once draining: claim nothing more for it
   * @param supervisor where to send {@link Dispatch}es for it (null: the one subscribed to)
   * @param advert who it is and what it serves (null: unknown, the subscriber's own settings)
   */
  public record CapacityReport(
      int capacity,
      int busy,
      int buffered,
      long received,
      Map<String, Integer> room,
      Map<String, Long> receivedByQueue,
      boolean accepting,
      ActorRef<Command> supervisor,
      Advert advert) implements CrossNode {
    public CapacityReport {
      room = Map.copyOf(room);
      receivedByQueue = Map.copyOf(receivedByQueue);
    }

    /** A report without identity (a lone runner's own supervisor). */
    public CapacityReport(int capacity, int busy, int buffered, long received, Map<String, Integer> room,
        Map<String, Long> receivedByQueue, boolean accepting) {
      this(capacity, busy, buffered, received, room, receivedByQueue, accepting, null, null);
    }

    /** The same figures, naming the supervisor that sent them. */
    public CapacityReport from(ActorRef<Command> ref, Advert who) {
      return new CapacityReport(capacity, busy, buffered, received, room, receivedByQueue, accepting, ref, who);
    }

    /** Workers with nothing to run. */
    public int idle() {
      return Math.max(0, capacity - busy);
    }
  }

  /**
   * Run these claimed jobs: each starts as soon as a worker and its queue's concurrency allow,
   * highest priority first; until then it waits in the buffer (its lease is renewed meanwhile).
   * Events go to {@code replyTo}.
   */
  public record Dispatch(List<ClaimedJob> jobs, ActorRef<Event> replyTo) implements Command {
    public Dispatch {
      jobs = List.copyOf(jobs);
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /**
   * Shutdown (G8): hand back every buffered job at once (they have not started; their leases are
   * released so another runner starts them now), and accept no more work.
   */
  public record TakeBuffer(ActorRef<Running> replyTo) implements Command {}

  /**
   * Stop these attempts at once (the job was cancelled, or this runner lost its lease). Their
   * processes get SIGTERM, then SIGKILL after the kill grace. No completion needs to be written:
   * the store has already moved on. {@code leases} maps job id to lease token: only the attempt
   * holding that very lease is stopped, never a later attempt of the same job.
   */
  public record Stop(Map<String, String> leases, String reason) implements Command {
    public Stop {
      leases = Map.copyOf(leases);
    }
  }

  /**
   * Asks for the leases of every attempt still running (for lease renewal). {@code dispatchedBy}
   * (null: all) keeps only the attempts whose events go to that orchestrator: on a worker node
   * shared by several orchestrators, each renews (and may stop) only the leases it holds.
   */
  public record GetRunning(ActorRef<Running> replyTo, ActorRef<Inbound> dispatchedBy) implements Command {
    public GetRunning(ActorRef<Running> replyTo) {
      this(replyTo, null);
    }
  }

  /** The attempts running now. */
  public record Running(List<RunningJob> jobs) implements CrossNode {
    public Running {
      jobs = List.copyOf(jobs);
    }
  }

  /**
   * One running attempt. {@code worker} and {@code startedAt} are null for a buffered job still
   * waiting for a worker: its lease must be renewed too.
   */
  public record RunningJob(String jobId, String leaseToken, String queue, String worker, Instant startedAt)
      implements CrossNode {}

  /**
   * Graceful shutdown: accept no more work, let running attempts finish for up to {@code grace}
   * (their {@link Finished} events still flow), then stop the rest and reply, once they have ended,
   * with them and whatever was still buffered (so their leases can be released and no other runner
   * starts a job whose process is still dying).
   */
  public record Drain(Duration grace, ActorRef<Drained> replyTo) implements Command {}

  /** The attempts that had to be stopped when the grace ran out. */
  public record Drained(List<RunningJob> interrupted) implements CrossNode {
    public Drained {
      interrupted = List.copyOf(interrupted);
    }
  }

  /** What an orchestrator's inbox of worker events accepts. */
  public sealed interface Inbound extends CrossNode {}

  /** What a WorkerSupervisor reports about the jobs it was given. */
  public sealed interface Event extends Inbound {}

  /** An attempt started on a worker (for the dispatch-delay metric and the attempt's worker). */
  public record Started(ClaimedJob job, String worker, Instant startedAt) implements Event {}

  /**
   * An attempt ended. Every completion carries the lease token of its claim. Not sent for attempts
   * ended by {@link Stop}.
   */
  public record Finished(ClaimedJob job, Completion completion, Instant startedAt) implements Event {}

  /**
   * A worker node's completions, in a batch, to an orchestrator (the one that dispatched them, or
   * any live one if that one is gone): written in its window, fenced by their lease tokens. Sent
   * again, to whichever orchestrator is alive then, until acknowledged; the inbox drops a
   * completion it already took.
   */
  public record Completions(long seq, List<Finished> finished, ActorRef<CompletionsAck> replyTo) implements Inbound {
    public Completions {
      finished = List.copyOf(finished);
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** The inbox took the {@link Completions} of this number. */
  public record CompletionsAck(long seq) implements CrossNode {}
}
