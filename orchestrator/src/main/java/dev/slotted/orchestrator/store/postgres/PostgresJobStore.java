package dev.slotted.orchestrator.store.postgres;

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
import dev.slotted.orchestrator.store.Reconciled;
import dev.slotted.orchestrator.store.RoundPlan;
import dev.slotted.orchestrator.store.RunnerRow;
import dev.slotted.orchestrator.store.SubmitValidation;
import dev.slotted.orchestrator.store.Submitted;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.NewJob;
import dev.slotted.protocol.ValidationException;
import java.sql.Connection;
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
 * The {@link JobStore} on PostgreSQL (DESIGN §11–12), for several orchestrators on several hosts
 * sharing one database: HikariCP connections, READ COMMITTED transactions, claims in one {@code
 * FOR UPDATE SKIP LOCKED} statement, every other write locking the rows it checks before it
 * changes them. The same tables, lease tokens, fencing and JSON as the SQLite store; times are
 * epoch milliseconds taken from the caller's {@code now}, as there.
 */
public final class PostgresJobStore implements JobStore {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresJobStore.class);
  private static final String META_INSERT =
      "INSERT INTO meta (key, value) VALUES ('partitions', ?) ON CONFLICT (key) DO NOTHING";
  private static final String META_PARTITIONS = "SELECT value FROM meta WHERE key = 'partitions'";
  private static final String PURGE = """
      DELETE FROM jobs WHERE id IN (
        SELECT id FROM jobs
        WHERE finished_at IS NOT NULL AND finished_at < greatest(?::bigint, ?::bigint) AND lease_token IS NULL
          AND ((state IN ('succeeded', 'cancelled') AND finished_at < ?)
               OR (state = 'dead' AND finished_at < ?))
        LIMIT ? FOR UPDATE SKIP LOCKED)
      RETURNING id, queue, state, part""";
  private static final String PURGE_ATTEMPTS = "DELETE FROM attempts WHERE job_id = ANY(?)";

  private final PostgresStoreSettings settings;
  private final PgDb db;
  private final ExecutorService ownedExecutor;
  private final PgReads reads;
  private final AtomicLong leaseRejections = new AtomicLong();
  private final int partitions;

  /**
   * Connects (waiting for an unreachable server up to the configured patience), creates the schema
   * when missing and migrates it. All JDBC runs on {@code executor}, which {@link #close()} leaves
   * running.
   *
   * @throws dev.slotted.orchestrator.store.StoreSettingsException when a setting must change
   * @throws dev.slotted.orchestrator.store.StoreException when the server stays unreachable, a
   *     migration fails, or the database was migrated by a newer version
   */
  public PostgresJobStore(PostgresStoreSettings settings, Executor executor) {
    this(settings, executor, null, Clock.systemUTC());
  }

  /**
   * As {@link #PostgresJobStore(PostgresStoreSettings, Executor)}, measuring the database's clock
   * against {@code host} (at open and at each heartbeat): {@link #clockOffset()} is present from
   * the start.
   */
  public PostgresJobStore(PostgresStoreSettings settings, Executor executor, Clock host) {
    this(settings, executor, null, host);
  }

  /** Opens the store on an executor of its own, shut down at {@link #close()} (CLI, tests, bench). */
  public static PostgresJobStore open(PostgresStoreSettings settings) {
    AtomicInteger n = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(settings.poolSize(), r -> {
      Thread t = new Thread(r, "slotted-pg-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    try {
      return new PostgresJobStore(settings, pool, pool, Clock.systemUTC());
    } catch (RuntimeException e) {
      pool.shutdownNow();
      throw e;
    }
  }

  private PostgresJobStore(PostgresStoreSettings settings, Executor executor, ExecutorService owned, Clock host) {
    this.settings = settings;
    this.ownedExecutor = owned;
    this.db = new PgDb(settings, executor);
    try {
      String name = PgDb.redact(settings.url()) + " schema " + settings.schema();
      this.partitions = db.inTransaction("migrate", c -> {
        PgMigrations.migrate(c, name);
        return fixPartitions(c, settings.partitions());
      }, false);
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
    this.reads = new PgReads(db, host);
    try {
      db.inTransaction("clock", c -> {
        reads.measureClock(c);
        return null;
      }, true);
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
  }

  private static int fixPartitions(Connection c, int configured) throws SQLException {
    try (PreparedStatement ins = c.prepareStatement(META_INSERT)) {
      ins.setString(1, Integer.toString(configured));
      ins.executeUpdate();
    }
    int stored;
    try (PreparedStatement ps = c.prepareStatement(META_PARTITIONS); ResultSet rs = ps.executeQuery()) {
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
    return db.write("submit", clock, (c, now) -> PgJobs.insert(c, List.of(job), now, partitions)).thenApply(l -> l.get(0));
  }

  @Override
  public CompletionStage<List<Submitted>> submitBatch(List<NewJob> jobs, Clock clock) {
    ValidationException bad = SubmitValidation.ofBatch(jobs, settings.maxPayloadBytes());
    if (bad != null) {
      return CompletableFuture.failedFuture(bad);
    }
    List<NewJob> copy = List.copyOf(jobs);
    return db.write("submit", clock, (c, now) -> PgJobs.insert(c, copy, now, partitions));
  }

  // ---- the runner's write path ------------------------------------------------------------------

  private IllegalArgumentException badPartition(ClaimRequest req) {
    return req.partition() < 0 || req.partition() >= partitions
        ? new IllegalArgumentException("partition " + req.partition() + " is outside 0.." + (partitions - 1))
        : null;
  }

  @Override
  public CompletionStage<List<ClaimedJob>> claim(ClaimRequest req, Clock clock) {
    IllegalArgumentException bad = badPartition(req);
    if (bad != null) {
      return CompletableFuture.failedFuture(bad);
    }
    if (req.limit() == 0) {
      return CompletableFuture.completedFuture(List.of());
    }
    return db.write("claim", clock, (c, now) -> PgClaims.claim(c, req, now));
  }

  @Override
  public CompletionStage<Set<String>> renewLeases(String runnerId, Collection<Lease> held, Duration lease, Clock clock) {
    if (held.isEmpty()) {
      return CompletableFuture.completedFuture(Set.of());
    }
    List<Lease> leases = List.copyOf(held);
    return db.write("renew", clock, (c, now) -> PgClaims.renew(c, runnerId, leases, now.plus(lease).toEpochMilli()));
  }

  @Override
  public CompletionStage<Set<String>> notHeld(String runnerId, Collection<Lease> held) {
    if (held.isEmpty()) {
      return CompletableFuture.completedFuture(Set.of());
    }
    List<Lease> leases = List.copyOf(held);
    return db.read("not held", c -> PgClaims.notHeld(c, runnerId, leases));
  }

  @Override
  public CompletionStage<List<CompletionResult>> complete(List<Completion> completions, Clock clock) {
    if (completions.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    List<Completion> list = List.copyOf(completions);
    return db.write("complete", clock, (c, now) -> PgCompletions.apply(c, list, now)).thenApply(r -> {
      leaseRejections.addAndGet(r.refused());
      return r.results();
    });
  }

  private record Round(PgCompletions.Outcome done, List<ClaimedJob> claimed) {}

  @Override
  public CompletionStage<Reconciled> round(List<Completion> completions, List<ClaimRequest> claims,
      Map<String, Integer> queueCaps, int total, Clock clock) {
    for (ClaimRequest req : claims) {
      IllegalArgumentException bad = badPartition(req);
      if (bad != null) {
        return CompletableFuture.failedFuture(bad);
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
    // The plan is sized step by step inside the transaction; a retried transaction starts a fresh one.
    return db.write(op, clock, (c, now) -> {
          RoundPlan fresh = new RoundPlan(claims, queueCaps, total);
          PgCompletions.Outcome done = list.isEmpty() ? new PgCompletions.Outcome(List.of(), 0)
              : PgCompletions.apply(c, list, now);
          List<ClaimedJob> claimed = new ArrayList<>();
          for (int i : fresh.byBestPriority(step -> PgClaims.bestPriority(c, step, now))) {
            ClaimRequest step = fresh.next(i);
            if (step == null) {
              continue;
            }
            List<ClaimedJob> jobs = PgClaims.claim(c, step, now);
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
    return db.write("release", clock, (c, now) -> PgCompletions.release(c, list, reason, now));
  }

  @Override
  public CompletionStage<List<String>> reapExpired(int partition, Clock clock) {
    return db.write("reap", clock, (c, now) -> PgClaims.reap(c, partition, now.toEpochMilli()));
  }

  // ---- operator actions -------------------------------------------------------------------------

  @Override
  public CompletionStage<Job> cancel(String id, Clock clock) {
    Long jobId = parseId(id);
    if (jobId == null) {
      return CompletableFuture.failedFuture(new JobNotFoundException(id));
    }
    return db.write("cancel", clock, (c, now) -> {
      PgCompletions.LeasedRow row = PgCompletions.lockRow(c, jobId);
      if (row == null) {
        throw new JobNotFoundException(id);
      }
      if (row.state().isFinished()) {
        throw new JobConflictException(id, row.state(), "cancel");
      }
      PgCompletions.cancel(c, row, now.toEpochMilli());
      PgStats stats = new PgStats();
      stats.move(row.queue(), row.part(), row.state(), JobState.CANCELLED);
      stats.flush(c);
      return PgJobs.load(c, jobId).orElseThrow();
    });
  }

  @Override
  public CompletionStage<Job> requeue(String id, Clock clock) {
    Long jobId = parseId(id);
    if (jobId == null) {
      return CompletableFuture.failedFuture(new JobNotFoundException(id));
    }
    return db.write("requeue", clock, (c, now) -> {
      PgCompletions.LeasedRow row = PgCompletions.lockRow(c, jobId);
      if (row == null) {
        throw new JobNotFoundException(id);
      }
      if (row.state() != JobState.DEAD) {
        throw new JobConflictException(id, row.state(), "requeue (only dead jobs can be requeued)");
      }
      try (PreparedStatement archive = c.prepareStatement(PgCompletions.ARCHIVE_ON_ROW)) {
        archive.setLong(1, jobId);
        archive.executeUpdate();
      }
      try (PreparedStatement upd = c.prepareStatement(PgCompletions.REQUEUE)) {
        upd.setLong(1, now.toEpochMilli());
        upd.setLong(2, jobId);
        PgCompletions.checkOne(upd.executeUpdate(), "requeue");
      }
      PgStats stats = new PgStats();
      stats.move(row.queue(), row.part(), JobState.DEAD, JobState.READY);
      stats.flush(c);
      return PgJobs.load(c, jobId).orElseThrow();
    });
  }

  @Override
  public CompletionStage<Integer> purge(Instant succeededBefore, Instant deadBefore, int limit) {
    if (limit < 1) {
      return CompletableFuture.completedFuture(0);
    }
    return db.write("purge", c -> {
      PgStats stats = new PgStats();
      List<Long> ids = new ArrayList<>();
      try (PreparedStatement del = c.prepareStatement(PURGE)) {
        del.setLong(1, succeededBefore.toEpochMilli());
        del.setLong(2, deadBefore.toEpochMilli());
        del.setLong(3, succeededBefore.toEpochMilli());
        del.setLong(4, deadBefore.toEpochMilli());
        del.setInt(5, limit);
        try (ResultSet rs = del.executeQuery()) {
          while (rs.next()) {
            ids.add(rs.getLong(1));
            stats.add(rs.getString(2), rs.getInt(4), JobState.parse(rs.getString(3)), -1);
          }
        }
      }
      if (!ids.isEmpty()) {
        try (PreparedStatement att = c.prepareStatement(PURGE_ATTEMPTS)) {
          att.setArray(1, c.createArrayOf("bigint", ids.toArray()));
          att.executeUpdate();
        }
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
    return db.read("get", c -> PgJobs.load(c, jobId));
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
  public CompletionStage<List<dev.slotted.orchestrator.store.ReadyTags>> readyByTags() {
    return reads.readyByTags();
  }

  @Override
  public CompletionStage<Set<Integer>> partitionsWithDueWork(Collection<Integer> parts, Instant now) {
    return reads.partitionsWithDueWork(parts, now);
  }

  // ---- runners ----------------------------------------------------------------------------------

  @Override
  public CompletionStage<Void> heartbeat(String runnerId, String statusJson, Duration ttl, Clock clock) {
    return reads.heartbeat(runnerId, statusJson, ttl, clock);
  }

  @Override
  public CompletionStage<Void> deregister(String runnerId) {
    return reads.deregister(runnerId);
  }

  @Override
  public CompletionStage<List<RunnerRow>> runners(Instant now) {
    return reads.runners(now);
  }

  @Override
  public CompletionStage<Boolean> tryLead(String runnerId, Duration ttl, Clock clock) {
    return reads.tryLead(runnerId, ttl, clock);
  }

  @Override
  public Optional<dev.slotted.orchestrator.store.ClockOffset> clockOffset() {
    return reads.clockOffset();
  }

  // ---- counters and lifecycle -------------------------------------------------------------------

  /** Serialization failures and deadlocks retried since start. */
  @Override
  public long busyRetries() {
    return db.busyRetries();
  }

  @Override
  public long leaseRejections() {
    return leaseRejections.get();
  }

  @Override
  public void close() {
    db.close();
    if (ownedExecutor != null) {
      ownedExecutor.shutdown();
    }
  }

  static Long parseId(String id) {
    if (id == null || id.isEmpty() || id.length() > 18) {
      return null;
    }
    for (int i = 0; i < id.length(); i++) {
      if (id.charAt(i) < '0' || id.charAt(i) > '9') {
        return null;
      }
    }
    return Long.parseLong(id);
  }

  @Override
  public String toString() {
    return "PostgresJobStore[" + PgDb.redact(settings.url()) + ", schema=" + settings.schema() + ", partitions="
        + partitions + "]";
  }
}
