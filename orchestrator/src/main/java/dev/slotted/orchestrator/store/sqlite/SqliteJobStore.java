package dev.slotted.orchestrator.store.sqlite;

import dev.slotted.orchestrator.store.ClaimRequest;
import dev.slotted.orchestrator.store.CompletionResult;
import dev.slotted.orchestrator.store.JobConflictException;
import dev.slotted.orchestrator.store.JobNotFoundException;
import dev.slotted.orchestrator.store.JobQuery;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.Lease;
import dev.slotted.orchestrator.store.Page;
import dev.slotted.orchestrator.store.Partitioner;
import dev.slotted.orchestrator.store.QueueCounts;
import dev.slotted.orchestrator.store.RunnerRow;
import dev.slotted.orchestrator.store.StoreException;
import dev.slotted.orchestrator.store.Reconciled;
import dev.slotted.orchestrator.store.RoundPlan;
import dev.slotted.orchestrator.store.SubmitValidation;
import dev.slotted.orchestrator.store.Submitted;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.NewJob;
import dev.slotted.protocol.ValidationException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link JobStore} on one SQLite file (DESIGN §11): WAL, one writer connection behind a serial
 * lane, a small reader pool, {@code BEGIN IMMEDIATE} for every write, SQLITE_BUSY retried with the
 * configured backoff. Schema and index design: {@code db/migration/V001__create_job_store.sql}.
 *
 * <p>Lease renewal renews the leases the runner says it holds (id and token), in one statement:
 * a lease the runner no longer knows about (its claim result was lost) then expires and is reaped,
 * instead of being renewed forever with nobody running the job.
 */
public final class SqliteJobStore implements JobStore {
  private static final Logger LOG = LoggerFactory.getLogger(SqliteJobStore.class);
  private static final String ARCHIVE_ON_ROW = """
      INSERT INTO attempts (job_id, number, runner, worker, started_at, ended_at, outcome, error,
        exit_code, log_tail)
      SELECT id, attempt_no, att_runner, att_worker, att_started_at, att_ended_at, att_outcome,
        att_error, att_exit_code, att_log_tail
      FROM jobs WHERE id = ? AND att_started_at IS NOT NULL""";
  private static final String REQUEUE = """
      UPDATE jobs SET state = 'ready', attempt_count = 0, visible_at = ?, finished_at = NULL,
        att_runner = NULL, att_started_at = NULL, att_worker = NULL, att_ended_at = NULL,
        att_outcome = NULL, att_error = NULL, att_exit_code = NULL, att_log_tail = NULL
      WHERE id = ? AND state = 'dead'""";
  private static final String PURGE = """
      DELETE FROM jobs WHERE id IN (
        SELECT id FROM jobs
        WHERE finished_at IS NOT NULL AND finished_at < max(?1, ?2) AND lease_token IS NULL
          AND ((state IN ('succeeded', 'cancelled') AND finished_at < ?1)
               OR (state = 'dead' AND finished_at < ?2))
        LIMIT ?3)
      RETURNING id, queue, state""";
  private static final String PURGE_ATTEMPTS =
      "DELETE FROM attempts WHERE job_id IN (SELECT value FROM json_each(?))";

  private static final String META_INSERT =
      "INSERT INTO meta (key, value) VALUES ('partitions', ?) ON CONFLICT (key) DO NOTHING";
  private static final String META_PARTITIONS = "SELECT value FROM meta WHERE key = 'partitions'";

  private final SqliteStoreSettings settings;
  private final SqliteDb db;
  private final ExecutorService ownedExecutor;
  private final JobReads reads;
  private final RunnerRows runners;
  private final AtomicLong leaseRejections = new AtomicLong();
  private final ClaimMemo memo = new ClaimMemo();
  private final int partitions;

  /**
   * Opens (creating and migrating when needed) the database. All JDBC runs on {@code executor}:
   * writes one at a time, reads concurrently. The executor is not shut down by {@link #close()}.
   *
   * @throws StoreException when the file cannot be opened, a migration fails, or the database was
   *     created by a newer version
   */
  public SqliteJobStore(SqliteStoreSettings settings, Executor executor) {
    this(settings, executor, null);
  }

