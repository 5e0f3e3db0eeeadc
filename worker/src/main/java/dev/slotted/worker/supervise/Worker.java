package dev.slotted.worker.supervise;

import dev.slotted.protocol.Completion;
import dev.slotted.worker.AsyncJobHandler;
import dev.slotted.worker.Cancellation;
import dev.slotted.worker.JobResult;
import dev.slotted.worker.NonRetryableException;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * A worker child: runs one attempt at a time through its handler and reports how it ended to the
 * {@link WorkerSupervisor}. Blocking handlers run on the blocking dispatcher; a non-blocking one
 * (noop) runs right here. It enforces the attempt's deadline, and gives up on a handler that does
 * not return within the stop timeout after a cancel.
 *
 * <p>A handler's {@link Error} crashes this actor on purpose (the supervisor restarts it with
 * backoff); on {@link PreRestart} it cancels its attempt and reports the crash.
 */
final class Worker extends AbstractBehavior<Worker.Command> {

  sealed interface Command {}

  record Run(Attempt attempt) implements Command {}

  private record Returned(Attempt attempt, JobResult result, Throwable error) implements Command {}

  private record DeadlineReached(Attempt attempt) implements Command {}

  private record CancelRequested(Attempt attempt) implements Command {}

  private record GiveUp(Attempt attempt) implements Command {}

  /** What a worker tells its supervisor. */
  sealed interface Report {}

  /** The attempt ended (also sent for stopped attempts: the supervisor decides what to report). */
  record Ended(String worker, Attempt attempt, Completion completion) implements Report {}

  /** The worker crashed (its attempt, if any, was cancelled) and restarts after a backoff. */
  record Crashed(String worker, Attempt attempt, String cause) implements Report {}

  /** The worker is (again) ready for work. */
  record Ready(String worker) implements Report {}

  /** Thrown to crash the worker actor when a handler threw an Error. */
  static final class WorkerCrashedException extends RuntimeException {
    WorkerCrashedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private static final String DEADLINE = "deadline";
  private static final String GIVE_UP = "give-up";

  private final String name;
  private final ActorRef<Report> supervisor;
  private final Executor blocking;
  private final Clock clock;
  private final Duration stopTimeout;
  private final TimerScheduler<Command> timers;
  private Attempt current;
  private String crashCause;

  static Behavior<Command> create(
      String name, ActorRef<Report> supervisor, Executor blocking, Clock clock, Duration stopTimeout) {
    // Every log line about an attempt carries its job id and partition in the MDC.
    return Behaviors.withMdc(
        Command.class,
        Worker::mdc,
        Behaviors.setup(
            ctx ->
                Behaviors.withTimers(
                    timers -> new Worker(ctx, timers, name, supervisor, blocking, clock, stopTimeout))));
  }

  private static java.util.Map<String, String> mdc(Command msg) {
    Attempt a = msg instanceof Run r ? r.attempt()
        : msg instanceof Returned r ? r.attempt()
        : msg instanceof DeadlineReached d ? d.attempt()
        : msg instanceof CancelRequested c ? c.attempt()
        : msg instanceof GiveUp g ? g.attempt()
        : null;
    return a == null
        ? java.util.Map.of()
        : java.util.Map.of("jobId", a.job.id(), "partition", Integer.toString(a.job.partition()));
  }

  private Worker(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      String name,
      ActorRef<Report> supervisor,
      Executor blocking,
      Clock clock,
      Duration stopTimeout) {
    super(ctx);
    this.timers = timers;
    this.name = name;
    this.supervisor = supervisor;
    this.blocking = blocking;
    this.clock = clock;
    this.stopTimeout = stopTimeout;
    supervisor.tell(new Ready(name));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Run.class, this::onRun)
        .onMessage(Returned.class, this::onReturned)
        .onMessage(DeadlineReached.class, this::onDeadlineReached)
        .onMessage(CancelRequested.class, this::onCancelRequested)
        .onMessage(GiveUp.class, this::onGiveUp)
        .onSignal(PreRestart.class, s -> onCrash())
        .onSignal(PostStop.class, s -> onPostStop())
        .build();
  }

  private Behavior<Command> onRun(Run run) {
    Attempt a = run.attempt();
    if (current != null) {
      throw new IllegalStateException(
          "worker " + name + " was given " + a + " while running " + current + ": a supervisor bug");
    }
    current = a;
    if (a.handler == null) {
      finish(a, JobResult.retryableFailure("no handler serves queue '" + a.job.queue() + "' on this runner"));
    } else if (!a.handler.blocking()) {
      // Non-blocking handlers (noop) run here: no thread hop, no timers, at benchmark rates.
      JobResult r;
      try {
        r = invoke(a);
      } catch (Error e) {
        throw crash(a, e);
      }
      finish(a, r);
    } else {
      if (a.ctx.deadline().isPresent()) {
        Duration left = Duration.between(clock.instant(), a.ctx.deadline().get());
        timers.startSingleTimer(DEADLINE, new DeadlineReached(a), left.isNegative() ? Duration.ZERO : left);
      }
      ActorRef<Command> self = getContext().getSelf();
      a.cancellation().onCancel(() -> self.tell(new CancelRequested(a)));
      if (a.handler instanceof AsyncJobHandler async) {
        CompletionStage<JobResult> stage;
        try {
          stage = async.runAsync(a.ctx);
        } catch (Exception e) {
          stage = CompletableFuture.failedFuture(e);
        } catch (Error e) {
          throw crash(a, e);
        }
        // The mapping runs on the thread completing the stage, never on this actor.
        getContext().pipeToSelf(stage, (r, err) -> settled(a, r, err));
      } else {
        getContext()
            .pipeToSelf(
                CompletableFuture.supplyAsync(() -> invoke(a), blocking),
                (r, err) -> new Returned(a, r, unwrap(err)));
      }
    }
    return this;
  }

