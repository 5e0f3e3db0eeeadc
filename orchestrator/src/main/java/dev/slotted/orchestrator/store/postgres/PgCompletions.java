package dev.slotted.orchestrator.store.postgres;

import dev.slotted.orchestrator.store.CompletionResult;
import dev.slotted.orchestrator.store.Lease;
import dev.slotted.orchestrator.store.sqlite.JobRows;
import dev.slotted.protocol.AttemptOutcome;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.RetryPolicy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ending attempts on PostgreSQL: completions (group commit), released leases, cancels. The rows a
 * group names are read and locked first ({@code FOR UPDATE}, in id order so two groups never
 * deadlock on each other), so the token check and the update that follows see the same row even
 * with other orchestrators writing: a stale token is refused, never half-applied.
 */
final class PgCompletions {
  private static final int MAX_ERROR_CHARS = 4000;
  private static final int MAX_LOG_TAIL_CHARS = 64 * 1024;

  private static final String ROW_COLUMNS = """
      SELECT id, state, lease_token, att_runner, att_started_at, attempt_count, attempt_no,
        max_attempts, queue, visible_at, finished_at,
        retry_policy, retry_initial_ms, retry_multiplier, retry_max_ms, retry_jitter, part
      FROM jobs""";
  private static final String LOCK_ROWS = ROW_COLUMNS + " WHERE id = ANY(?) ORDER BY id FOR UPDATE";
  private static final String LOCK_ROW = ROW_COLUMNS + " WHERE id = ? FOR UPDATE";
  private static final String END_ON_ROW = """
      UPDATE jobs SET state = ?, finished_at = coalesce(finished_at, ?), att_worker = ?,
        att_ended_at = ?, att_outcome = ?, att_error = ?, att_exit_code = ?, att_log_tail = ?,
        lease_token = NULL, due_at = NULL, att_started_at = coalesce(?::bigint, att_started_at)
      WHERE id = ? AND lease_token = ?""";
  /** A group's finished attempts in one statement (one row per element of the arrays). */
  private static final String END_MANY = """
      UPDATE jobs j SET state = e.state, finished_at = coalesce(j.finished_at, ?), att_worker = e.worker,
        att_ended_at = e.ended_at, att_outcome = e.outcome, att_error = e.error, att_exit_code = e.exit_code,
        att_log_tail = e.log_tail, lease_token = NULL, due_at = NULL,
        att_started_at = coalesce(e.started_at, j.att_started_at)
      FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::int[],
        ?::text[], ?::bigint[]) AS e(id, token, state, worker, ended_at, outcome, error, exit_code, log_tail,
        started_at)
      WHERE j.id = e.id AND j.lease_token = e.token""";
  private static final String ARCHIVE_RUNNING = """
      INSERT INTO attempts (job_id, number, runner, worker, started_at, ended_at, outcome, error,
        exit_code, log_tail)
      SELECT id, attempt_no, att_runner, ?, coalesce(?::bigint, att_started_at), ?, ?, ?, ?, ?
      FROM jobs WHERE id = ? AND lease_token = ?""";
  /** A released job (last parameter true) keeps the time it first became due: its old place. */
  private static final String BACK_TO_QUEUE = """
      UPDATE jobs SET state = ?, visible_at = CASE WHEN ? THEN coalesce(due_at, ?) ELSE ? END, finished_at = NULL,
        attempt_count = attempt_count + ?,
        lease_token = NULL, due_at = NULL, att_runner = NULL, att_started_at = NULL, att_worker = NULL,
        att_ended_at = NULL, att_outcome = NULL, att_error = NULL, att_exit_code = NULL,
        att_log_tail = NULL
      WHERE id = ? AND lease_token = ?""";
  private static final String CANCEL_QUEUED =
      "UPDATE jobs SET state = 'cancelled', finished_at = ? WHERE id = ? AND lease_token IS NULL";
  static final String ARCHIVE_ON_ROW = """
      INSERT INTO attempts (job_id, number, runner, worker, started_at, ended_at, outcome, error,
        exit_code, log_tail)
      SELECT id, attempt_no, att_runner, att_worker, att_started_at, att_ended_at, att_outcome,
        att_error, att_exit_code, att_log_tail
      FROM jobs WHERE id = ? AND att_started_at IS NOT NULL""";
  static final String REQUEUE = """
      UPDATE jobs SET state = 'ready', attempt_count = 0, visible_at = ?, finished_at = NULL,
        att_runner = NULL, att_started_at = NULL, att_worker = NULL, att_ended_at = NULL,
        att_outcome = NULL, att_error = NULL, att_exit_code = NULL, att_log_tail = NULL
      WHERE id = ? AND state = 'dead'""";

