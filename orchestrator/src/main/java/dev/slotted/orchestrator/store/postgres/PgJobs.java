package dev.slotted.orchestrator.store.postgres;

import dev.slotted.orchestrator.store.Partitioner;
import dev.slotted.orchestrator.store.Submitted;
import dev.slotted.orchestrator.store.sqlite.JobRows;
import dev.slotted.orchestrator.store.sqlite.Json;
import dev.slotted.protocol.Attempt;
import dev.slotted.protocol.Delivery;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.NewJob;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Inserting jobs and reading them back. The rows have the SQLite store's columns, so the row codec
 * ({@link JobRows}) is shared and a job reads back as the same JSON on both stores.
 */
final class PgJobs {
  private static final String NEXT_IDS = "SELECT nextval('jobs_id_seq') FROM generate_series(1, ?)";
  private static final String INSERT = """
      INSERT INTO jobs (id, state, part, priority, visible_at, queue, max_attempts, at_most_once, run_at,
        created_at, timeout_ms, retry_policy, retry_initial_ms, retry_multiplier, retry_max_ms,
        retry_jitter, idempotency_key, partition_key, tags, payload)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (queue, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING""";
  private static final String ID_BY_KEY = "SELECT id FROM jobs WHERE queue = ? AND idempotency_key = ?";
  private static final String BY_ID = "SELECT " + JobRows.COLUMNS + " FROM jobs WHERE id = ?";
  private static final String ATTEMPTS = "SELECT job_id, number, runner, worker, started_at, ended_at, outcome,"
      + " error, exit_code, log_tail FROM attempts WHERE job_id = ANY(?) ORDER BY job_id, number";

  private PgJobs() {}

  static List<Submitted> insert(Connection c, List<NewJob> jobs, Instant now, int partitions) throws SQLException {
    long nowMs = now.toEpochMilli();
    long[] ids = new long[jobs.size()];
    try (PreparedStatement ps = c.prepareStatement(NEXT_IDS)) {
      ps.setInt(1, jobs.size());
      try (ResultSet rs = ps.executeQuery()) {
        for (int i = 0; rs.next(); i++) {
          ids[i] = rs.getLong(1);
        }
      }
    }
    int[] parts = new int[jobs.size()];
    int[] counts;
    try (PreparedStatement ins = c.prepareStatement(INSERT)) {
      for (int i = 0; i < jobs.size(); i++) {
        NewJob j = jobs.get(i);
        long runAt = j.runAt() == null ? nowMs : j.runAt().toEpochMilli();
        int part = Partitioner.partitionOf(j.partitionKey(), j.idempotencyKey(), partitions);
        parts[i] = part >= 0 ? part : Partitioner.spread(ids[i], partitions);
        ins.setLong(1, ids[i]);
        ins.setString(2, runAt > nowMs ? "scheduled" : "ready");
        ins.setInt(3, parts[i]);
        ins.setInt(4, j.priority());
        ins.setLong(5, runAt);
        ins.setString(6, j.queue());
        ins.setInt(7, j.maxAttempts());
        ins.setInt(8, j.delivery() == Delivery.AT_MOST_ONCE ? 1 : 0);
        ins.setLong(9, runAt);
        ins.setLong(10, nowMs);
        if (j.timeout() == null) {
          ins.setNull(11, Types.BIGINT);
        } else {
          ins.setLong(11, j.timeout().toMillis());
        }
        JobRows.bindRetry(ins, 12, j.retry());
        ins.setString(17, j.idempotencyKey());
        ins.setString(18, j.partitionKey());
        ins.setString(19, j.tags().isEmpty() ? null : Json.strings(j.tags()));
        ins.setString(20, j.payload());
        ins.addBatch();
      }
      counts = ins.executeBatch();
    }
    PgStats stats = new PgStats();
    List<Submitted> out = new ArrayList<>(jobs.size());
    for (int i = 0; i < jobs.size(); i++) {
      NewJob j = jobs.get(i);
      if (counts[i] == 1) {
        long runAt = j.runAt() == null ? nowMs : j.runAt().toEpochMilli();
        JobState state = runAt > nowMs ? JobState.SCHEDULED : JobState.READY;
        Job job = new Job(Long.toString(ids[i]), j.queue(), state, j.payload(), j.priority(), j.maxAttempts(), 0,
            j.idempotencyKey(), j.partitionKey(), parts[i], j.tags(), j.timeout(), Instant.ofEpochMilli(runAt),
            Instant.ofEpochMilli(nowMs), null, List.of());
        stats.add(j.queue(), parts[i], state, 1);
        out.add(new Submitted(job, true));
      } else if (counts[i] == 0) {
        long id;
        try (PreparedStatement byKey = c.prepareStatement(ID_BY_KEY)) {
          byKey.setString(1, j.queue());
          byKey.setString(2, j.idempotencyKey());
          try (ResultSet rs = byKey.executeQuery()) {
            if (!rs.next()) {
              throw new IllegalStateException("insert of " + j + " was skipped but no job has its key: a bug");
            }
            id = rs.getLong(1);
          }
        }
        out.add(new Submitted(load(c, id).orElseThrow(), false));
      } else {
        throw new IllegalStateException("insert of one job changed " + counts[i] + " rows: a bug");
      }
    }
    stats.flush(c);
    return out;
  }

  static Optional<Job> load(Connection c, long id) throws SQLException {
    JobRows.Row row;
    try (PreparedStatement ps = c.prepareStatement(BY_ID)) {
      ps.setLong(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        row = JobRows.read(rs);
      }
    }
    return Optional.of(attach(c, List.of(row)).get(0));
  }

  /** Attaches the ended attempts of every row, with one query. */
  static List<Job> attach(Connection c, List<JobRows.Row> rows) throws SQLException {
    if (rows.isEmpty()) {
      return List.of();
    }
    List<Long> ids = new ArrayList<>(rows.size());
    for (JobRows.Row r : rows) {
      ids.add(Long.parseLong(r.job().id()));
    }
    Map<Long, List<Attempt>> byJob = attemptsOf(c, ids);
    List<Job> out = new ArrayList<>(rows.size());
    for (JobRows.Row r : rows) {
      out.add(JobRows.withAttempts(r, byJob.getOrDefault(Long.parseLong(r.job().id()), List.of())));
    }
    return out;
  }

  static Map<Long, List<Attempt>> attemptsOf(Connection c, Collection<Long> ids) throws SQLException {
    Map<Long, List<Attempt>> out = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(ATTEMPTS)) {
      ps.setArray(1, c.createArrayOf("bigint", ids.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(JobRows.readAttempt(rs));
        }
      }
    }
    return out;
  }
}
