package dev.slotted.orchestrator.store.sqlite;

import dev.slotted.orchestrator.store.CompletionResult;
import dev.slotted.orchestrator.store.Lease;
import dev.slotted.protocol.AttemptOutcome;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.RetryPolicy;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ending attempts: completions (group commit), released leases and cancels.
 *
 * <p>The hot path is a completion that ends its job (succeeded, cancelled, dead): one small query
 * reads the leases the batch names, then one batched UPDATE ends each lease and writes the attempt
 * onto the job row (see the schema: the latest attempt lives on the row). Only an attempt followed
 * by another one (a retry, a released lease) is moved to the attempts table. Measured here: writing
 * an attempts row per completion cost more than everything else in the completion together.
 */
final class Completions {
  private static final int MAX_ERROR_CHARS = 4000;
  private static final int MAX_LOG_TAIL_CHARS = 64 * 1024;

  /** One packed column per row: a JNI column read costs more than splitting a short string. */
  private static final String LEASES = """
      SELECT id || ' ' || state || ' ' || coalesce(lease_token, '-') || ' ' || queue
      FROM jobs WHERE id IN (SELECT value FROM json_each(?))""";
  private static final String ROW_COLUMNS = """
      SELECT id, state, lease_token, att_runner, att_started_at, attempt_count, attempt_no,
        max_attempts, queue, visible_at, finished_at,
        retry_policy, retry_initial_ms, retry_multiplier, retry_max_ms, retry_jitter
      FROM jobs""";
  private static final String ROWS = ROW_COLUMNS + " WHERE id IN (SELECT value FROM json_each(?))";
  private static final String ROW = ROW_COLUMNS + " WHERE id = ?";

  /**
   * Ends the lease and writes the attempt on the row: the job finished, or (at-most-once) stays
   * finished. The token guard makes a bug show as a changed-row count of 0.
   */
  /** {@link #END_ON_ROW} for the common attempt with no error, exit code or log: three binds fewer. */
  private static final String END_OK_ON_ROW = """
      UPDATE jobs SET state = ?, finished_at = coalesce(finished_at, ?), att_worker = ?,
        att_ended_at = ?, att_outcome = ?, att_error = NULL, att_exit_code = NULL, att_log_tail = NULL,
        lease_token = NULL, due_at = NULL, att_started_at = coalesce(?, att_started_at)
      WHERE id = ? AND lease_token = ?""";
  private static final String END_ON_ROW = """
      UPDATE jobs SET state = ?, finished_at = coalesce(finished_at, ?), att_worker = ?,
        att_ended_at = ?, att_outcome = ?, att_error = ?, att_exit_code = ?, att_log_tail = ?,
        lease_token = NULL, due_at = NULL, att_started_at = coalesce(?, att_started_at)
      WHERE id = ? AND lease_token = ?""";
  /** Moves the running attempt, ended now, to the attempts table (the job runs again later). */
  private static final String ARCHIVE_RUNNING = """
      INSERT INTO attempts (job_id, number, runner, worker, started_at, ended_at, outcome, error,
        exit_code, log_tail)
      SELECT id, attempt_no, att_runner, ?2, coalesce(?9, att_started_at), ?3, ?4, ?5, ?6, ?7
      FROM jobs WHERE id = ?1 AND lease_token = ?8""";
  /**
   * Back to ready or scheduled: the lease and the (archived) attempt leave the row. A released job
   * (?6 = 1) keeps the time it first became due, so it goes back to its old place in the queue.
   */
  private static final String BACK_TO_QUEUE = """
      UPDATE jobs SET state = ?1, visible_at = coalesce(CASE WHEN ?6 = 1 THEN due_at END, ?2), finished_at = NULL,
        attempt_count = attempt_count + ?3,
        lease_token = NULL, due_at = NULL, att_runner = NULL, att_started_at = NULL, att_worker = NULL,
        att_ended_at = NULL, att_outcome = NULL, att_error = NULL, att_exit_code = NULL,
        att_log_tail = NULL
      WHERE id = ?4 AND lease_token = ?5""";
  private static final String CANCEL_QUEUED = """
      UPDATE jobs SET state = 'cancelled', finished_at = ? WHERE id = ? AND lease_token IS NULL""";

  private Completions() {}

  /** The columns of a job that ending its attempt needs. {@code token} is null when not leased. */
  record LeasedRow(
      long id,
      JobState state,
      String token,
      String runner,
      long startedAt,
      int attemptCount,
      int attemptNo,
      int maxAttempts,
      String queue,
      long visibleAt,
      Long finishedAt,
      RetryPolicy retry) {

    /** An at-most-once job is finished (succeeded) at claim while its attempt still runs. */
    boolean finishedAtClaim() {
      return state == JobState.SUCCEEDED;
    }
  }

