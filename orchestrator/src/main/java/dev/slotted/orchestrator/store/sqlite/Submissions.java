package dev.slotted.orchestrator.store.sqlite;

import dev.slotted.orchestrator.store.Partitioner;
import dev.slotted.orchestrator.store.Submitted;
import dev.slotted.protocol.Delivery;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.NewJob;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Inserting jobs: one batched INSERT for the whole submission, idempotency keys resolved by the
 * partial unique index (a repeat inserts nothing and returns the existing job).
 */
final class Submissions {
  private static final String INSERT = """
      INSERT INTO jobs (state, part, priority, visible_at, queue, max_attempts, at_most_once, run_at,
        created_at, timeout_ms, retry_policy, retry_initial_ms, retry_multiplier, retry_max_ms,
        retry_jitter, idempotency_key, partition_key, tags, payload)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (queue, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING""";
  private static final String MAX_ID = "SELECT coalesce(max(id), 0) FROM jobs";
  private static final String IDS_AFTER = "SELECT id FROM jobs WHERE id > ? ORDER BY id";
  private static final String ID_BY_KEY = "SELECT id FROM jobs WHERE queue = ? AND idempotency_key = ?";

  private Submissions() {}

  static List<Submitted> insert(Conn c, List<NewJob> jobs, Instant now, int partitions) throws SQLException {
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
      ins.setInt(7, j.delivery() == Delivery.AT_MOST_ONCE ? 1 : 0);
      ins.setLong(8, runAt);
      ins.setLong(9, nowMs);
      if (j.timeout() == null) {
        ins.setNull(10, Types.INTEGER);
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
}
