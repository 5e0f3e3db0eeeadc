package dev.slotted.orchestrator.schedule;

import dev.slotted.orchestrator.config.QueueSettings;
import dev.slotted.orchestrator.config.Settings;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.Submitted;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.NewJob;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntPredicate;

/**
 * The firing side of {@link Schedules}: a pass of a runner's firer over the schedules it owns,
 * each fired with {@link ScheduleFiring#fireDue} (submit, then record) on a state checked against
 * the journal, with every submit under the journal fence ({@link JournalIndex#fenced}) and inside
 * the runner's window.
 */
public final class FirePass {

  /**
   * What one schedule's turn of the firer did.
   *
   * @param submitted the jobs submitted (created, or found by their key when a fire was replayed)
   * @param nextFire the schedule's next fire time after this turn, if it is active
   * @param again run another turn at once: another process changed the schedule meanwhile, or
   *     this turn resumed an older plan and more may be due since
   * @param error why the turn stopped early, if it did (it is retried at the next turn)
   */
  public record FireResult(
      String name, List<Submitted> submitted, Optional<Instant> nextFire, boolean again, Throwable error) {
    public FireResult {
      submitted = List.copyOf(submitted);
    }
  }

  private final Schedules schedules;
  private final JournalIndex index;
  private final ScheduleSettings scheduleSettings;
  private final Settings settings;
  /**
   * When the plan of a schedule whose turn did not complete was made. Its next turn plans as of
   * that instant: which fire times count as missed (more than the misfire threshold late) is
   * decided once, not again each time a window closes mid-plan.
   */
  private final ConcurrentMap<String, Instant> unfinishedPlans = new ConcurrentHashMap<>();

  FirePass(Schedules schedules, JournalIndex index, ScheduleSettings scheduleSettings, Settings settings) {
    this.schedules = schedules;
    this.index = index;
    this.scheduleSettings = scheduleSettings;
    this.settings = settings;
  }

  /**
   * Fires what is due for one schedule ({@link ScheduleFiring#fireDue}): each job is submitted
   * under the journal fence, and only while {@code clock} is before {@code closesAt} (the runner's
   * window), then the fire is recorded. The returned stage never fails: problems are in {@link
   * FireResult#error()}.
   *
   * @param journalSeq the schedule's highest journal sequence number, read just before
   */
  CompletionStage<FireResult> fireDue(
      String name, long journalSeq, JobStore store, Clock clock, Instant closesAt) {
    List<Submitted> submitted = new CopyOnWriteArrayList<>();
    return schedules.fresh(name, journalSeq).thenCompose(v -> {
      if (v.state().isEmpty()) {
        return CompletableFuture.completedFuture(new FireResult(name, List.of(), Optional.empty(), false, null));
      }
      ScheduleState state = v.state().get();
      Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
      Instant planAt = planTime(name, now);
      Misfire.Plan plan = ScheduleFiring.plan(state, planAt, scheduleSettings);
      if (plan.fires().isEmpty() && plan.latestMissed().isEmpty()) {
        unfinishedPlans.remove(name);
        return CompletableFuture.completedFuture(
            new FireResult(name, List.of(), nextFire(state, now), planAt.isBefore(now), null));
      }
      unfinishedPlans.putIfAbsent(name, planAt);
      AtomicLong expected = new AtomicLong(v.sequenceNr());
      ScheduleFiring.Jobs jobs = new ScheduleFiring.Jobs() {
        @Override
        public CompletionStage<Submitted> submit(NewJob job) {
          return index.fenced(name, expected.get(), () -> clock.instant().isBefore(closesAt),
                  () -> store.submit(schedules.complete(job, name), clock))
              .thenApply(s -> {
                submitted.add(s);
                return s;
              });
        }

        @Override
        public CompletionStage<Optional<Job>> get(String id) {
          return store.get(id);
        }
      };
      QueueSettings qs = settings.queue(state.spec().job().queue());
      int defaultMaxAttempts = qs == null ? NewJob.DEFAULT_MAX_ATTEMPTS : qs.maxAttempts();
      return ScheduleFiring.fireDue(jobs, recorder(name, expected), state, planAt, now, scheduleSettings,
              defaultMaxAttempts)
          .thenApply(outcomes -> {
            unfinishedPlans.remove(name);
            return new FireResult(name, submitted, nextFire(state, now), planAt.isBefore(now), null);
          });
    }).exceptionally(e -> {
      Throwable cause = Schedules.unwrap(e);
      if (cause instanceof JournalIndex.WindowClosedException) {
        return new FireResult(name, submitted, Optional.empty(), false, null);
      }
      // Stale, or a write that lost a race or timed out: the next turn starts from the journal
      // (a fire submitted but not recorded is fired again there, and its key finds the same job).
      schedules.evict(name);
      boolean stale = cause instanceof JournalIndex.StaleException || cause instanceof ScheduleConflictException;
      return new FireResult(name, submitted, Optional.empty(), stale, stale ? null : cause);
    });
  }