  private PgCompletions() {}

  /** The columns of a job that ending its attempt needs. {@code token} is null when not leased. */
  record LeasedRow(long id, JobState state, String token, int attemptCount, int maxAttempts, String queue,
      RetryPolicy retry, int part) {
    boolean finishedAtClaim() {
      return state == JobState.SUCCEEDED;
    }
  }

  record Outcome(List<CompletionResult> results, int refused) {}

  private static LeasedRow readRow(ResultSet rs) throws SQLException {
    return new LeasedRow(rs.getLong(1), JobState.parse(rs.getString(2)), rs.getString(3), rs.getInt(6),
        rs.getInt(8), rs.getString(9), JobRows.readRetry(rs, 12), rs.getInt(17));
  }

  static LeasedRow lockRow(Connection c, long id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(LOCK_ROW)) {
      ps.setLong(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? readRow(rs) : null;
      }
    }
  }

  private static Map<Long, LeasedRow> lockRows(Connection c, Collection<Long> ids) throws SQLException {
    Map<Long, LeasedRow> out = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(LOCK_ROWS)) {
      ps.setArray(1, c.createArrayOf("bigint", ids.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          LeasedRow r = readRow(rs);
          out.put(r.id(), r);
        }
      }
    }
    return out;
  }

  private static boolean isFailure(Completion done) {
    return done.outcome() == AttemptOutcome.FAILED || done.outcome() == AttemptOutcome.TIMED_OUT;
  }

  static Outcome apply(Connection c, List<Completion> completions, Instant now) throws SQLException {
    long t = now.toEpochMilli();
    Set<Long> ids = new HashSet<>();
    for (Completion done : completions) {
      Long id = PostgresJobStore.parseId(done.jobId());
      if (id != null) {
        ids.add(id);
      }
    }
    Map<Long, LeasedRow> rows = lockRows(c, ids);
    PgStats stats = new PgStats();
    Set<Long> consumed = new HashSet<>();
    List<CompletionResult> results = new ArrayList<>(completions.size());
    int refused = 0;
    Ends ends = new Ends();
    for (Completion done : completions) {
      Long id = PostgresJobStore.parseId(done.jobId());
      LeasedRow row = id == null ? null : rows.get(id);
      // Sequential semantics inside the group: once an attempt ended, its token is stale.
      if (row == null || row.token() == null || !row.token().equals(done.leaseToken()) || !consumed.add(id)) {
        results.add(new CompletionResult(done.jobId(), false, null, null));
        refused++;
        continue;
      }
      boolean atMostOnce = row.finishedAtClaim();
      JobState next;
      if (isFailure(done) && !atMostOnce && done.retryable() && row.attemptCount() < row.maxAttempts()) {
        long delay = Math.max(0, row.retry().delayAfter(row.attemptCount(), ThreadLocalRandom.current()).toMillis());
        next = delay == 0 ? JobState.READY : JobState.SCHEDULED;
        archiveRunning(c, row, done.worker(), done.endedAt().toEpochMilli(), done.outcome().wire(), done.error(),
            done.exitCode(), done.logTail(), done.startedAt());
        backToQueue(c, row, next, t + delay, 0, false);
      } else {
        next = atMostOnce || done.outcome() == AttemptOutcome.SUCCEEDED ? JobState.SUCCEEDED
            : done.outcome() == AttemptOutcome.CANCELLED ? JobState.CANCELLED : JobState.DEAD;
        ends.add(row, next, done);
      }
      if (!atMostOnce) {
        stats.move(row.queue(), row.part(), row.state(), next);
      }
      results.add(new CompletionResult(done.jobId(), true, next, row.queue()));
    }
    ends.write(c, t);
    stats.flush(c);
    return new Outcome(results, refused);
  }

  /**
   * Gives leases back: the job is ready at once and the interrupted attempt does not count against
   * its max attempts; an at-most-once job stays finished.
   */
  static int release(Connection c, List<Lease> leases, String reason, Instant now) throws SQLException {
    long t = now.toEpochMilli();
    Set<Long> ids = new HashSet<>();
    for (Lease l : leases) {
      Long id = PostgresJobStore.parseId(l.jobId());
      if (id != null) {
        ids.add(id);
      }
    }
    Map<Long, LeasedRow> rows = lockRows(c, ids);
    PgStats stats = new PgStats();
    Set<Long> consumed = new HashSet<>();
    int released = 0;
    for (Lease l : leases) {
      Long id = PostgresJobStore.parseId(l.jobId());
      LeasedRow row = id == null ? null : rows.get(id);
      if (row == null || row.token() == null || !row.token().equals(l.token()) || !consumed.add(id)) {
        continue;
      }
      if (row.finishedAtClaim()) {
        endOnRow(c, row, JobState.SUCCEEDED, t, AttemptOutcome.CANCELLED, reason);
      } else {
        archiveRunning(c, row, null, t, AttemptOutcome.CANCELLED.wire(), reason, null, null, null);
        backToQueue(c, row, JobState.READY, t, -1, true);
        stats.move(row.queue(), row.part(), row.state(), JobState.READY);
      }
      released++;
    }
    stats.flush(c);
    return released;
  }

  /** Cancels a job that is not finished: a running attempt ends on the row as cancelled. */
  static void cancel(Connection c, LeasedRow row, long t) throws SQLException {
    if (row.token() != null) {
      endOnRow(c, row, JobState.CANCELLED, t, AttemptOutcome.CANCELLED, "cancelled by an operator");
    } else {
      try (PreparedStatement ps = c.prepareStatement(CANCEL_QUEUED)) {
        ps.setLong(1, t);
        ps.setLong(2, row.id());
        checkOne(ps.executeUpdate(), "cancel");
      }
    }
  }

  private static void endOnRow(Connection c, LeasedRow row, JobState next, long t, AttemptOutcome outcome,
      String error) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(END_ON_ROW)) {
      bind(ps, row.id(), row.token(), next, t, null, t, outcome.wire(), error, null, null, null);
      checkOne(ps.executeUpdate(), "end attempt");
    }
  }

  private static void archiveRunning(Connection c, LeasedRow row, String worker, long endedAt, String outcome,
      String error, Integer exitCode, String logTail, Instant startedAt) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(ARCHIVE_RUNNING)) {
      ps.setString(1, worker);
      PgClaims.setNullableMillis(ps, 2, startedAt);
      ps.setLong(3, endedAt);
      ps.setString(4, outcome);
      ps.setString(5, error == null ? null : head(error, MAX_ERROR_CHARS));
      setInt(ps, 6, exitCode);
      ps.setString(7, logTail == null ? null : tail(logTail, MAX_LOG_TAIL_CHARS));
      ps.setLong(8, row.id());
      ps.setString(9, row.token());
      checkOne(ps.executeUpdate(), "archive attempt");
    }
  }

  private static void backToQueue(Connection c, LeasedRow row, JobState next, long visibleAt, int countDelta,
      boolean keepDue) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(BACK_TO_QUEUE)) {
      ps.setString(1, next.wire());
      ps.setBoolean(2, keepDue);
      ps.setLong(3, visibleAt);
      ps.setLong(4, visibleAt);
      ps.setInt(5, countDelta);
      ps.setLong(6, row.id());
      ps.setString(7, row.token());
      checkOne(ps.executeUpdate(), "requeue attempt");
    }
  }

  /**
   * The attempts a group ends on their rows, written in one statement: a statement per row costs
   * the server a parse-bind-execute each, which dominated a group of thousands of no-op jobs.
   */
  private static final class Ends {
    private final List<Long> ids = new ArrayList<>();
    private final List<String> tokens = new ArrayList<>();
    private final List<String> states = new ArrayList<>();
    private final List<String> workers = new ArrayList<>();
    private final List<Long> endedAt = new ArrayList<>();
    private final List<String> outcomes = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();
    private final List<Integer> exitCodes = new ArrayList<>();
    private final List<String> logTails = new ArrayList<>();
    private final List<Long> startedAt = new ArrayList<>();

    void add(LeasedRow row, JobState next, Completion done) {
      ids.add(row.id());
      tokens.add(row.token());
      states.add(next.wire());
      workers.add(done.worker());
      endedAt.add(done.endedAt().toEpochMilli());
      outcomes.add(done.outcome().wire());
      errors.add(done.error() == null ? null : head(done.error(), MAX_ERROR_CHARS));
      exitCodes.add(done.exitCode());
      logTails.add(done.logTail() == null ? null : tail(done.logTail(), MAX_LOG_TAIL_CHARS));
      startedAt.add(done.startedAt() == null ? null : done.startedAt().toEpochMilli());
    }

    void write(Connection c, long finishedAt) throws SQLException {
      if (ids.isEmpty()) {
        return;
      }
      try (PreparedStatement ps = c.prepareStatement(END_MANY)) {
        ps.setLong(1, finishedAt);
        ps.setArray(2, c.createArrayOf("bigint", ids.toArray()));
        ps.setArray(3, c.createArrayOf("text", tokens.toArray()));
        ps.setArray(4, c.createArrayOf("text", states.toArray()));
        ps.setArray(5, c.createArrayOf("text", workers.toArray()));
        ps.setArray(6, c.createArrayOf("bigint", endedAt.toArray()));
        ps.setArray(7, c.createArrayOf("text", outcomes.toArray()));
        ps.setArray(8, c.createArrayOf("text", errors.toArray()));
        ps.setArray(9, c.createArrayOf("int4", exitCodes.toArray()));
        ps.setArray(10, c.createArrayOf("text", logTails.toArray()));
        ps.setArray(11, c.createArrayOf("bigint", startedAt.toArray()));
        int changed = ps.executeUpdate();
        if (changed != ids.size()) {
          throw new IllegalStateException("complete changed " + changed + " rows instead of " + ids.size()
              + ": a bug (the rows were locked and their tokens checked)");
        }
      }
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
    setInt(ps, 7, exitCode);
    ps.setString(8, logTail == null ? null : tail(logTail, MAX_LOG_TAIL_CHARS));
    PgClaims.setNullableMillis(ps, 9, startedAt);
    ps.setLong(10, id);
    ps.setString(11, token);
  }

  private static void setInt(PreparedStatement ps, int index, Integer v) throws SQLException {
    if (v == null) {
      ps.setNull(index, Types.INTEGER);
    } else {
      ps.setInt(index, v);
    }
  }

  private static String head(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }

  private static String tail(String s, int max) {
    return s.length() <= max ? s : s.substring(s.length() - max);
  }

  static void checkOne(int changed, String op) {
    if (changed != 1) {
      throw new IllegalStateException(op + " changed " + changed + " rows instead of 1: a bug");
    }
  }
}
