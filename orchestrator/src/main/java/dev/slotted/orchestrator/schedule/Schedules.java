package dev.slotted.orchestrator.schedule;

import dev.slotted.orchestrator.config.QueueSettings;
import dev.slotted.orchestrator.config.Settings;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.Submitted;
import dev.slotted.protocol.NewJob;
import dev.slotted.protocol.ValidationException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.IntPredicate;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.pattern.StatusReply;

/**
 * This process's access to the schedules, shared by the HTTP API, the declared schedules at start
 * and the runner's firer.
 *
 * <p><b>Several processes, one journal.</b> Every runner process keeps its own entity per schedule
 * and they all append to one journal file, so an entity's state goes stale as soon as another
 * process writes the same schedule. The journal's highest sequence number per schedule ({@link
 * JournalIndex}) is the truth: before any use, an entity whose sequence number is behind it is
 * evicted, and its replacement replays the journal (from the latest snapshot, so this stays cheap).
 * A write can still race another process's write of the same schedule between that check and the
 * append; the journal's unique (persistence_id, sequence_number) refuses the loser, whose entity
 * restarts and replays, and whose caller here retries once on a fresh entity (every command is
 * idempotent or checked for it). A fire takes more care, because its job submit happens outside
 * the journal: it runs under {@link JournalIndex#fenced}, so a pause acknowledged by any process is
 * never followed by a fire.
 */
public final class Schedules implements AutoCloseable {

  /** The partition key of a schedule: its owner fires it, and its jobs land in that partition. */
  public static String partitionKey(String name) {
    return "schedule:" + name;
  }

  static final Duration READ_TIMEOUT = Duration.ofSeconds(10);
  /**
   * A write's reply normally comes within milliseconds, and a refused append is answered after the
   * entity's restart ({@link ScheduleConflictException}); this only bounds a lost reply.
   */
  static final Duration WRITE_TIMEOUT = Duration.ofSeconds(10);

  private final ActorRef<ScheduleEntities.Command> entities;
  private final Scheduler scheduler;
  private final JournalIndex index;
  private final ScheduleSettings scheduleSettings;
  private final Settings settings;
  private final ConcurrentMap<String, ScheduleEntity.Versioned> cache = new ConcurrentHashMap<>();
  private final FirePass firing;

  public Schedules(
      ActorRef<ScheduleEntities.Command> entities, Scheduler scheduler, JournalIndex index,
      ScheduleSettings scheduleSettings, Settings settings) {
    this.entities = Objects.requireNonNull(entities, "entities");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.index = Objects.requireNonNull(index, "index");
    this.scheduleSettings = Objects.requireNonNull(scheduleSettings, "scheduleSettings");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.firing = new FirePass(this, index, scheduleSettings, settings);
  }

  /**
   * Starts the schedules of a process on {@code system}, whose configuration went through {@link
   * ScheduleJournal#configure} and whose journal schema exists.
   */
  public static Schedules start(ActorSystem<?> system, ScheduleSettings scheduleSettings, Settings settings, Clock clock) {
    JournalIndex index = JournalIndex.open(scheduleSettings);
    ActorRef<ScheduleEntities.Command> entities =
        system.systemActorOf(ScheduleEntities.create(scheduleSettings, clock), "schedule-entities", Props.empty());
    return new Schedules(entities, system.scheduler(), index, scheduleSettings, settings);
  }

  public ScheduleSettings scheduleSettings() {
    return scheduleSettings;
  }

  /** The highest journal sequence number of every schedule name ever used. */
  public CompletionStage<Map<String, Long>> versions() {
    return index.versions();
  }

  // ---- reads -----------------------------------------------------------------------------------

  /** The current state of a schedule; empty when it does not exist (or was deleted). */
  public CompletionStage<Optional<ScheduleState>> get(String name) {
    if (!ScheduleSpec.NAME.matcher(name).matches()) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    return fresh(name).thenApply(ScheduleEntity.Versioned::state);
  }

