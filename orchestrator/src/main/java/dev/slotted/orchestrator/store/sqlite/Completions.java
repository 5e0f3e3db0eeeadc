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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ending attempts: completions (group commit), released leases and cancels. A batch reads the
 * leased rows it names with one query, decides each outcome in Java (the retry delay needs the
 * job's policy and a random jitter), then writes the rows and the attempts with one batched
 * statement each.
 */
final class Completions {
  private static final int MAX_ERROR_CHARS = 4000;
  private static final int MAX_LOG_TAIL_CHARS = 64 * 1024;

  static final String ROW_COLUMNS = """
      SELECT id, state, lease_token, lease_owner, lease_started_at, attempt_count, attempt_no,
        max_attempts, queue, visible_at, finished_at,
        retry_policy, retry_initial_ms, retry_multiplier, retry_max_ms, retry_jitter
      FROM jobs""";
  private static final String ROWS = ROW_COLUMNS + " WHERE id IN (SELECT value FROM json_each(?))";
  private static final String ROW = ROW_COLUMNS + " WHERE id = ?";
  /** The token guard ({@code IS}, null-safe) makes a bug show as a changed-row count of 0. */
  static final String END_LEASE = """
      UPDATE jobs SET state = ?, visible_at = ?, finished_at = ?, attempt_count = attempt_count + ?,
        lease_token = NULL, lease_owner = NULL, lease_started_at = NULL, due_at = NULL
      WHERE id = ? AND lease_token IS ?""";
  static final String INSERT_ATTEMPT = """
      INSERT INTO attempts (job_id, number, runner, worker, started_at, ended_at, outcome, error,
        exit_code, log_tail)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""";

  private Completions() {}

  /** The columns of a job that ending its attempt needs. {@code token} is null when not leased. */
  record LeasedRow(
      long id,
      JobState state,
      String token,
      String owner,
      long startedAt,
      int attemptCount,
      int attemptNo,
      int maxAttempts,
      String queue,
      long visibleAt,
      Long finishedAt,
      RetryPolicy retry) {

    LeasedRow withoutLease() {
      return new LeasedRow(id, state, null, owner, startedAt, attemptCount, attemptNo, maxAttempts,
          queue, visibleAt, finishedAt, retry);
    }

    /** An at-most-once job is finished (succeeded) at claim while its attempt still runs. */
    boolean finishedAtClaim() {
      return state == JobState.SUCCEEDED;
    }
  }

  /** What a group of completions did; {@code refused} feeds the lease-rejection counter. */
  record Outcome(List<CompletionResult> results, int refused) {}

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

  static Outcome apply(Conn c, List<Completion> completions, Instant now) throws SQLException {
    long t = now.toEpochMilli();
    List<Long> ids = new ArrayList<>(completions.size());
    for (Completion done : completions) {
      Long id = SqliteJobStore.parseId(done.jobId());
      if (id != null) {
        ids.add(id);
      }
    }
    Map<Long, LeasedRow> rows = rows(c, ids);
    PreparedStatement end = c.prepare(END_LEASE);
    PreparedStatement att = c.prepare(INSERT_ATTEMPT);
    StatsDelta stats = new StatsDelta();
    List<CompletionResult> results = new ArrayList<>(completions.size());
    int refused = 0;
    int ends = 0;
    for (Completion done : completions) {
      Long id = SqliteJobStore.parseId(done.jobId());
      LeasedRow row = id == null ? null : rows.get(id);
      if (row == null || row.token() == null || !row.token().equals(done.leaseToken())) {
        results.add(new CompletionResult(done.jobId(), false, null, null));
        refused++;
        continue;
      }
      JobState next;
      long visibleAt = row.visibleAt();
      Long finishedAt;
      if (row.finishedAtClaim()) {
        next = row.state();
        finishedAt = row.finishedAt();
      } else {
        switch (done.outcome()) {
          case SUCCEEDED -> {
            next = JobState.SUCCEEDED;
            finishedAt = t;
          }
          case CANCELLED -> {
            next = JobState.CANCELLED;
            finishedAt = t;
          }
          default -> {
            if (done.retryable() && row.attemptCount() < row.maxAttempts()) {
              long delay = row.retry().delayAfter(row.attemptCount(), ThreadLocalRandom.current()).toMillis();
              next = delay <= 0 ? JobState.READY : JobState.SCHEDULED;
              visibleAt = t + Math.max(0, delay);
              finishedAt = null;
            } else {
              next = JobState.DEAD;
              finishedAt = t;
            }
          }
        }
        stats.move(row.queue(), row.state(), next);
      }
      bindEnd(end, row.id(), row.token(), next, visibleAt, finishedAt, 0);
      end.addBatch();
      bindAttempt(att, row, done.worker(), done.endedAt().toEpochMilli(), done.outcome().wire(),
          done.error(), done.exitCode(), done.logTail());
      att.addBatch();
      ends++;
      // A second completion of the same attempt in this batch must find the lease gone.
      rows.put(row.id(), row.withoutLease());
      results.add(new CompletionResult(done.jobId(), true, next, row.queue()));
    }
    if (ends > 0) {
      checkAllChanged(end.executeBatch(), "complete");
      att.executeBatch();
    }
    stats.flush(c);
    return new Outcome(results, refused);
  }

  /**
   * Gives leases back: the job is ready at once and the interrupted attempt does not count against
   * its max attempts (the runner stopped it, not the job); an at-most-once job stays finished.
   */
  static int release(Conn c, List<Lease> leases, String reason, Instant now) throws SQLException {
    long t = now.toEpochMilli();
    Set<Long> ids = new LinkedHashSet<>();
    for (Lease l : leases) {
      Long id = SqliteJobStore.parseId(l.jobId());
      if (id != null) {
        ids.add(id);
      }
    }
    Map<Long, LeasedRow> rows = rows(c, new ArrayList<>(ids));
    PreparedStatement end = c.prepare(END_LEASE);
    PreparedStatement att = c.prepare(INSERT_ATTEMPT);
    StatsDelta stats = new StatsDelta();
    int released = 0;
    for (Lease l : leases) {
      Long id = SqliteJobStore.parseId(l.jobId());
      LeasedRow row = id == null ? null : rows.get(id);
      if (row == null || row.token() == null || !row.token().equals(l.token())) {
        continue;
      }
      if (row.finishedAtClaim()) {
        bindEnd(end, row.id(), row.token(), row.state(), row.visibleAt(), row.finishedAt(), 0);
      } else {
        bindEnd(end, row.id(), row.token(), JobState.READY, t, null, -1);
        stats.move(row.queue(), row.state(), JobState.READY);
      }
      end.addBatch();
      bindAttempt(att, row, null, t, AttemptOutcome.CANCELLED.wire(), reason, null, null);
      att.addBatch();
      rows.put(row.id(), row.withoutLease());
      released++;
    }
    if (released > 0) {
      checkAllChanged(end.executeBatch(), "release");
      att.executeBatch();
    }
    stats.flush(c);
    return released;
  }

  static void bindEnd(PreparedStatement ps, long id, String token, JobState state, long visibleAt,
      Long finishedAt, int attemptCountDelta) throws SQLException {
    ps.setString(1, state.wire());
    ps.setLong(2, visibleAt);
    if (finishedAt == null) {
      ps.setNull(3, Types.INTEGER);
    } else {
      ps.setLong(3, finishedAt);
    }
    ps.setInt(4, attemptCountDelta);
    ps.setLong(5, id);
    ps.setString(6, token);
  }

  static void bindAttempt(PreparedStatement ps, LeasedRow row, String worker, long endedAt,
      String outcome, String error, Integer exitCode, String logTail) throws SQLException {
    ps.setLong(1, row.id());
    ps.setInt(2, row.attemptNo());
    ps.setString(3, row.owner());
    ps.setString(4, worker);
    ps.setLong(5, row.startedAt());
    ps.setLong(6, endedAt);
    ps.setString(7, outcome);
    ps.setString(8, error == null || error.length() <= MAX_ERROR_CHARS ? error : error.substring(0, MAX_ERROR_CHARS));
    if (exitCode == null) {
      ps.setNull(9, Types.INTEGER);
    } else {
      ps.setInt(9, exitCode);
    }
    ps.setString(10, logTail == null || logTail.length() <= MAX_LOG_TAIL_CHARS
        ? logTail : logTail.substring(logTail.length() - MAX_LOG_TAIL_CHARS));
  }

  private static void checkAllChanged(int[] counts, String op) {
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] != 1) {
        throw new IllegalStateException(op + ": ending lease #" + i + " changed " + counts[i] + " rows: a bug");
      }
    }
  }
}
