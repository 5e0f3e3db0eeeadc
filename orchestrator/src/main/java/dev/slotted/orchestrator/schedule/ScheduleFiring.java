package dev.slotted.orchestrator.schedule;

import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.Submitted;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.NewJob;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Firing a schedule (DESIGN §6, G4): submit the fire's job with the idempotency key {@code
 * schedule:<name>:<fire instant>}, <em>then</em> record the fire in the schedule's entity. A crash
 * between the two cannot duplicate the job: the fire time is still due after the restart, and its
 * replayed submit hits the same key, which returns the job created the first time.
 *
 * <p>The stages returned here complete on the store's executor or the ask's; callers inside an
 * actor pipe them to themselves.
 */
public final class ScheduleFiring {

  private ScheduleFiring() {}

  /** Records fires and skips in a schedule's entity. */
  public interface FireRecorder {
    CompletionStage<ScheduleState> fired(Instant fireInstant, String jobId, boolean manual, Instant at);

    CompletionStage<ScheduleState> skipped(Instant fireInstant, String reason, Instant at);
  }

  /**
   * The two job-store operations firing needs. The runtime passes a fenced view of the store
   * (see {@code Schedules}); tests and simple callers use {@link #of(JobStore)}.
   */
  public interface Jobs {
    /** Submits the fired job; the store stamps it with its clock, inside the write. */
    CompletionStage<Submitted> submit(NewJob job);

    CompletionStage<Optional<Job>> get(String id);

    static Jobs of(JobStore store, Clock clock) {
      return new Jobs() {
        @Override
        public CompletionStage<Submitted> submit(NewJob job) {
          return store.submit(job, clock);
        }

        @Override
        public CompletionStage<Optional<Job>> get(String id) {
          return store.get(id);
        }
      };
    }
  }

  /** What became of one planned fire time. */
  public record Outcome(Instant fireInstant, Optional<Job> job, boolean created, String skipped) {
    public static Outcome fired(Instant t, Submitted s) {
      return new Outcome(t, Optional.of(s.job()), s.created(), null);
    }

    public static Outcome skipped(Instant t, String reason) {
      return new Outcome(t, Optional.empty(), false, reason);
    }
  }

  /** The idempotency key of a schedule's fire: {@code schedule:<name>:<fire instant ISO-8601>}. */
  public static String idempotencyKey(String name, Instant fireInstant) {
    return "schedule:" + name + ":" + DateTimeFormatter.ISO_INSTANT.format(fireInstant);
  }

  /** The idempotency key of a manual trigger, apart from every fire time's key. */
  public static String triggerKey(String name, Instant at) {
    return "schedule:" + name + ":trigger:" + DateTimeFormatter.ISO_INSTANT.format(at);
  }

  /** The job of one fire: the template, keyed by the fire time, visible from the fire time on. */
  public static NewJob jobFor(ScheduleSpec spec, Instant fireInstant, int defaultMaxAttempts) {
    return spec.job().toNewJob(idempotencyKey(spec.name(), fireInstant), fireInstant, defaultMaxAttempts);
  }

  /** What a schedule fires now: nothing while paused or deleted, else {@link Misfire#plan}. */
  public static Misfire.Plan plan(ScheduleState state, Instant now, ScheduleSettings settings) {
    if (!state.exists() || state.paused()) {
      return new Misfire.Plan(List.of(), Optional.empty());
    }
    return Misfire.plan(FireTimes.of(state.spec()), state.spec().misfire(), state.cursor(), now,
        settings.misfireThreshold(), settings.maxCatchUp());
  }

  /**
   * Fires one fire time: submit, then record. The returned stage fails if either step fails; the
   * fire time then stays due and the next attempt is safe.
   */
  public static CompletionStage<Outcome> fire(
      Jobs store, FireRecorder recorder, ScheduleSpec spec, Instant fireInstant, Instant now,
      int defaultMaxAttempts) {
    return store.submit(jobFor(spec, fireInstant, defaultMaxAttempts))
        .thenCompose(s -> recorder.fired(fireInstant, s.job().id(), false, now)
            .thenApply(state -> Outcome.fired(fireInstant, s)));
  }

