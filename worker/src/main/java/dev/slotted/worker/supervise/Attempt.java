package dev.slotted.worker.supervise;

import dev.slotted.protocol.AttemptOutcome;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.WorkerProtocol;
import dev.slotted.worker.Cancellation;
import dev.slotted.worker.JobContext;
import dev.slotted.worker.JobHandler;
import dev.slotted.worker.JobResult;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * One attempt, from the moment a worker takes it until it ends. Shared by the supervisor and the
 * worker child running it; only {@link #thread} is touched off the actors.
 */
final class Attempt {
  private static final int MAX_ERROR_CHARS = 2000;

  final ClaimedJob job;
  /** Null when no handler serves the queue on this runner. */
  final JobHandler handler;
  final JobContext ctx;
  final ActorRef<WorkerProtocol.Event> replyTo;
  final String worker;
  final Instant startedAt;
  /** Null: no timeout. */
  final Duration timeout;

  /** The thread running the handler, so an abandoned attempt can be interrupted. */
  volatile Thread thread;

  /** Supervisor only: the attempt was stopped or interrupted, so no Finished is sent for it. */
  boolean silent;

  Attempt(
      ClaimedJob job,
      JobHandler handler,
      JobContext ctx,
      ActorRef<WorkerProtocol.Event> replyTo,
      String worker,
      Instant startedAt,
      Duration timeout) {
    this.job = job;
    this.handler = handler;
    this.ctx = ctx;
    this.replyTo = replyTo;
    this.worker = worker;
    this.startedAt = startedAt;
    this.timeout = timeout;
  }

  Cancellation cancellation() {
    return ctx.cancellation();
  }

  WorkerProtocol.RunningJob running() {
    return new WorkerProtocol.RunningJob(job.id(), job.leaseToken(), job.queue(), worker, startedAt);
  }

  /** The completion for the handler's result; a timed-out attempt is TIMED_OUT whatever it returned. */
  Completion completion(JobResult r, Instant at) {
    Optional<Cancellation.Reason> why = ctx.cancellation().reason();
    if (why.isPresent() && why.get() == Cancellation.Reason.TIMEOUT) {
      return new Completion(
          job.id(), job.leaseToken(), AttemptOutcome.TIMED_OUT, true,
          "timed out after " + timeout, r.exitCode(), r.logTail(), worker, at);
    }
    if (r instanceof JobResult.Failure f) {
      return new Completion(
          job.id(), job.leaseToken(), AttemptOutcome.FAILED, f.retryable(), clip(f.error()),
          f.exitCode(), f.logTail(), worker, at);
    }
    return new Completion(
        job.id(), job.leaseToken(), AttemptOutcome.SUCCEEDED, false, null, r.exitCode(),
        r.logTail(), worker, at);
  }

  /** A retryable failure that did not come from the handler (worker crash, no handler). */
  Completion failure(String error, Instant at) {
    return new Completion(
        job.id(), job.leaseToken(), AttemptOutcome.FAILED, true, clip(error), null, null, worker, at);
  }

  private static String clip(String s) {
    return s == null || s.length() <= MAX_ERROR_CHARS ? s : s.substring(0, MAX_ERROR_CHARS) + "...";
  }

  @Override
  public String toString() {
    return "attempt " + job.attempt() + " of job " + job.id() + " on " + worker;
  }
}
