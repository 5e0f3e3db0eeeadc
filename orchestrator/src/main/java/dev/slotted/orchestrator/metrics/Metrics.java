package dev.slotted.orchestrator.metrics;

import com.typesafe.config.Config;
import dev.slotted.protocol.AttemptOutcome;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The one metrics facade the rest of Slotted calls. Names are fixed by DESIGN.md section 10; labels
 * carry queues, outcomes, states, store operations and schedule names, never job ids or error
 * messages.
 *
 * <p>{@link #init(Config)} starts Kamon and must run before the {@code ActorSystem} is created:
 * Kamon's instrumentation agent has to attach before Pekko's classes run, or actors get no
 * mailbox and processing figures. Kamon is process-wide: every instance returned by {@code init}
 * shares one registry, and the first call's configuration wins.
 */
public interface Metrics extends AutoCloseable {

  String JOBS_SUBMITTED = "slotted_jobs_submitted_total";
  String JOBS_CLAIMED = "slotted_jobs_claimed_total";
  String JOBS_COMPLETED = "slotted_jobs_completed_total";
  String JOBS_DEAD = "slotted_jobs_dead_total";
  String JOB_RUN = "slotted_job_run_seconds";
  String DISPATCH_DELAY = "slotted_dispatch_delay_seconds";
  String QUEUE_JOBS = "slotted_queue_jobs";
  String SLOT_WORK = "slotted_slot_work_seconds";
  String BUFFERED_JOBS = "slotted_buffered_jobs";
  String UNROUTABLE_JOBS = "slotted_unroutable_jobs";
  String SLOT_OVERRUNS = "slotted_slot_overruns_total";
  String STORE_BUSY_RETRIES = "slotted_store_busy_retries_total";
  String STORE_TXN = "slotted_store_txn_seconds";
  String LEASE_REJECTIONS = "slotted_lease_rejections_total";
  String WORKER_RESTARTS = "slotted_worker_restarts_total";
  String SCHEDULE_FIRES = "slotted_schedule_fires_total";

  /** Kamon's actor figures (for the actors in {@code slotted.metrics.actors}). */
  String ACTOR_MAILBOX_SIZE = "pekko_actor_mailbox_size";
  String ACTOR_PROCESSING_TIME = "pekko_actor_processing_time_seconds";
  String ACTOR_TIME_IN_MAILBOX = "pekko_actor_time_in_mailbox_seconds";

  String TAG_QUEUE = "queue";
  String TAG_OUTCOME = "outcome";
  String TAG_STATE = "state";
  String TAG_OP = "op";
  String TAG_SCHEDULE = "schedule";

  /**
   * Starts Kamon (once per JVM; later calls are cheap and reuse it) and returns the facade. Call it
   * before creating the {@code ActorSystem}. With {@code slotted.metrics.actor-metrics = off} no
   * agent is attached and only Slotted's own metrics are exported.
   */
  static Metrics init(Config config) {
    return KamonMetrics.start(config);
  }

  /** A facade that records nothing and scrapes to an empty exposition: for unit tests. */
  static Metrics noop() {
    return NoopMetrics.INSTANCE;
  }

  /** The {@code outcome} label values: {@link AttemptOutcome#wire()}. */
  List<String> OUTCOMES = Arrays.stream(AttemptOutcome.values()).map(AttemptOutcome::wire).toList();

  /**
   * Creates the per-queue counter series at 0 for the configured queues, so that they exist before
   * the first job (Prometheus' rate() needs a first sample to start from). Optional.
   */
  void declareQueues(Collection<String> queues);

  /** Jobs accepted by submit (single or batch). */
  void jobsSubmitted(String queue, int n);

  /** Jobs claimed by a Reconciler. */
  void jobsClaimed(String queue, int n);

  /** An attempt finished; {@code outcome} is {@link AttemptOutcome#wire()}. */
  void jobCompleted(String queue, String outcome);

  /** A job reached the dead-letter queue. */
  void jobDead(String queue);

  /** Run time of one attempt. */
  void jobRunTime(String queue, Duration d);

  /** From the instant a job was due to the instant its attempt started. */
  void dispatchDelay(String queue, Duration d);

  /** Claimed jobs this runner holds, waiting for a worker (gauge). */
  void bufferedJobs(long count);

  /** Ready jobs of a queue that no live worker (local or remote) can take: tags or queue (gauge). */
  void unroutableJobs(String queue, long count);

  /** Current number of jobs of a queue in a state (gauge). */
  void queueJobs(String queue, String state, long count);

  /** Work time of one slot window. */
  void slotWork(Duration d);

  /** A slot's work ran past its window. */
  void slotOverrun();

  /** Duration of one store transaction; {@code op} is a fixed operation name (claim, renew...). */
  void storeTxn(String op, Duration d);

  /** A schedule produced a job. */
  void scheduleFired(String schedule);

  /**
   * A schedule's fire or trigger created a job on {@code queue}: the fire, and the job among the
   * submitted ones ({@code slotted_jobs_submitted_total} counts every job created, whoever made it).
   */
  default void scheduleJobCreated(String schedule, String queue) {
    scheduleFired(schedule);
    jobsSubmitted(queue, 1);
  }

  /**
   * Exports a monotonic counter owned elsewhere, read at every scrape. {@code name} is the
   * Prometheus name ({@link #STORE_BUSY_RETRIES}, {@link #LEASE_REJECTIONS}, {@link
   * #WORKER_RESTARTS}, or another {@code slotted_..._total}). Several sources with one name are
   * summed; a source that goes backwards (a restarted component) never makes the exported counter
   * decrease. The source is dropped on {@link #close()}.
   */
  void registerCounterSource(String name, LongSupplier supplier);

  /** The Prometheus text exposition (format 0.0.4), fresh at each call. */
  String scrape();

  /**
   * Drops this facade's counter sources; the last open facade also stops Kamon's module threads
   * (they are not daemons). The registry and the agent stay for the JVM's life: the agent cannot
   * be detached, and a later {@link #init} reuses both.
   */
  @Override
  void close();
}
