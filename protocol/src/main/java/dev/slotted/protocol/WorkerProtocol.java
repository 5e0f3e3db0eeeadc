package dev.slotted.protocol;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Messages between the orchestrator (Reconcilers, lease keeper, shutdown) and a WorkerSupervisor.
 *
 * <p>Capacity is reserved before a claim, so that the Reconcilers of all partitions together never
 * claim more jobs than the runner has free workers: {@link Reserve} → {@link Reservation} → claim in
 * the store → {@link Dispatch} (which returns whatever part of the reservation was not used).
 */
public final class WorkerProtocol {
  private WorkerProtocol() {}

  /** What a WorkerSupervisor accepts. */
  public sealed interface Command {}

  /** Reserve up to {@code max} free worker slots. */
  public record Reserve(int max, ActorRef<Reservation> replyTo) implements Command {
    public Reserve {
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /**
   * A reservation of {@code total} worker slots. {@code limitedQueues} holds, for each queue with a
   * concurrency limit, how many of the reserved slots it may use; queues not listed may use any.
   * A queue listed with 0 must not be claimed from now. Every reservation, even one of 0 slots or
   * one whose claim failed, is answered with exactly one {@link Dispatch} (possibly empty), best
   * built with {@link Dispatch#under}: the {@code id} lets the supervisor give back exactly the
   * per-queue part of this reservation.
   */
  public record Reservation(long id, int total, Map<String, Integer> limitedQueues) {
    public Reservation {
      limitedQueues = Map.copyOf(limitedQueues);
    }

    /** A reservation without an id (matched to its Dispatch by size). */
    public Reservation(int total, Map<String, Integer> limitedQueues) {
      this(0, total, limitedQueues);
    }
  }

  /**
   * Run these claimed jobs. {@code reserved} is the size of the reservation they were claimed
   * under, and {@code reservationId} its id (0 if unknown): the slots not used by {@code jobs} are
   * given back. Events go to {@code replyTo}.
   */
  public record Dispatch(
      List<ClaimedJob> jobs, int reserved, long reservationId, ActorRef<Event> replyTo)
      implements Command {
    public Dispatch {
      jobs = List.copyOf(jobs);
      if (jobs.size() > reserved) {
        throw new IllegalArgumentException(
            "dispatching " + jobs.size() + " jobs under a reservation of " + reserved);
      }
    }

    /** A dispatch that names only the reservation's size (matched to it by size). */
    public Dispatch(List<ClaimedJob> jobs, int reserved, ActorRef<Event> replyTo) {
      this(jobs, reserved, 0, replyTo);
    }

    /** The jobs claimed under {@code reservation} (all of it is given back, less these jobs). */
    public static Dispatch under(
        Reservation reservation, List<ClaimedJob> jobs, ActorRef<Event> replyTo) {
      return new Dispatch(jobs, reservation.total(), reservation.id(), replyTo);
    }
  }

  /**
   * Stop these attempts at once (the job was cancelled, or this runner lost its lease). Their
   * processes get SIGTERM, then SIGKILL after the kill grace. No completion needs to be written:
   * the store has already moved on.
   */
  public record Stop(Set<String> jobIds, String reason) implements Command {
    public Stop {
      jobIds = Set.copyOf(jobIds);
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
   * One running attempt. {@code worker} and {@code startedAt} are null for a dispatched job still
   * waiting for a worker (its queue was at its concurrency limit): its lease must be renewed too.
   */
  public record RunningJob(String jobId, String leaseToken, String queue, String worker, Instant startedAt) {}

  /**
   * Graceful shutdown: accept no more work (every later {@link Reserve} gets 0 slots), let running
   * attempts finish for up to {@code grace} (their {@link Finished} events still flow), then stop
   * the rest and reply, once they have ended, with them (so their leases can be released and no
   * other runner starts a job whose process is still dying). Jobs dispatched under reservations
   * made before the drain still run.
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
