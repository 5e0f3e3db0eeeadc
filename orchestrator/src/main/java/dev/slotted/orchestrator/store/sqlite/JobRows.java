package dev.slotted.orchestrator.store.sqlite;

import dev.slotted.protocol.Attempt;
import dev.slotted.protocol.AttemptOutcome;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.RetryPolicy;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reading jobs and attempts out of rows, and the columns that encode a retry policy. The row codec
 * ({@link #COLUMNS}, {@link #read}, the retry columns) is shared with the PostgreSQL store, whose
 * tables have the same columns.
 */
public final class JobRows {
  private JobRows() {}

  public static final String COLUMNS = "id, queue, state, payload, priority, max_attempts, attempt_count,"
      + " idempotency_key, partition_key, part, tags, timeout_ms, run_at, created_at, finished_at,"
      + " att_started_at, att_runner, att_worker, att_ended_at, att_outcome, att_error, att_exit_code,"
      + " att_log_tail, attempt_no";

  private static final String BY_ID = "SELECT " + COLUMNS + " FROM jobs WHERE id = ?";
  private static final String ATTEMPTS_OF_ONE = "SELECT job_id, number, runner, worker, started_at,"
      + " ended_at, outcome, error, exit_code, log_tail FROM attempts WHERE job_id = ? ORDER BY number";
  private static final String ATTEMPTS_OF_MANY = "SELECT job_id, number, runner, worker, started_at,"
      + " ended_at, outcome, error, exit_code, log_tail FROM attempts"
      + " WHERE job_id IN (SELECT value FROM json_each(?)) ORDER BY job_id, number";

  /**
   * A jobs row read with {@link #COLUMNS}, before the archived attempts are attached. {@code
   * latest} is the attempt kept on the row (running, or the one that ended the job), or null.
   */
  public record Row(Job job, Attempt latest) {}

  public static Row read(ResultSet rs) throws SQLException {
    long timeoutMs = rs.getLong(12);
    Duration timeout = rs.wasNull() ? null : Duration.ofMillis(timeoutMs);
    long finished = rs.getLong(15);
    Instant finishedAt = rs.wasNull() ? null : Instant.ofEpochMilli(finished);
    long started = rs.getLong(16);
    Attempt latest = null;
    if (!rs.wasNull()) {
      long ended = rs.getLong(19);
      Instant endedAt = rs.wasNull() ? null : Instant.ofEpochMilli(ended);
      String outcome = rs.getString(20);
      int exit = rs.getInt(22);
      Integer exitCode = rs.wasNull() ? null : exit;
      latest = new Attempt(rs.getInt(24), rs.getString(17), rs.getString(18), Instant.ofEpochMilli(started),
          endedAt, outcome == null ? null : AttemptOutcome.parse(outcome), rs.getString(21), exitCode,
          rs.getString(23));
    }
    Job job = new Job(
        Long.toString(rs.getLong(1)),
        rs.getString(2),
        JobState.parse(rs.getString(3)),
        rs.getString(4),
        rs.getInt(5),
        rs.getInt(6),
        rs.getInt(7),
        rs.getString(8),
        rs.getString(9),
        rs.getInt(10),
        Json.parseStrings(rs.getString(11)),
        timeout,
        Instant.ofEpochMilli(rs.getLong(13)),
        Instant.ofEpochMilli(rs.getLong(14)),
        finishedAt,
        List.of());
    return new Row(job, latest);
  }

  public static Job withAttempts(Row row, List<Attempt> archived) {
    List<Attempt> all = new ArrayList<>(archived);
    if (row.latest() != null) {
      all.add(row.latest());
    }
    Job j = row.job();
    return new Job(j.id(), j.queue(), j.state(), j.payload(), j.priority(), j.maxAttempts(),
        j.attemptCount(), j.idempotencyKey(), j.partitionKey(), j.partition(), j.tags(), j.timeout(),
        j.runAt(), j.createdAt(), j.finishedAt(), all);
  }

  static Optional<Job> load(Conn c, long id) throws SQLException {
    Row row;
    PreparedStatement ps = c.prepare(BY_ID);
    ps.setLong(1, id);
    try (ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        return Optional.empty();
      }
      row = read(rs);
    }
    PreparedStatement at = c.prepare(ATTEMPTS_OF_ONE);
    at.setLong(1, id);
    List<Attempt> ended = new ArrayList<>();
    try (ResultSet rs = at.executeQuery()) {
      while (rs.next()) {
        ended.add(readAttempt(rs));
      }
    }
    return Optional.of(withAttempts(row, ended));
  }

  /** Attaches the ended attempts of every row, with one query. */
  static List<Job> attach(Conn c, List<Row> rows) throws SQLException {
    if (rows.isEmpty()) {
      return List.of();
    }
    List<Long> ids = new ArrayList<>(rows.size());
    for (Row r : rows) {
      ids.add(Long.parseLong(r.job().id()));
    }
    Map<Long, List<Attempt>> byJob = attemptsOf(c, ids);
    List<Job> out = new ArrayList<>(rows.size());
    for (Row r : rows) {
      out.add(withAttempts(r, byJob.getOrDefault(Long.parseLong(r.job().id()), List.of())));
    }
    return out;
  }

  static Map<Long, List<Attempt>> attemptsOf(Conn c, Collection<Long> ids) throws SQLException {
    PreparedStatement ps = c.prepare(ATTEMPTS_OF_MANY);
    ps.setString(1, Json.longs(ids));
    Map<Long, List<Attempt>> out = new HashMap<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(readAttempt(rs));
      }
    }
    return out;
  }

  /** Reads an attempts row selected as job_id, number, runner, worker, started_at, ended_at, ... */
  public static Attempt readAttempt(ResultSet rs) throws SQLException {
    int exit = rs.getInt(9);
    Integer exitCode = rs.wasNull() ? null : exit;
    return new Attempt(rs.getInt(2), rs.getString(3), rs.getString(4),
        Instant.ofEpochMilli(rs.getLong(5)), Instant.ofEpochMilli(rs.getLong(6)),
        AttemptOutcome.parse(rs.getString(7)), rs.getString(8), exitCode, rs.getString(10));
  }

  // ---- retry policy columns: retry_policy, retry_initial_ms, retry_multiplier, retry_max_ms, retry_jitter

  public static void bindRetry(PreparedStatement ps, int first, RetryPolicy policy) throws SQLException {
    if (policy instanceof RetryPolicy.Exponential e) {
      ps.setString(first, "exponential");
      ps.setLong(first + 1, e.initial().toMillis());
      ps.setDouble(first + 2, e.multiplier());
      ps.setLong(first + 3, e.max().toMillis());
      ps.setString(first + 4, e.jitter() == RetryPolicy.Jitter.FULL ? "full" : "none");
    } else if (policy instanceof RetryPolicy.Fixed f) {
      ps.setString(first, "fixed");
      ps.setLong(first + 1, f.delay().toMillis());
      ps.setNull(first + 2, Types.REAL);
      ps.setNull(first + 3, Types.INTEGER);
      ps.setNull(first + 4, Types.VARCHAR);
    } else {
      ps.setString(first, "immediate");
      ps.setNull(first + 1, Types.INTEGER);
      ps.setNull(first + 2, Types.REAL);
      ps.setNull(first + 3, Types.INTEGER);
      ps.setNull(first + 4, Types.VARCHAR);
    }
  }

  /** Reads the five retry columns starting at {@code first}. */
  public static RetryPolicy readRetry(ResultSet rs, int first) throws SQLException {
    String kind = rs.getString(first);
    return switch (kind) {
      case "exponential" -> new RetryPolicy.Exponential(
          Duration.ofMillis(rs.getLong(first + 1)), rs.getDouble(first + 2),
          Duration.ofMillis(rs.getLong(first + 3)),
          "none".equals(rs.getString(first + 4)) ? RetryPolicy.Jitter.NONE : RetryPolicy.Jitter.FULL);
      case "fixed" -> new RetryPolicy.Fixed(Duration.ofMillis(rs.getLong(first + 1)));
      case "immediate" -> new RetryPolicy.Immediate();
      default -> throw new IllegalStateException("unknown retry policy in the database: " + kind);
    };
  }
}