  /** What a group of completions did; {@code refused} feeds the lease-rejection counter. */
  record Outcome(List<CompletionResult> results, int refused) {}

  private record Lease4(JobState state, String token, String queue) {}

  static LeasedRow row(Conn c, long id) throws SQLException {
    PreparedStatement ps = c.prepare(ROW);
    ps.setLong(1, id);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? readRow(rs) : null;
    }
  }

  private static Map<Long, LeasedRow> rows(Conn c, List<Long> ids) throws SQLException {
    PreparedStatement ps = c.prepare(ROWS);
    ps.setString(1, Json.longs(ids));
    Map<Long, LeasedRow> out = new HashMap<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        LeasedRow r = readRow(rs);
        out.put(r.id(), r);
      }
    }
    return out;
  }

  private static LeasedRow readRow(ResultSet rs) throws SQLException {
    long fin = rs.getLong(11);
    Long finishedAt = rs.wasNull() ? null : fin;
    return new LeasedRow(rs.getLong(1), JobState.parse(rs.getString(2)), rs.getString(3),
        rs.getString(4), rs.getLong(5), rs.getInt(6), rs.getInt(7), rs.getInt(8), rs.getString(9),
        rs.getLong(10), finishedAt, JobRows.readRetry(rs, 12));
  }

  private static Map<Long, Lease4> leases(Conn c, List<Long> ids) throws SQLException {
    PreparedStatement ps = c.prepare(LEASES);
    ps.setString(1, Json.longs(ids));
    Map<Long, Lease4> out = new HashMap<>(ids.size() * 2);
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        String[] f = rs.getString(1).split(" ", 4);
        out.put(Long.parseLong(f[0]), new Lease4(JobState.parse(f[1]), f[2].equals("-") ? null : f[2], f[3]));
      }
    }
    return out;
  }

  /** One completion bound into one of the batched updates, waiting for its changed-row count. */
  private record Batched(Completion done, JobState next, String queue, boolean atMostOnce, boolean checked) {}

  static Outcome apply(Conn c, List<Completion> completions, Instant now, ClaimMemo memo) throws SQLException {
    long t = now.toEpochMilli();
    Map<String, Integer> perJob = new HashMap<>();
    for (Completion done : completions) {
      perJob.merge(done.jobId(), 1, Integer::sum);
    }
    // Read the leases of what this process did not claim, of failures (they need the row anyway)
    // and of jobs named twice in the batch (the order of their tokens matters).
    Map<Completion, ClaimMemo.Fact> known = new IdentityHashMap<>();
    List<Long> lookup = new ArrayList<>();
    for (Completion done : completions) {
      Long id = SqliteJobStore.parseId(done.jobId());
      if (id == null) {
        continue;
      }
      ClaimMemo.Fact fact = isFailure(done) || perJob.get(done.jobId()) > 1 ? null : memo.take(done.leaseToken());
      if (fact != null) {
        known.put(done, fact);
      } else {
        lookup.add(id);
      }
    }
    Map<Long, Lease4> leases = lookup.isEmpty() ? Map.of() : leases(c, lookup);
    PreparedStatement ok = c.prepare(END_OK_ON_ROW);
    PreparedStatement full = c.prepare(END_ON_ROW);
    List<Batched> okBatch = new ArrayList<>();
    List<Batched> fullBatch = new ArrayList<>();
    List<Completion> failures = new ArrayList<>();
    Set<Long> consumed = new HashSet<>();
    for (Completion done : completions) {
      Long id = SqliteJobStore.parseId(done.jobId());
      if (id == null) {
        continue;
      }
      ClaimMemo.Fact fact = known.get(done);
      String queue;
      boolean atMostOnce;
      if (fact != null) {
        queue = fact.queue();
        atMostOnce = fact.atMostOnce();
      } else {
        Lease4 lease = leases.get(id);
        // Sequential semantics inside the batch: once an attempt ended, its token is stale.
        if (lease == null || lease.token() == null || !lease.token().equals(done.leaseToken()) || !consumed.add(id)) {
          continue;
        }
        if (isFailure(done) && lease.state() != JobState.SUCCEEDED) {
          failures.add(done);
          continue;
        }
        queue = lease.queue();
        atMostOnce = lease.state() == JobState.SUCCEEDED;
      }
      JobState next = atMostOnce || done.outcome() == AttemptOutcome.SUCCEEDED ? JobState.SUCCEEDED
          : done.outcome() == AttemptOutcome.CANCELLED ? JobState.CANCELLED : JobState.DEAD;
      Batched b = new Batched(done, next, queue, atMostOnce, fact == null);
      if (done.error() == null && done.exitCode() == null && done.logTail() == null) {
        bindOk(ok, id, done.leaseToken(), next, t, done);
        ok.addBatch();
        okBatch.add(b);
      } else {
        bindEndOnRow(full, id, done.leaseToken(), next, t, done);
        full.addBatch();
        fullBatch.add(b);
      }
    }
    StatsDelta stats = new StatsDelta();
    Map<Completion, CompletionResult> decided = new IdentityHashMap<>();
    if (!okBatch.isEmpty()) {
      settle(ok.executeBatch(), okBatch, stats, decided);
    }
    if (!fullBatch.isEmpty()) {
      settle(full.executeBatch(), fullBatch, stats, decided);
    }
    if (!failures.isEmpty()) {
      endFailures(c, failures, t, stats, decided);
    }
    stats.flush(c);
    List<CompletionResult> results = new ArrayList<>(completions.size());
    int refused = 0;
    for (Completion done : completions) {
      CompletionResult r = decided.get(done);
      if (r == null) {
        r = new CompletionResult(done.jobId(), false, null, null);
        refused++;
      }
      results.add(r);
    }
    return new Outcome(results, refused);
  }

  private static boolean isFailure(Completion done) {
    return done.outcome() == AttemptOutcome.FAILED || done.outcome() == AttemptOutcome.TIMED_OUT;
  }

  /** A remembered token that changed no row was stale; a checked one must have changed its row. */
  private static void settle(int[] counts, List<Batched> batch, StatsDelta stats,
      Map<Completion, CompletionResult> decided) {
    for (int i = 0; i < counts.length; i++) {
      Batched b = batch.get(i);
      if (counts[i] == 0 && !b.checked()) {
        continue;
      }
      if (counts[i] != 1) {
        throw new IllegalStateException("complete: ending lease of job " + b.done().jobId() + " changed "
            + counts[i] + " rows: a bug");
      }
      if (!b.atMostOnce()) {
        stats.move(b.queue(), JobState.RUNNING, b.next());
      }
      decided.put(b.done(), new CompletionResult(b.done().jobId(), true, b.next(), b.queue()));
    }
  }

  private static void bindOk(PreparedStatement ps, long id, String token, JobState next, long t,
      Completion done) throws SQLException {
    ps.setString(1, next.wire());
    ps.setLong(2, t);
    ps.setString(3, done.worker());
    ps.setLong(4, done.endedAt().toEpochMilli());
    ps.setString(5, done.outcome().wire());
    setMillis(ps, 6, done.startedAt());
    ps.setLong(7, id);
    ps.setString(8, token);
  }

  /** Failed and timed-out attempts: retried after the job's delay, or dead. Their token was checked. */
  private static void endFailures(Conn c, List<Completion> failures, long t, StatsDelta stats,
      Map<Completion, CompletionResult> decided) throws SQLException {
    List<Long> ids = new ArrayList<>(failures.size());
    for (Completion done : failures) {
      ids.add(SqliteJobStore.parseId(done.jobId()));
    }
    Map<Long, LeasedRow> rows = rows(c, ids);
    for (Completion done : failures) {
      LeasedRow row = rows.get(SqliteJobStore.parseId(done.jobId()));
      JobState next;
      if (done.retryable() && row.attemptCount() < row.maxAttempts()) {
        long delay = Math.max(0, row.retry().delayAfter(row.attemptCount(), ThreadLocalRandom.current()).toMillis());
        next = delay == 0 ? JobState.READY : JobState.SCHEDULED;
        archiveRunning(c, row, done.worker(), done.endedAt().toEpochMilli(), done.outcome().wire(),
            done.error(), done.exitCode(), done.logTail(), done.startedAt());
        backToQueue(c, row, next, t + delay, 0, false);
      } else {
        next = JobState.DEAD;
        PreparedStatement end = c.prepare(END_ON_ROW);
        bindEndOnRow(end, row.id(), row.token(), next, t, done);
        checkOne(end.executeUpdate(), "complete");
      }
      stats.move(row.queue(), row.state(), next);
      decided.put(done, new CompletionResult(done.jobId(), true, next, row.queue()));
    }
  }

  /**
   * Gives leases back: the job is ready at once and the interrupted attempt does not count against
   * its max attempts (the runner stopped it, not the job); an at-most-once job stays finished.
   */
  static int release(Conn c, List<Lease> leases, String reason, Instant now) throws SQLException {
    long t = now.toEpochMilli();
    List<Long> ids = new ArrayList<>();
    for (Lease l : leases) {
      Long id = SqliteJobStore.parseId(l.jobId());
      if (id != null) {
        ids.add(id);
      }
    }
    Map<Long, LeasedRow> rows = rows(c, ids);
    StatsDelta stats = new StatsDelta();
    Set<Long> consumed = new HashSet<>();
    int released = 0;
    for (Lease l : leases) {
      Long id = SqliteJobStore.parseId(l.jobId());
      LeasedRow row = id == null ? null : rows.get(id);
      if (row == null || row.token() == null || !row.token().equals(l.token()) || !consumed.add(id)) {
        continue;
      }
      if (row.finishedAtClaim()) {
        endOnRow(c, row, JobState.SUCCEEDED, t, t, AttemptOutcome.CANCELLED, reason);
      } else {
        archiveRunning(c, row, null, t, AttemptOutcome.CANCELLED.wire(), reason, null, null, null);
        backToQueue(c, row, JobState.READY, t, -1, true);
        stats.move(row.queue(), row.state(), JobState.READY);
      }
      released++;
    }
    stats.flush(c);
    return released;
  }

  /** Cancels a job that is not finished: a running attempt ends on the row as cancelled. */
  static void cancel(Conn c, LeasedRow row, long t) throws SQLException {
    if (row.token() != null) {
      endOnRow(c, row, JobState.CANCELLED, t, t, AttemptOutcome.CANCELLED, "cancelled by an operator");
    } else {
      PreparedStatement ps = c.prepare(CANCEL_QUEUED);
      ps.setLong(1, t);
      ps.setLong(2, row.id());
      checkOne(ps.executeUpdate(), "cancel");
    }
  }

  private static void endOnRow(Conn c, LeasedRow row, JobState next, long finishedAt, long endedAt,
      AttemptOutcome outcome, String error) throws SQLException {
    PreparedStatement ps = c.prepare(END_ON_ROW);
    bind(ps, row.id(), row.token(), next, finishedAt, null, endedAt, outcome.wire(), error, null, null, null);
    checkOne(ps.executeUpdate(), "end attempt");
  }

  private static void archiveRunning(Conn c, LeasedRow row, String worker, long endedAt, String outcome,
      String error, Integer exitCode, String logTail, Instant startedAt) throws SQLException {
    PreparedStatement ps = c.prepare(ARCHIVE_RUNNING);
    ps.setLong(1, row.id());
    ps.setString(2, worker);
    ps.setLong(3, endedAt);
    ps.setString(4, outcome);
    ps.setString(5, error == null ? null : head(error, MAX_ERROR_CHARS));
    if (exitCode == null) {
      ps.setNull(6, Types.INTEGER);
    } else {
      ps.setInt(6, exitCode);
    }
    ps.setString(7, logTail == null ? null : tail(logTail, MAX_LOG_TAIL_CHARS));
    ps.setString(8, row.token());
    setMillis(ps, 9, startedAt);
    checkOne(ps.executeUpdate(), "archive attempt");
  }

  private static void backToQueue(Conn c, LeasedRow row, JobState next, long visibleAt, int countDelta,
      boolean keepDue) throws SQLException {
    PreparedStatement ps = c.prepare(BACK_TO_QUEUE);
    ps.setString(1, next.wire());
    ps.setLong(2, visibleAt);
    ps.setInt(3, countDelta);
    ps.setLong(4, row.id());
    ps.setString(5, row.token());
    ps.setInt(6, keepDue ? 1 : 0);
    checkOne(ps.executeUpdate(), "requeue attempt");
  }

  private static void bindEndOnRow(PreparedStatement ps, long id, String token, JobState next, long t,
      Completion done) throws SQLException {
    bind(ps, id, token, next, t, done.worker(), done.endedAt().toEpochMilli(), done.outcome().wire(),
        done.error(), done.exitCode(), done.logTail(), done.startedAt());
  }

  /** The handler's start as reported by the worker; null keeps the claim time. */
  private static void setMillis(PreparedStatement ps, int index, Instant at) throws SQLException {
    if (at == null) {
      ps.setNull(index, Types.INTEGER);
    } else {
      ps.setLong(index, at.toEpochMilli());
    }
  }

  private static void bind(PreparedStatement ps, long id, String token, JobState next, long finishedAt,
      String worker, long endedAt, String outcome, String error, Integer exitCode, String logTail,
      Instant startedAt) throws SQLException {
    ps.setString(1, next.wire());
    ps.setLong(2, finishedAt);
    ps.setString(3, worker);
    ps.setLong(4, endedAt);
    ps.setString(5, outcome);
    ps.setString(6, error == null ? null : head(error, MAX_ERROR_CHARS));
    if (exitCode == null) {
      ps.setNull(7, Types.INTEGER);
    } else {
      ps.setInt(7, exitCode);
    }
    ps.setString(8, logTail == null ? null : tail(logTail, MAX_LOG_TAIL_CHARS));
    setMillis(ps, 9, startedAt);
    ps.setLong(10, id);
    ps.setString(11, token);
  }

  private static String head(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }

  private static String tail(String s, int max) {
    return s.length() <= max ? s : s.substring(s.length() - max);
  }

  private static void checkOne(int changed, String op) {
    if (changed != 1) {
      throw new IllegalStateException(op + " changed " + changed + " rows instead of 1: a bug");
    }
  }

}
