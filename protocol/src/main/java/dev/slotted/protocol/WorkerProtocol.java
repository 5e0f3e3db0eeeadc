package dev.slotted.protocol;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Messages between the orchestrator (the runner's window owner, lease keeper, shutdown) and a
 * WorkerSupervisor.
 *
 * <p>Capacity is pushed, not requested per claim: a WorkerSupervisor sends a {@link
 * CapacityReport} to its subscriber whenever what it can take changes, and the orchestrator sizes
 * its claims from the latest one. Claimed jobs arrive in batches ({@link Dispatch}) and wait in the
 * supervisor's buffer, highest priority first, until a worker (and their queue's concurrency)
 * frees: no round trip per claim, so a supervisor may live on another node.
 */
public final class WorkerProtocol {
  private WorkerProtocol() {}

  /** What a WorkerSupervisor accepts. */
  public sealed interface Command {}

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
   */
  public record CapacityReport(
      int capacity,
      int busy,
      int buffered,
      long received,
      Map<String, Integer> room,
      Map<String, Long> receivedByQueue,
      boolean accepting) {
    public CapacityReport {
      room = Map.copyOf(room);
      receivedByQueue = Map.copyOf(receivedByQueue);
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

  /** Asks for the leases of every attempt still running (for lease renewal). */
  public record GetRunning(ActorRef<Running> replyTo) implements Command {}

  /** The attempts running now. */
  public record Running(List<RunningJob> jobs) {
    public Running {
      jobs = List.copyOf(jobs);
    }
  }

  /**
   * One running attempt. {@code worker} and {@code startedAt} are null for a buffered job still
   * waiting for a worker: its lease must be renewed too.
   */
  public record RunningJob(String jobId, String leaseToken, String queue, String worker, Instant startedAt) {}

  /**
   * Graceful shutdown: accept no more work, let running attempts finish for up to {@code grace}
   * (their {@link Finished} events still flow), then stop the rest and reply, once they have ended,
   * with them and whatever was still buffered (so their leases can be released and no other runner
   * starts a job whose process is still dying).
   */
  public record Drain(Duration grace, ActorRef<Drained> replyTo) implements Command {}

  /** The attempts that had to be stopped when the grace ran out. */
  public record Drained(List<RunningJob> interrupted) {
    public Drained {
      interrupted = List.copyOf(interrupted);
    }
  }

  /** What a WorkerSupervisor reports about the jobs it was given. */
  public sealed interface Event {}

  /** An attempt started on a worker (for the dispatch-delay metric and the attempt's worker). */
  public record Started(ClaimedJob job, String worker, Instant startedAt) implements Event {}

  /**
   * An attempt ended. Every completion carries the lease token of its claim. Not sent for attempts
   * ended by {@link Stop}.
   */
  public record Finished(ClaimedJob job, Completion completion, Instant startedAt) implements Event {}
}