  /**
   * What one pass of the firer did over the schedules this runner owns.
   *
   * @param nextFire the earliest next fire time among them
   * @param again some schedule changed under the pass (or the window closed mid-pass): run again
   */
  public record PassResult(List<FireResult> results, Optional<Instant> nextFire, boolean again) {
    public PassResult {
      results = List.copyOf(results);
    }
  }

  /**
   * Fires, one schedule after the other, everything due among the schedules whose partition
   * ({@link JobStore#partitionOf} of {@link Schedules#partitionKey}) {@code owns} accepts. Stops when the
   * window closes. The returned stage fails only when the journal cannot be read.
   */
  public CompletionStage<PassResult> run(
      IntPredicate owns, JobStore store, Clock clock, Instant closesAt) {
    return index.versions().thenCompose(versions -> {
      List<FireResult> results = new CopyOnWriteArrayList<>();
      CompletionStage<Boolean> chain = CompletableFuture.completedFuture(false);
      for (Map.Entry<String, Long> e : versions.entrySet()) {
        if (!owns.test(store.partitionOf(Schedules.partitionKey(e.getKey()), null))) {
          continue;
        }
        chain = chain.thenCompose(again -> {
          if (!clock.instant().isBefore(closesAt)) {
            return CompletableFuture.completedFuture(true);
          }
          return fireDue(e.getKey(), e.getValue(), store, clock, closesAt).thenApply(r -> {
            results.add(r);
            return again || r.again();
          });
        });
      }
      return chain.thenApply(again -> new PassResult(results,
          results.stream().flatMap(r -> r.nextFire().stream()).min(Instant::compareTo), again));
    });
  }

  /** When to plan a schedule's turn: now, or when its unfinished plan was made. */
  private Instant planTime(String name, Instant now) {
    Instant unfinished = unfinishedPlans.get(name);
    if (unfinished == null) {
      return now;
    }
    if (unfinished.isBefore(now.minus(scheduleSettings.misfireThreshold())) || unfinished.isAfter(now)) {
      // Left over from long ago (the schedule was owned elsewhere meanwhile): plan afresh.
      unfinishedPlans.remove(name);
      return now;
    }
    return unfinished;
  }

  /** The schedule's next fire time after {@code now}, when it is active. */
  static Optional<Instant> nextFire(ScheduleState state, Instant now) {
    if (!state.exists() || state.paused()) {
      return Optional.empty();
    }
    return FireTimes.of(state.spec()).nextAfter(now);
  }

  /** Records fires in the entity, and follows its sequence number so the fence expects our own writes. */
  private ScheduleFiring.FireRecorder recorder(String name, AtomicLong expected) {
    return new ScheduleFiring.FireRecorder() {
      @Override
      public CompletionStage<ScheduleState> fired(Instant fireInstant, String jobId, boolean manual, Instant at) {
        return track(schedules.ask(name, r -> new ScheduleEntity.RecordFire(fireInstant, jobId, manual, at, r), Schedules.WRITE_TIMEOUT));
      }

      @Override
      public CompletionStage<ScheduleState> skipped(Instant fireInstant, String reason, Instant at) {
        return track(schedules.ask(name, r -> new ScheduleEntity.RecordSkip(fireInstant, reason, at, r), Schedules.WRITE_TIMEOUT));
      }

      private CompletionStage<ScheduleState> track(CompletionStage<ScheduleState> written) {
        return written.thenCompose(st -> schedules.versioned(name).thenApply(v -> {
          expected.set(v.sequenceNr());
          schedules.remember(name, v);
          return st;
        }));
      }
    };
  }
}