  /** Opens the store on an executor of its own, shut down at {@link #close()} (CLI, benchmark). */
  public static SqliteJobStore open(SqliteStoreSettings settings) {
    AtomicInteger n = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(settings.readPoolSize() + 1, r -> {
      Thread t = new Thread(r, "slotted-store-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    try {
      return new SqliteJobStore(settings, pool, pool);
    } catch (RuntimeException e) {
      pool.shutdownNow();
      throw e;
    }
  }

  private SqliteJobStore(SqliteStoreSettings settings, Executor executor, ExecutorService owned) {
    this.settings = settings;
    this.ownedExecutor = owned;
    this.db = new SqliteDb(settings, executor);
    int[] stored = new int[1];
    db.open(c -> {
      Migrations.migrate(c, Migrations.load(SqliteJobStore.class.getClassLoader()), settings.path().toString());
      stored[0] = SqliteDb.inTransaction(c, "BEGIN IMMEDIATE", w -> fixPartitions(w, settings.partitions()));
      return null;
    });
    this.partitions = stored[0];
    this.reads = new JobReads(db);
    this.runners = new RunnerRows(db);
  }

  private static int fixPartitions(Conn c, int configured) throws SQLException {
    PreparedStatement ins = c.prepare(META_INSERT);
    ins.setString(1, Integer.toString(configured));
    ins.executeUpdate();
    int stored;
    try (ResultSet rs = c.prepare(META_PARTITIONS).executeQuery()) {
      rs.next();
      stored = Integer.parseInt(rs.getString(1));
    }
    if (stored != configured) {
      LOG.warn("slotted.partitions is [{}] but this database was created with [{}] partitions;"
          + " the partition count is fixed at creation, using [{}]", configured, stored, stored);
    }
    return stored;
  }

  @Override
  public int partitions() {
    return partitions;
  }

  @Override
  public int partitionOf(String partitionKey, String idempotencyKey) {
    return Partitioner.partitionOf(partitionKey, idempotencyKey, partitions);
  }

  // ---- submit -----------------------------------------------------------------------------------

  @Override
  public CompletionStage<Submitted> submit(NewJob job, Clock clock) {
    ValidationException bad = SubmitValidation.ofJob(job, settings.maxPayloadBytes());
    if (bad != null) {
      return CompletableFuture.failedFuture(bad);
    }
    return db.write("submit", clock, (c, now) -> Submissions.insert(c, List.of(job), now, partitions)).thenApply(l -> l.get(0));
  }

  @Override
  public CompletionStage<List<Submitted>> submitBatch(List<NewJob> jobs, Clock clock) {
    ValidationException bad = SubmitValidation.ofBatch(jobs, settings.maxPayloadBytes());
    if (bad != null) {
      return CompletableFuture.failedFuture(bad);
    }
    List<NewJob> copy = List.copyOf(jobs);
    return db.write("submit", clock, (c, now) -> Submissions.insert(c, copy, now, partitions));
  }

  // ---- claim ------------------------------------------------------------------------------------

  @Override
  public CompletionStage<List<ClaimedJob>> claim(ClaimRequest req, Clock clock) {
    if (req.partition() < 0 || req.partition() >= partitions) {
      return CompletableFuture.failedFuture(new IllegalArgumentException(
          "partition " + req.partition() + " is outside 0.." + (partitions - 1)));
    }
    if (req.limit() == 0) {
      return CompletableFuture.completedFuture(List.of());
    }
    String sql = Leases.claimSql(!req.queues().isEmpty(), !req.workerTags().isEmpty(), req.minWait() != null);
    String queuesJson = req.queues().isEmpty() ? null : Json.strings(req.queues());
    String tagsJson = req.workerTags().isEmpty() ? null : Json.strings(req.workerTags());
    return db.write("claim", clock, (c, now) -> Leases.claim(c, req, now, sql, queuesJson, tagsJson, memo));
  }

  // ---- leases -----------------------------------------------------------------------------------

  @Override
  public CompletionStage<Set<String>> renewLeases(
      String runnerId, Collection<Lease> held, Duration lease, Clock clock) {
    if (held.isEmpty()) {
      return CompletableFuture.completedFuture(Set.of());
    }
    List<Lease> leases = List.copyOf(held);
    String json = leasesJson(leases);
    return db.write("renew", clock,
        (c, now) -> Leases.renew(c, runnerId, leases, json, now.plus(lease).toEpochMilli()));
  }

  @Override
  public CompletionStage<Set<String>> notHeld(String runnerId, Collection<Lease> held) {
    if (held.isEmpty()) {
      return CompletableFuture.completedFuture(Set.of());
    }
    List<Lease> leases = List.copyOf(held);
    String json = leasesJson(leases);
    return db.read("not held", c -> Leases.notHeld(c, runnerId, leases, json));
  }

  /** {@code [[id, token], ...]} for json_each; ids that are not ours cannot be held and are left out. */
  private static String leasesJson(List<Lease> leases) {
    StringBuilder json = new StringBuilder("[");
    for (Lease l : leases) {
      Long id = parseId(l.jobId());
      if (id == null) {
        continue;
      }
      json.append(json.length() > 1 ? "," : "").append('[').append(id).append(',')
          .append(Json.quote(l.token())).append(']');
    }
    return json.append(']').toString();
  }

  @Override
  public CompletionStage<List<CompletionResult>> complete(List<Completion> completions, Clock clock) {
    if (completions.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    List<Completion> list = List.copyOf(completions);
    return db.write("complete", clock, (c, now) -> Completions.apply(c, list, now, memo))
        .thenApply(r -> {
          leaseRejections.addAndGet(r.refused());
          return r.results();
        });
  }

  private record Round(Completions.Outcome done, List<ClaimedJob> claimed) {}


  @Override
  public CompletionStage<Reconciled> round(List<Completion> completions, List<ClaimRequest> claims,
      Map<String, Integer> queueCaps, int total, Clock clock) {
    for (ClaimRequest req : claims) {
      if (req.partition() < 0 || req.partition() >= partitions) {
        return CompletableFuture.failedFuture(new IllegalArgumentException(
            "partition " + req.partition() + " is outside 0.." + (partitions - 1)));
      }
    }
    RoundPlan plan;
    try {
      plan = new RoundPlan(claims, queueCaps, total);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (completions.isEmpty() && plan.size() == 0) {
      return CompletableFuture.completedFuture(new Reconciled(List.of(), List.of()));
    }
    List<Completion> list = List.copyOf(completions);
    String op = list.isEmpty() ? "claim" : plan.size() == 0 ? "complete" : "complete+claim";
    return db.write(op, clock, (c, now) -> {
          // The plan is sized step by step inside the transaction: a busy retry starts a fresh one.
          RoundPlan fresh = new RoundPlan(claims, queueCaps, total);
          Completions.Outcome done = list.isEmpty() ? new Completions.Outcome(List.of(), 0)
              : Completions.apply(c, list, now, memo);
          List<ClaimedJob> claimed = new ArrayList<>();
          for (int i : fresh.byBestPriority(step -> Leases.bestPriority(c, step, now,
              step.queues().isEmpty() ? null : Json.strings(step.queues())))) {
            ClaimRequest step = fresh.next(i);
            if (step == null) {
              continue;
            }
            String sql = Leases.claimSql(!step.queues().isEmpty(), !step.workerTags().isEmpty(), step.minWait() != null);
            String queuesJson = step.queues().isEmpty() ? null : Json.strings(step.queues());
            String tagsJson = step.workerTags().isEmpty() ? null : Json.strings(step.workerTags());
            List<ClaimedJob> jobs = Leases.claim(c, step, now, sql, queuesJson, tagsJson, memo);
            fresh.took(i, jobs);
            claimed.addAll(jobs);
          }
          return new Round(done, claimed);
        })
        .thenApply(r -> {
          leaseRejections.addAndGet(r.done().refused());
          return new Reconciled(r.done().results(), r.claimed());
        });
  }

  @Override
  public CompletionStage<Integer> release(Collection<Lease> leases, String reason, Clock clock) {
    if (leases.isEmpty()) {
      return CompletableFuture.completedFuture(0);
    }
    List<Lease> list = List.copyOf(leases);
    return db.write("release", clock, (c, now) -> Completions.release(c, list, reason, now));
  }

  @Override
  public CompletionStage<List<String>> reapExpired(int partition, Clock clock) {
    // Reaping runs in every window and usually finds nothing: a reader answers that without the
    // write lock, so the common case takes no lock at all (and cannot meet another runner's).
    return db.read("reap probe", c -> Leases.anyExpired(c, partition, clock.millis()))
        .thenCompose(any -> any
            ? db.write("reap", clock, (c, now) -> Leases.reap(c, partition, now.toEpochMilli()))
            : CompletableFuture.completedFuture(List.of()));
  }

  // ---- operator actions -------------------------------------------------------------------------

  @Override
  public CompletionStage<Job> cancel(String id, Clock clock) {
    Long jobId = parseId(id);
    if (jobId == null) {
      return CompletableFuture.failedFuture(new JobNotFoundException(id));
    }
    return db.write("cancel", clock, (c, now) -> {
      Completions.LeasedRow row = Completions.row(c, jobId);
      if (row == null) {
        throw new JobNotFoundException(id);
      }
      if (row.state().isFinished()) {
        throw new JobConflictException(id, row.state(), "cancel");
      }
      Completions.cancel(c, row, now.toEpochMilli());
      StatsDelta stats = new StatsDelta();
      stats.move(row.queue(), row.state(), JobState.CANCELLED);
      stats.flush(c);
      return JobRows.load(c, jobId).orElseThrow();
    });
  }

  @Override
  public CompletionStage<Job> requeue(String id, Clock clock) {
    Long jobId = parseId(id);
    if (jobId == null) {
      return CompletableFuture.failedFuture(new JobNotFoundException(id));
    }
    return db.write("requeue", clock, (c, now) -> {
      Completions.LeasedRow row = Completions.row(c, jobId);
      if (row == null) {
        throw new JobNotFoundException(id);
      }
      if (row.state() != JobState.DEAD) {
        throw new JobConflictException(id, row.state(), "requeue (only dead jobs can be requeued)");
      }
      PreparedStatement archive = c.prepare(ARCHIVE_ON_ROW);
      archive.setLong(1, jobId);
      archive.executeUpdate();
      PreparedStatement upd = c.prepare(REQUEUE);
      upd.setLong(1, now.toEpochMilli());
      upd.setLong(2, jobId);
      if (upd.executeUpdate() != 1) {
        throw new IllegalStateException("requeue of job " + id + " changed no row: a bug");
      }
      StatsDelta stats = new StatsDelta();
      stats.move(row.queue(), JobState.DEAD, JobState.READY);
      stats.flush(c);
      return JobRows.load(c, jobId).orElseThrow();
    });
  }

  @Override
  public CompletionStage<Integer> purge(Instant succeededBefore, Instant deadBefore, int limit) {
    if (limit < 1) {
      return CompletableFuture.completedFuture(0);
    }
    return db.write("purge", c -> {
      PreparedStatement del = c.prepare(PURGE);
      del.setLong(1, succeededBefore.toEpochMilli());
      del.setLong(2, deadBefore.toEpochMilli());
      del.setInt(3, limit);
      StatsDelta stats = new StatsDelta();
      List<Long> ids = new ArrayList<>();
      try (ResultSet rs = del.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getLong(1));
          stats.add(rs.getString(2), JobState.parse(rs.getString(3)), -1);
        }
      }
      if (!ids.isEmpty()) {
        PreparedStatement att = c.prepare(PURGE_ATTEMPTS);
        att.setString(1, Json.longs(ids));
        att.executeUpdate();
      }
      stats.flush(c);
      return ids.size();
    });
  }

  // ---- reads ------------------------------------------------------------------------------------

  @Override
  public CompletionStage<Optional<Job>> get(String id) {
    Long jobId = parseId(id);
    if (jobId == null) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    return db.read("get", c -> JobRows.load(c, jobId));
  }

  @Override
  public CompletionStage<Page<Job>> list(JobQuery query) {
    return reads.list(query);
  }

  @Override
  public CompletionStage<List<QueueCounts>> queueCounts(Instant now) {
    return reads.queueCounts(now);
  }

  @Override
  public CompletionStage<Set<Integer>> partitionsWithDueWork(Collection<Integer> partitions, Instant now) {
    return reads.partitionsWithDueWork(partitions, now);
  }

  // ---- runners ----------------------------------------------------------------------------------

  @Override
  public CompletionStage<Void> heartbeat(String runnerId, String statusJson, Duration ttl, Clock clock) {
    return runners.heartbeat(runnerId, statusJson, ttl, clock);
  }

  @Override
  public CompletionStage<Void> deregister(String runnerId) {
    return runners.deregister(runnerId);
  }

  @Override
  public CompletionStage<List<RunnerRow>> runners(Instant now) {
    return runners.list(now);
  }

  @Override
  public CompletionStage<Boolean> tryLead(String runnerId, Duration ttl, Clock clock) {
    return runners.tryLead(runnerId, ttl, clock);
  }

  // ---- counters and lifecycle -------------------------------------------------------------------

  

  @Override
  public long busyRetries() {
    return db.busyRetries();
  }

  @Override
  public long leaseRejections() {
    return leaseRejections.get();
  }

  /** Closes the connections once queued writes are done; shuts down the executor only if owned. */
  @Override
  public void close() {
    db.close();
    if (ownedExecutor != null) {
      ownedExecutor.shutdown();
    }
  }

  static Long parseId(String id) {
    if (id == null || id.isEmpty() || id.length() > 19) {
      return null;
    }
    for (int i = 0; i < id.length(); i++) {
      if (id.charAt(i) < '0' || id.charAt(i) > '9') {
        return null;
      }
    }
    try {
      return Long.parseLong(id);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  @Override
  public String toString() {
    return "SqliteJobStore[" + settings.path() + ", partitions=" + partitions + "]";
  }
}