  private Behavior<Command> onReturned(Returned r) {
    if (r.attempt() != current) {
      return this; // an attempt this worker already gave up on, or one from before a restart
    }
    if (r.error() != null) {
      throw crash(r.attempt(), r.error());
    }
    finish(r.attempt(), r.result());
    return this;
  }

  private Behavior<Command> onDeadlineReached(DeadlineReached d) {
    if (d.attempt() == current) {
      getContext().getLog().info("[{}] timed out after [{}]; stopping it", current, current.timeout);
      current.cancellation().cancel(Cancellation.Reason.TIMEOUT);
    }
    return this;
  }

  private Behavior<Command> onCancelRequested(CancelRequested c) {
    if (c.attempt() == current) {
      timers.startSingleTimer(GIVE_UP, new GiveUp(current), stopTimeout);
    }
    return this;
  }

  private Behavior<Command> onGiveUp(GiveUp g) {
    Attempt a = g.attempt();
    if (a != current) {
      return this;
    }
    getContext()
        .getLog()
        .warn(
            "Handler of [{}] did not return within [{}] of its cancel ({}); interrupting and abandoning"
                + " it (its thread stays busy until it returns)",
            a, stopTimeout, a.cancellation().reason().orElse(null));
    Thread t = a.thread;
    if (t != null) {
      t.interrupt();
    }
    finish(a, JobResult.retryableFailure("the handler did not stop within " + stopTimeout + " of its cancel"));
    return this;
  }

  private void finish(Attempt a, JobResult r) {
    timers.cancel(DEADLINE);
    timers.cancel(GIVE_UP);
    current = null;
    supervisor.tell(new Ended(name, a, a.completion(r, clock.instant())));
  }

  private WorkerCrashedException crash(Attempt a, Throwable t) {
    crashCause = t.toString();
    return new WorkerCrashedException("worker " + name + " crashed running " + a, t);
  }

  private Behavior<Command> onCrash() {
    Attempt a = current;
    current = null;
    if (a != null) {
      a.cancellation().cancel(Cancellation.Reason.WORKER_CRASHED);
    }
    supervisor.tell(new Crashed(name, a, crashCause == null ? "unexpected failure" : crashCause));
    return this;
  }

  private Behavior<Command> onPostStop() {
    if (current != null) {
      // The runner is going down without a drain: do not leave the attempt's processes behind.
      current.cancellation().cancel(Cancellation.Reason.SHUTDOWN);
    }
    return this;
  }

  /** Runs the handler on the calling thread; exceptions become failures, Errors propagate. */
  static JobResult invoke(Attempt a) {
    // An interrupt meant for an attempt abandoned on this pool thread must not hit this one.
    Thread.interrupted();
    a.thread = Thread.currentThread();
    JobResult r = null;
    Exception failure = null;
    try {
      r = a.handler.run(a.ctx);
    } catch (Exception e) {
      failure = e;
    } finally {
      a.thread = null;
      Thread.interrupted();
    }
    return settle(a, r, failure);
  }

  /** An async handler's outcome: an Error crashes the worker, anything else is settled. */
  private static Returned settled(Attempt a, JobResult r, Throwable err) {
    Throwable t = unwrap(err);
    if (t instanceof Exception e) {
      return new Returned(a, settle(a, null, e), null);
    }
    if (t != null) {
      return new Returned(a, null, t);
    }
    return new Returned(a, settle(a, r, null), null);
  }

  /** Turns a handler's return or exception into its result, and fills the tail from its log. */
  private static JobResult settle(Attempt a, JobResult r, Exception failure) {
    if (failure instanceof NonRetryableException e) {
      r = JobResult.nonRetryableFailure(describe(e));
    } else if (failure instanceof InterruptedException) {
      r = JobResult.retryableFailure("interrupted");
    } else if (failure != null) {
      r = JobResult.retryableFailure(describe(failure));
    } else if (r == null) {
      r = JobResult.nonRetryableFailure("the handler returned no result (null)");
    }
    if (a.ctx.logOpened()) {
      try {
        a.ctx.closeLog();
        if (r.logTail() == null) {
          r = withTail(r, a.ctx.logTail());
        }
      } catch (IOException | RuntimeException e) {
        r = withTail(r, "(cannot read the attempt log: " + e + ")");
      }
    }
    return r;
  }

  private static Throwable unwrap(Throwable t) {
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  private static JobResult withTail(JobResult r, String tail) {
    if (r instanceof JobResult.Failure f) {
      return new JobResult.Failure(f.retryable(), f.error(), f.exitCode(), tail);
    }
    return JobResult.success(r.exitCode(), tail);
  }

  private static String describe(Throwable e) {
    if (e instanceof NonRetryableException && e.getMessage() != null) {
      return e.getMessage();
    }
    String msg = e.getMessage();
    return msg == null || msg.isBlank() ? e.getClass().getName() : e.getClass().getSimpleName() + ": " + msg;
  }
}