  /** Every existing schedule, by name. */
  public CompletionStage<List<ScheduleState>> list() {
    return index.versions().thenCompose(versions -> {
      List<CompletableFuture<ScheduleEntity.Versioned>> all = new ArrayList<>();
      versions.forEach((name, seq) -> all.add(fresh(name, seq).toCompletableFuture()));
      return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> all.stream()
          .map(CompletableFuture::join)
          .flatMap(x -> x.state().stream())
          .toList());
    });
  }

  // ---- writes ----------------------------------------------------------------------------------

  /** Creates a schedule; fails with {@link ScheduleExistsException} when the name is taken. */
  public CompletionStage<ScheduleState> create(ScheduleSpec spec, Instant at) {
    String name = checkedName(spec.name());
    return write(name, r -> new ScheduleEntity.Create(spec, at, r), retryError -> {
      // The first attempt may have created it before its reply was lost.
      if (unwrap(retryError) instanceof ScheduleExistsException) {
        return get(name).thenApply(s -> s.filter(st -> sameSpec(st.spec(), spec))
            .orElseThrow(() -> new CompletionException(unwrap(retryError))));
      }
      return CompletableFuture.failedFuture(retryError);
    });
  }

  /** Replaces a schedule's spec; fails with {@link ScheduleNotFoundException}. */
  public CompletionStage<ScheduleState> update(ScheduleSpec spec, Instant at) {
    return write(checkedName(spec.name()), r -> new ScheduleEntity.Update(spec, at, r), Schedules.<ScheduleState>failing());
  }

  /** Creates or replaces (declared schedules). */
  public CompletionStage<ScheduleState> upsert(ScheduleSpec spec, Instant at) {
    return write(checkedName(spec.name()), r -> new ScheduleEntity.Upsert(spec, at, r), Schedules.<ScheduleState>failing());
  }

  public CompletionStage<ScheduleState> pause(String name, Instant at) {
    return write(checkedName(name), r -> new ScheduleEntity.Pause(at, r), Schedules.<ScheduleState>failing());
  }

  public CompletionStage<ScheduleState> resume(String name, Instant at) {
    return write(checkedName(name), r -> new ScheduleEntity.Resume(at, r), Schedules.<ScheduleState>failing());
  }

  public CompletionStage<Done> delete(String name, Instant at) {
    return write(checkedName(name), r -> new ScheduleEntity.Delete(at, r), retryError ->
        unwrap(retryError) instanceof ScheduleNotFoundException
            ? CompletableFuture.completedFuture(Done.getInstance())
            : CompletableFuture.failedFuture(retryError));
  }

  /**
   * Submits the schedule's job now, with the key {@link ScheduleFiring#triggerKey}, then records it
   * in the schedule's history. A paused schedule can be triggered: a trigger is an operator's
   * explicit act, not a fire time. Fails with {@link ScheduleNotFoundException}, or {@link
   * ValidationException} when the schedule's queue is no longer configured.
   */
  public CompletionStage<Submitted> trigger(String name, JobStore store, Clock clock) {
    Instant at = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    return fresh(checkedName(name)).thenCompose(v -> {
      ScheduleState state = v.state().orElseThrow(() -> new ScheduleNotFoundException(name));
      ScheduleSpec spec = state.spec();
      QueueSettings qs = settings.queue(spec.job().queue());
      if (qs == null) {
        throw new ValidationException("job.queue", "the schedule's queue '" + spec.job().queue()
            + "' is not configured; known queues: " + knownQueues());
      }
      NewJob job = complete(spec.job().toNewJob(ScheduleFiring.triggerKey(name, at), at, qs.maxAttempts()), name);
      return store.submit(job, clock).thenCompose(s -> write(name,
              r -> new ScheduleEntity.RecordFire(at, s.job().id(), true, at, r), Schedules.<ScheduleState>failing())
          .thenApply(st -> s));
    });
  }

  // ---- firing ----------------------------------------------------------------------------------

  /** One pass of this runner's firer over the schedules it owns (see {@link FirePass#run}). */
  public CompletionStage<FirePass.PassResult> firePass(
      IntPredicate owns, JobStore store, Clock clock, Instant closesAt) {
    return firing.run(owns, store, clock, closesAt);
  }

  /**
   * A fire's job with what the schedule and the queue decide: the schedule's partition, and the
   * queue's retry policy, delivery and timeout (maxAttempts was resolved when the job was built).
   */
  NewJob complete(NewJob job, String name) {
    NewJob out = job.withPartitionKey(partitionKey(name));
    QueueSettings qs = settings.queue(job.queue());
    if (qs == null) {
      // The queue was removed from the configuration after the schedule was created: the job is
      // still submitted (and waits for the queue to come back) rather than silently dropped.
      return out;
    }
    return out.withRetry(qs.retry()).withDelivery(qs.delivery())
        .withTimeout(job.timeout() != null ? job.timeout() : qs.timeout());
  }

  // ---- entity access ---------------------------------------------------------------------------

  /** Evicts this process's entity of the schedule: its next use replays the journal. */
  public void evict(String name) {
    cache.remove(name);
    entities.tell(new ScheduleEntities.Evict(name));
  }

  private CompletionStage<ScheduleEntity.Versioned> fresh(String name) {
    return index.version(name).thenCompose(seq -> fresh(name, seq));
  }

  /** A state at least as recent as journal sequence number {@code journalSeq}. */
  CompletionStage<ScheduleEntity.Versioned> fresh(String name, long journalSeq) {
    if (journalSeq == 0) {
      // Never written: no entity is spawned for a name that does not exist.
      return CompletableFuture.completedFuture(ScheduleEntity.Versioned.NONE);
    }
    ScheduleEntity.Versioned cached = cache.get(name);
    if (cached != null && cached.sequenceNr() >= journalSeq) {
      return CompletableFuture.completedFuture(cached);
    }
    return versioned(name).thenCompose(v -> {
      if (v.sequenceNr() >= journalSeq) {
        return CompletableFuture.completedFuture(v);
      }
      // Behind the journal: another process wrote. A fresh entity replays the journal.
      evict(name);
      return versioned(name);
    }).thenApply(v -> {
      remember(name, v);
      return v;
    });
  }

  void remember(String name, ScheduleEntity.Versioned v) {
    cache.merge(name, v, (old, neu) -> neu.sequenceNr() >= old.sequenceNr() ? neu : old);
  }

  CompletionStage<ScheduleEntity.Versioned> versioned(String name) {
    return AskPattern.ask(entities,
        r -> new ScheduleEntities.Forward(name, new ScheduleEntity.GetVersioned(r)), READ_TIMEOUT, scheduler);
  }

  <T> CompletionStage<T> ask(
      String name, Function<ActorRef<StatusReply<T>>, ScheduleEntity.Command> command, Duration timeout) {
    return AskPattern.askWithStatus(entities, r -> new ScheduleEntities.Forward(name, command.apply(r)), timeout, scheduler);
  }

  /**
   * A write on a fresh entity. When its append lost a race with another process, it is retried
   * once on a fresh entity; {@code onRetryError} maps the
   * retry's failure for commands whose repeat is refused although the first attempt succeeded.
   */
  private <T> CompletionStage<T> write(
      String name, Function<ActorRef<StatusReply<T>>, ScheduleEntity.Command> command,
      Function<Throwable, CompletionStage<T>> onRetryError) {
    CompletionStage<T> first = fresh(name).thenCompose(v -> ask(name, command, WRITE_TIMEOUT));
    return first.handle((ok, err) -> {
      cache.remove(name);
      if (err == null) {
        return CompletableFuture.completedFuture(ok);
      }
      if (!lostRace(err)) {
        return CompletableFuture.<T>failedFuture(unwrap(err));
      }
      evict(name);
      return fresh(name).thenCompose(v -> ask(name, command, WRITE_TIMEOUT))
          .handle((ok2, err2) -> {
            cache.remove(name);
            return err2 == null ? CompletableFuture.completedFuture(ok2) : onRetryError.apply(unwrap(err2));
          })
          .thenCompose(Function.identity());
    }).thenCompose(Function.identity());
  }

  /**
   * The write lost a race with another process: refused as a conflict after the entity's restart,
   * or (should the refusal itself be lost) timed out.
   */
  private static boolean lostRace(Throwable err) {
    Throwable e = unwrap(err);
    return e instanceof ScheduleConflictException || e instanceof TimeoutException;
  }

  private static <T> Function<Throwable, CompletionStage<T>> failing() {
    return CompletableFuture::failedFuture;
  }

  private static boolean sameSpec(ScheduleSpec existing, ScheduleSpec requested) {
    ScheduleSpec r = requested.every() != null && requested.anchor() == null
        ? requested.withAnchor(existing.anchor()) : requested;
    return existing.equals(r);
  }

  private static String checkedName(String name) {
    if (name == null || !ScheduleSpec.NAME.matcher(name).matches()) {
      throw new ValidationException("name", "must match [a-z0-9][a-z0-9._-]{0,63}, got "
          + (name == null ? "nothing" : "'" + name + "'"));
    }
    return name;
  }

  private String knownQueues() {
    return settings.queues().isEmpty() ? "(none configured)" : String.join(", ", settings.queues().keySet());
  }

  static Throwable unwrap(Throwable t) {
    Throwable e = t;
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  @Override
  public void close() {
    index.close();
  }
}
