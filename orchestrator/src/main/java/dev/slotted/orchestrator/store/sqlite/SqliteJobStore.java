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
import dev.slotted.orchestrator.store.Submitted;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.FieldError;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.NewJob;
import dev.slotted.protocol.ValidationException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
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
  /** Most scheduled jobs one claim promotes to ready, so a burst of due jobs cannot stall a slot. */
  static final int PROMOTE_BATCH = 1000;

  private static final String INSERT = """
      INSERT INTO jobs (state, part, priority, visible_at, queue, max_attempts, at_most_once, run_at,
        created_at, timeout_ms, retry_policy, retry_initial_ms, retry_multiplier, retry_max_ms,
        retry_jitter, idempotency_key, partition_key, tags, payload)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (queue, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING""";
  private static final String MAX_ID = "SELECT coalesce(max(id), 0) FROM jobs";
  private static final String IDS_AFTER = "SELECT id FROM jobs WHERE id > ? ORDER BY id";
  private static final String ID_BY_KEY = "SELECT id FROM jobs WHERE queue = ? AND idempotency_key = ?";

  /** An UPDATE that matches nothing still costs ~10x this probe: promote only when there is work. */
  private static final String ANY_DUE = """
      SELECT EXISTS (SELECT 1 FROM jobs WHERE part = ?1 AND state = 'scheduled' AND visible_at <= ?2)""";
  private static final String PROMOTE = """
      UPDATE jobs SET state = 'ready'
      WHERE id IN (SELECT id FROM jobs WHERE part = ?1 AND state = 'scheduled' AND visible_at <= ?2
                   ORDER BY visible_at LIMIT ?3)
      RETURNING queue""";
  /**
   * A ready job never has an attempt on its row (see the schema), so the claim writes the new
   * attempt's runner and start without moving anything out first.
   */
  private static final String CLAIM_HEAD = """
      UPDATE jobs SET
        state = CASE at_most_once WHEN 1 THEN 'succeeded' ELSE 'running' END,
        finished_at = CASE at_most_once WHEN 1 THEN ?1 END,
        due_at = visible_at,
        visible_at = ?2,
        lease_token = lower(hex(randomblob(16))),
        att_runner = ?3,
        att_started_at = ?1,
        attempt_count = attempt_count + 1,
        attempt_no = attempt_no + 1
      WHERE id IN (SELECT id FROM jobs WHERE part = ?4 AND state = 'ready'""";
  private static final String CLAIM_QUEUES = " AND queue IN (SELECT value FROM json_each(?6))";
  private static final String CLAIM_UNTAGGED = " AND tags IS NULL";
  private static final String CLAIM_TAGS = " AND (tags IS NULL OR NOT EXISTS (SELECT 1 FROM json_each(jobs.tags) t"
      + " WHERE t.value NOT IN (SELECT value FROM json_each(?7))))";
  /**
   * The fixed-format fields come back packed in one column (space-separated; none of them can hold
   * a space): each JNI column read costs more than splitting a short string, and a claim of 100
   * jobs would otherwise read 1300 columns.
   */
  private static final String CLAIM_TAIL = """
       ORDER BY priority DESC, visible_at, id LIMIT ?5)
      RETURNING id || ' ' || lease_token || ' ' || priority || ' ' || due_at || ' ' || attempt_no
          || ' ' || max_attempts || ' ' || at_most_once || ' ' || coalesce(timeout_ms, '-')
          || ' ' || coalesce(tags, '-') || ' ' || queue,
        payload, idempotency_key""";

  private static final String RENEW = """
      UPDATE jobs SET visible_at = ?1
      FROM json_each(?2) AS h
      WHERE jobs.id = h.value ->> 0 AND jobs.lease_token = h.value ->> 1 AND jobs.att_runner = ?3
      RETURNING jobs.id, jobs.lease_token""";

  private static final String REAP_ERROR =
      "'the lease of runner ' || att_runner || ' expired without renewal'";
  /** Whether a reaped row goes back to ready (old values: SET expressions see the row before). */
  private static final String BACK = "(state = 'running' AND attempt_count < max_attempts)";

  /**
   * An expired lease with attempts left sends the job back to ready: its attempt moves to the
   * attempts table. Otherwise (no attempts left: dead; at-most-once: stays succeeded) the attempt
   * ends on the row. Both statements select the same rows inside one transaction.
   */
  private static final String REAP_ARCHIVE =
      "INSERT INTO attempts (job_id, number, runner, worker, started_at, ended_at, outcome, error)"
      + " SELECT id, attempt_no, att_runner, NULL, att_started_at, ?1, 'lease_expired', " + REAP_ERROR
      + " FROM jobs WHERE part = ?2 AND lease_token IS NOT NULL AND visible_at <= ?1"
      + " AND state = 'running' AND attempt_count < max_attempts";
  private static final String REAP = "UPDATE jobs SET"
      + " state = CASE WHEN state <> 'running' THEN state"
      + "   WHEN attempt_count < max_attempts THEN 'ready' ELSE 'dead' END,"
      + " finished_at = CASE WHEN state = 'running' AND attempt_count >= max_attempts THEN ?1"
      + "   ELSE finished_at END,"
      + " att_runner = CASE WHEN " + BACK + " THEN NULL ELSE att_runner END,"
      + " att_started_at = CASE WHEN " + BACK + " THEN NULL ELSE att_started_at END,"
      + " att_ended_at = CASE WHEN " + BACK + " THEN NULL ELSE ?1 END,"
      + " att_outcome = CASE WHEN " + BACK + " THEN NULL ELSE 'lease_expired' END,"
      + " att_error = CASE WHEN " + BACK + " THEN NULL ELSE " + REAP_ERROR + " END,"
      + " lease_token = NULL, due_at = NULL"
      + " WHERE part = ?2 AND lease_token IS NOT NULL AND visible_at <= ?1"
      + " RETURNING id, queue, state, at_most_once";

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
  public CompletionStage<Submitted> submit(NewJob job, Instant now) {
    if (job == null) {
      return CompletableFuture.failedFuture(new ValidationException("job", "must not be null"));
    }
    List<FieldError> errors = job.validate(settings.maxPayloadBytes(), "");
    if (!errors.isEmpty()) {
      return CompletableFuture.failedFuture(new ValidationException(errors));
    }
    return db.write("submit", c -> insert(c, List.of(job), now)).thenApply(l -> l.get(0));
  }

  @Override
  public CompletionStage<List<Submitted>> submitBatch(List<NewJob> jobs, Instant now) {
    if (jobs == null || jobs.isEmpty()) {
      return CompletableFuture.failedFuture(new ValidationException("jobs", "must hold at least one job"));
    }
    if (jobs.size() > MAX_BATCH) {
      return CompletableFuture.failedFuture(new ValidationException("jobs",
          "at most " + MAX_BATCH + " jobs in one batch, got " + jobs.size()));
    }
    List<FieldError> errors = new ArrayList<>();
    for (int i = 0; i < jobs.size(); i++) {
      NewJob j = jobs.get(i);
      if (j == null) {
        errors.add(new FieldError("jobs[" + i + "]", "must not be null"));
      } else {
        errors.addAll(j.validate(settings.maxPayloadBytes(), "jobs[" + i + "]."));
      }
    }
    if (!errors.isEmpty()) {
      return CompletableFuture.failedFuture(new ValidationException(errors));
    }
    List<NewJob> copy = List.copyOf(jobs);
    return db.write("submit", c -> insert(c, copy, now));
  }

  private List<Submitted> insert(Conn c, List<NewJob> jobs, Instant now) throws SQLException {
    long nowMs = now.toEpochMilli();
    long before;
    try (ResultSet rs = c.prepare(MAX_ID).executeQuery()) {
      rs.next();
      before = rs.getLong(1);
    }
    PreparedStatement ins = c.prepare(INSERT);
    int[] parts = new int[jobs.size()];
    for (int i = 0; i < jobs.size(); i++) {
      NewJob j = jobs.get(i);
      long runAt = j.runAt() == null ? nowMs : j.runAt().toEpochMilli();
      int part = Partitioner.partitionOf(j.partitionKey(), j.idempotencyKey(), partitions);
      // Unkeyed jobs follow their (expected) id, so consecutive submissions share a partition.
      parts[i] = part >= 0 ? part : Partitioner.spread(before + 1 + i, partitions);
      ins.setString(1, runAt > nowMs ? "scheduled" : "ready");
      ins.setInt(2, parts[i]);
      ins.setInt(3, j.priority());
      ins.setLong(4, runAt);
      ins.setString(5, j.queue());
      ins.setInt(6, j.maxAttempts());
      ins.setInt(7, j.delivery() == dev.slotted.protocol.Delivery.AT_MOST_ONCE ? 1 : 0);
      ins.setLong(8, runAt);
      ins.setLong(9, nowMs);
      if (j.timeout() == null) {
        ins.setNull(10, java.sql.Types.INTEGER);
      } else {
        ins.setLong(10, j.timeout().toMillis());
      }
      JobRows.bindRetry(ins, 11, j.retry());
      ins.setString(16, j.idempotencyKey());
      ins.setString(17, j.partitionKey());
      ins.setString(18, j.tags().isEmpty() ? null : Json.strings(j.tags()));
      ins.setString(19, j.payload());
      ins.addBatch();
    }
    int[] counts = ins.executeBatch();
    List<Long> newIds = new ArrayList<>();
    PreparedStatement after = c.prepare(IDS_AFTER);
    after.setLong(1, before);
    try (ResultSet rs = after.executeQuery()) {
      while (rs.next()) {
        newIds.add(rs.getLong(1));
      }
    }
    StatsDelta stats = new StatsDelta();
    List<Submitted> out = new ArrayList<>(jobs.size());
    int next = 0;
    for (int i = 0; i < jobs.size(); i++) {
      NewJob j = jobs.get(i);
      if (counts[i] == 1) {
        long runAt = j.runAt() == null ? nowMs : j.runAt().toEpochMilli();
        JobState state = runAt > nowMs ? JobState.SCHEDULED : JobState.READY;
        Job job = new Job(Long.toString(newIds.get(next++)), j.queue(), state, j.payload(), j.priority(),
            j.maxAttempts(), 0, j.idempotencyKey(), j.partitionKey(), parts[i], j.tags(), j.timeout(),
            Instant.ofEpochMilli(runAt), Instant.ofEpochMilli(nowMs), null, List.of());
        stats.add(j.queue(), state, 1);
        out.add(new Submitted(job, true));
      } else {
        PreparedStatement byKey = c.prepare(ID_BY_KEY);
        byKey.setString(1, j.queue());
        byKey.setString(2, j.idempotencyKey());
        long id;
        try (ResultSet rs = byKey.executeQuery()) {
          if (!rs.next()) {
            throw new IllegalStateException("insert of " + j + " was skipped but no job has its key: a bug");
          }
          id = rs.getLong(1);
        }
        out.add(new Submitted(JobRows.load(c, id).orElseThrow(), false));
      }
    }
    if (next != newIds.size()) {
      throw new IllegalStateException("inserted " + next + " jobs but found " + newIds.size() + " new ids: a bug");
    }
    stats.flush(c);
    return out;
  }

  // ---- claim ------------------------------------------------------------------------------------

  @Override
  public CompletionStage<List<ClaimedJob>> claim(ClaimRequest req) {
    if (req.partition() < 0 || req.partition() >= partitions) {
      return CompletableFuture.failedFuture(new IllegalArgumentException(
          "partition " + req.partition() + " is outside 0.." + (partitions - 1)));
    }
    if (req.limit() == 0) {
      return CompletableFuture.completedFuture(List.of());
    }
    String sql = claimSql(!req.queues().isEmpty(), !req.workerTags().isEmpty());
    String queuesJson = req.queues().isEmpty() ? null : Json.strings(req.queues());
    String tagsJson = req.workerTags().isEmpty() ? null : Json.strings(req.workerTags());
    return db.write("claim", c -> {
      long now = req.now().toEpochMilli();
      StatsDelta stats = new StatsDelta();
      promote(c, req.partition(), now, stats);
      PreparedStatement ps = c.prepare(sql);
      ps.setLong(1, now);
      ps.setLong(2, now + req.lease().toMillis());
      ps.setString(3, req.runnerId());
      ps.setInt(4, req.partition());
      ps.setInt(5, req.limit());
      if (queuesJson != null) {
        ps.setString(6, queuesJson);
      }
      if (tagsJson != null) {
        ps.setString(7, tagsJson);
      }
      List<ClaimedJob> claimed = new ArrayList<>();
      List<Integer> priorities = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String[] f = rs.getString(1).split(" ", 10);
          String queue = f[9];
          Duration timeout = f[7].equals("-") ? null : Duration.ofMillis(Long.parseLong(f[7]));
          List<String> tags = f[8].equals("-") ? List.of() : Json.parseStrings(f[8]);
          claimed.add(new ClaimedJob(f[0], queue, rs.getString(2), Integer.parseInt(f[4]),
              Integer.parseInt(f[5]), f[1], rs.getString(3), req.partition(), tags, timeout,
              Instant.ofEpochMilli(Long.parseLong(f[3])), req.now()));
          priorities.add(Integer.parseInt(f[2]));
          boolean atMostOnce = f[6].equals("1");
          stats.move(queue, JobState.READY, atMostOnce ? JobState.SUCCEEDED : JobState.RUNNING);
          memo.remember(f[1], queue, atMostOnce);
        }
      }
      stats.flush(c);
      return inClaimOrder(claimed, priorities);
    });
  }

  private static String claimSql(boolean byQueue, boolean byTags) {
    return CLAIM_HEAD + (byQueue ? CLAIM_QUEUES : "") + (byTags ? CLAIM_TAGS : CLAIM_UNTAGGED) + CLAIM_TAIL;
  }

  /** The claim statement, for query-plan tests. */
  static String claimSqlForPlan(boolean byQueue, boolean byTags) {
    return claimSql(byQueue, byTags);
  }

  /** RETURNING gives rows in no set order: put them back in the order they were chosen in. */
  private static List<ClaimedJob> inClaimOrder(List<ClaimedJob> jobs, List<Integer> priorities) {
    if (jobs.size() < 2) {
      return jobs;
    }
    Integer[] idx = new Integer[jobs.size()];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    java.util.Arrays.sort(idx, Comparator.<Integer>comparingInt(i -> -priorities.get(i))
        .thenComparing(i -> jobs.get(i).dueAt())
        .thenComparingLong(i -> Long.parseLong(jobs.get(i).id())));
    List<ClaimedJob> out = new ArrayList<>(jobs.size());
    for (Integer i : idx) {
      out.add(jobs.get(i));
    }
    return out;
  }

  private static void promote(Conn c, int partition, long now, StatsDelta stats) throws SQLException {
    PreparedStatement any = c.prepare(ANY_DUE);
    any.setInt(1, partition);
    any.setLong(2, now);
    try (ResultSet rs = any.executeQuery()) {
      if (!rs.next() || rs.getInt(1) == 0) {
        return;
      }
    }
    PreparedStatement ps = c.prepare(PROMOTE);
    ps.setInt(1, partition);
    ps.setLong(2, now);
    ps.setInt(3, PROMOTE_BATCH);
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        stats.move(rs.getString(1), JobState.SCHEDULED, JobState.READY);
      }
    }
  }

  // ---- leases -----------------------------------------------------------------------------------

  @Override
  public CompletionStage<Set<String>> renewLeases(
      String runnerId, Collection<Lease> held, Duration lease, Instant now) {
    if (held.isEmpty()) {
      return CompletableFuture.completedFuture(Set.of());
    }
    List<Lease> leases = List.copyOf(held);
    StringBuilder json = new StringBuilder("[");
    for (Lease l : leases) {
      Long id = parseId(l.jobId());
      if (id == null) {
        continue;
      }
      json.append(json.length() > 1 ? "," : "").append('[').append(id).append(',')
          .append(Json.quote(l.token())).append(']');
    }
    json.append(']');
    return db.write("renew", c -> {
      PreparedStatement ps = c.prepare(RENEW);
      ps.setLong(1, now.plus(lease).toEpochMilli());
      ps.setString(2, json.toString());
      ps.setString(3, runnerId);
      Set<Lease> renewed = new HashSet<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          renewed.add(new Lease(Long.toString(rs.getLong(1)), rs.getString(2)));
        }
      }
      Set<String> lost = new HashSet<>();
      for (Lease l : leases) {
        if (!renewed.contains(l)) {
          lost.add(l.jobId());
        }
      }
      return Set.copyOf(lost);
    });
  }

  @Override
  public CompletionStage<List<CompletionResult>> complete(List<Completion> completions, Instant now) {
    if (completions.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    List<Completion> list = List.copyOf(completions);
    return db.write("complete", c -> Completions.apply(c, list, now, memo))
        .thenApply(r -> {
          leaseRejections.addAndGet(r.refused());
          return r.results();
        });
  }

  @Override
  public CompletionStage<Integer> release(Collection<Lease> leases, String reason, Instant now) {
    if (leases.isEmpty()) {
      return CompletableFuture.completedFuture(0);
    }
    List<Lease> list = List.copyOf(leases);
    return db.write("release", c -> Completions.release(c, list, reason, now));
  }

  @Override
  public CompletionStage<List<String>> reapExpired(int partition, Instant now) {
    return db.write("reap", c -> {
      long t = now.toEpochMilli();
      PreparedStatement ins = c.prepare(REAP_ARCHIVE);
      ins.setLong(1, t);
      ins.setInt(2, partition);
      int archived = ins.executeUpdate();
      PreparedStatement upd = c.prepare(REAP);
      upd.setLong(1, t);
      upd.setInt(2, partition);
      StatsDelta stats = new StatsDelta();
      List<Long> ids = new ArrayList<>();
      int backToReady = 0;
      try (ResultSet rs = upd.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getLong(1));
          JobState next = JobState.parse(rs.getString(3));
          if (rs.getInt(4) == 0) {
            stats.move(rs.getString(2), JobState.RUNNING, next);
          }
          if (next == JobState.READY) {
            backToReady++;
          }
        }
      }
      if (backToReady != archived) {
        throw new IllegalStateException("reaped " + backToReady + " jobs back to ready but archived "
            + archived + " attempts: a bug");
      }
      stats.flush(c);
      ids.sort(null);
      List<String> out = new ArrayList<>(ids.size());
      ids.forEach(id -> out.add(Long.toString(id)));
      return out;
    });
  }

  // ---- operator actions -------------------------------------------------------------------------

  @Override
  public CompletionStage<Job> cancel(String id, Instant now) {
    Long jobId = parseId(id);
    if (jobId == null) {
      return CompletableFuture.failedFuture(new JobNotFoundException(id));
    }
    return db.write("cancel", c -> {
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
  public CompletionStage<Job> requeue(String id, Instant now) {
    Long jobId = parseId(id);
    if (jobId == null) {
      return CompletableFuture.failedFuture(new JobNotFoundException(id));
    }
    return db.write("requeue", c -> {
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
  public CompletionStage<Void> heartbeat(String runnerId, String statusJson, Duration ttl, Instant now) {
    return runners.heartbeat(runnerId, statusJson, ttl, now);
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
  public CompletionStage<Boolean> tryLead(String runnerId, Duration ttl, Instant now) {
    return runners.tryLead(runnerId, ttl, now);
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