  /**
   * Fires everything due for one schedule, in order: each planned fire time is fired, or skipped
   * (and recorded as skipped) when its overlap policy says the previous fire's job is unfinished.
   * Under the skip misfire policy the latest missed fire time is recorded as skipped, so later plans
   * start after it.
   */
  public static CompletionStage<List<Outcome>> fireDue(
      Jobs store, FireRecorder recorder, ScheduleState state, Instant now,
      ScheduleSettings settings, int defaultMaxAttempts) {
    return fireDue(store, recorder, state, now, now, settings, defaultMaxAttempts);
  }

  /**
   * As {@link #fireDue(Jobs, FireRecorder, ScheduleState, Instant, ScheduleSettings, int)}, with
   * the plan made as of {@code planAt} (at or before {@code now}): a plan that was cut short (its
   * runner's window closed) is resumed as it was made, so a fire time that was on time then is not
   * counted as missed because it waited for the next window.
   */
  public static CompletionStage<List<Outcome>> fireDue(
      Jobs store, FireRecorder recorder, ScheduleState state, Instant planAt, Instant now,
      ScheduleSettings settings, int defaultMaxAttempts) {
    Misfire.Plan plan = plan(state, planAt, settings);
    List<Outcome> outcomes = new ArrayList<>();
    ScheduleSpec spec = state.spec();
    CompletionStage<Optional<String>> chain = CompletableFuture.completedFuture(state.previousJobId());
    if (spec != null && spec.misfire() == MisfirePolicy.SKIP && plan.latestMissed().isPresent()) {
      Instant missed = plan.latestMissed().get();
      chain = chain.thenCompose(prev -> recorder.skipped(missed, "misfire", now)
          .thenApply(st -> {
            outcomes.add(Outcome.skipped(missed, "misfire"));
            return prev;
          }));
    }
    for (Instant t : plan.fires()) {
      chain = chain.thenCompose(prev -> fireOrSkip(store, recorder, spec, t, now, defaultMaxAttempts, prev)
          .thenApply(o -> {
            outcomes.add(o);
            return o.job().map(Job::id).or(() -> prev);
          }));
    }
    return chain.thenApply(prev -> List.copyOf(outcomes));
  }

  private static CompletionStage<Outcome> fireOrSkip(
      Jobs store, FireRecorder recorder, ScheduleSpec spec, Instant t, Instant now,
      int defaultMaxAttempts, Optional<String> previousJobId) {
    if (spec.overlap() == OverlapPolicy.ALLOW || previousJobId.isEmpty()) {
      return fire(store, recorder, spec, t, now, defaultMaxAttempts);
    }
    return store.get(previousJobId.get()).thenCompose(previous -> {
      Optional<JobState> previousState = previous.map(Job::state);
      if (spec.overlap().skips(previousState)) {
        return recorder.skipped(t, "overlap", now).thenApply(st -> Outcome.skipped(t, "overlap"));
      }
      return fire(store, recorder, spec, t, now, defaultMaxAttempts);
    });
  }

  /** A recorder that asks the schedule's entity, failing the stage on a refusal or a timeout. */
  public static FireRecorder recorder(
      ActorRef<ScheduleEntity.Command> entity, Scheduler scheduler, Duration timeout) {
    return new FireRecorder() {
      @Override
      public CompletionStage<ScheduleState> fired(Instant fireInstant, String jobId, boolean manual, Instant at) {
        return AskPattern.askWithStatus(entity,
            replyTo -> new ScheduleEntity.RecordFire(fireInstant, jobId, manual, at, replyTo), timeout, scheduler);
      }

      @Override
      public CompletionStage<ScheduleState> skipped(Instant fireInstant, String reason, Instant at) {
        return AskPattern.askWithStatus(entity,
            replyTo -> new ScheduleEntity.RecordSkip(fireInstant, reason, at, replyTo), timeout, scheduler);
      }
    };
  }
}
