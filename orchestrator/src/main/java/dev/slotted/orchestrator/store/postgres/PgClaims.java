package dev.slotted.orchestrator.store.postgres;

import dev.slotted.orchestrator.store.ClaimRequest;
import dev.slotted.orchestrator.store.Lease;
import dev.slotted.orchestrator.store.sqlite.Json;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.JobState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The runner's lease path on PostgreSQL: promote and claim, renew, reap. The claim is one statement:
 * a CTE picks the ready rows in claim order with {@code FOR UPDATE SKIP LOCKED} (rows another
 * orchestrator is claiming are passed over, never waited for) and the UPDATE leases them.
 */
final class PgClaims {
  static final int PROMOTE_BATCH = 1000;

  private static final String PROMOTE = """
      UPDATE jobs SET state = 'ready'
      WHERE id IN (SELECT id FROM jobs WHERE part = ? AND state = 'scheduled' AND visible_at <= ?
                   ORDER BY visible_at LIMIT ? FOR UPDATE SKIP LOCKED)
      RETURNING queue""";
  private static final String CLAIM_HEAD = "WITH picked AS (SELECT id FROM jobs WHERE part = ? AND state = 'ready'";
  private static final String CLAIM_QUEUES = " AND queue = ANY(?)";
  private static final String CLAIM_UNTAGGED = " AND tags IS NULL";
  private static final String CLAIM_TAGS = " AND (tags IS NULL OR tags::jsonb <@ ?::jsonb)";
  private static final String CLAIM_DUE_BEFORE = " AND visible_at <= ?";
  private static final String CLAIM_TAIL = """
       ORDER BY priority DESC, visible_at, id LIMIT ? FOR UPDATE SKIP LOCKED)
      UPDATE jobs j SET
        state = CASE j.at_most_once WHEN 1 THEN 'succeeded' ELSE 'running' END,
        finished_at = CASE j.at_most_once WHEN 1 THEN ?::bigint END,
        due_at = j.visible_at,
        visible_at = ?,
        lease_token = replace(gen_random_uuid()::text, '-', ''),
        att_runner = ?,
        att_started_at = ?,
        attempt_count = j.attempt_count + 1,
        attempt_no = j.attempt_no + 1
      FROM picked WHERE j.id = picked.id
      RETURNING j.id, j.lease_token, j.priority, j.due_at, j.attempt_no, j.max_attempts, j.at_most_once,
        j.timeout_ms, j.tags, j.queue, j.payload, j.idempotency_key""";

  private static final String RENEW = """
      UPDATE jobs SET visible_at = ?
      FROM unnest(?::bigint[], ?::text[]) AS h(id, token)
      WHERE jobs.id = h.id AND jobs.lease_token = h.token AND jobs.att_runner = ?
      RETURNING jobs.id, jobs.lease_token""";

  /** The leases among the given ones that this runner still holds (a read). */
  private static final String HELD = """
      SELECT jobs.id, jobs.lease_token FROM unnest(?::bigint[], ?::text[]) AS h(id, token)
      JOIN jobs ON jobs.id = h.id AND jobs.lease_token = h.token AND jobs.att_runner = ?""";

  private static final String EXPIRED = """
      SELECT id FROM jobs WHERE part = ? AND lease_token IS NOT NULL AND visible_at <= ?
      ORDER BY id FOR UPDATE SKIP LOCKED""";
  private static final String REAP_ERROR = "'the lease of runner ' || att_runner || ' expired without renewal'";
  private static final String BACK = "(state = 'running' AND attempt_count < max_attempts)";
  private static final String REAP_ARCHIVE =
      "INSERT INTO attempts (job_id, number, runner, worker, started_at, ended_at, outcome, error)"
      + " SELECT id, attempt_no, att_runner, NULL, att_started_at, ?, 'lease_expired', " + REAP_ERROR
      + " FROM jobs WHERE id = ANY(?) AND state = 'running' AND attempt_count < max_attempts";
  private static final String REAP = "UPDATE jobs SET"
      + " state = CASE WHEN state <> 'running' THEN state"
      + "   WHEN attempt_count < max_attempts THEN 'ready' ELSE 'dead' END,"
      + " finished_at = CASE WHEN state = 'running' AND attempt_count >= max_attempts THEN ?::bigint"
      + "   ELSE finished_at END,"
      + " att_runner = CASE WHEN " + BACK + " THEN NULL ELSE att_runner END,"
      + " att_started_at = CASE WHEN " + BACK + " THEN NULL ELSE att_started_at END,"
      + " att_ended_at = CASE WHEN " + BACK + " THEN NULL ELSE ?::bigint END,"
      + " att_outcome = CASE WHEN " + BACK + " THEN NULL ELSE 'lease_expired' END,"
      + " att_error = CASE WHEN " + BACK + " THEN NULL ELSE " + REAP_ERROR + " END,"
      // Back in the queue at its old place: due since it first became due, not since the lease ran
      // out, so a crashed runner's jobs run before the backlog that came after them.
      + " visible_at = CASE WHEN " + BACK + " THEN coalesce(due_at, visible_at) ELSE visible_at END,"
      + " lease_token = NULL, due_at = NULL"
      + " WHERE id = ANY(?)"
      + " RETURNING id, queue, state, at_most_once, part";

  private PgClaims() {}

  static String claimSql(boolean byQueue, boolean byTags, boolean dueBefore) {
    return CLAIM_HEAD + (byQueue ? CLAIM_QUEUES : "") + (byTags ? CLAIM_TAGS : CLAIM_UNTAGGED)
        + (dueBefore ? CLAIM_DUE_BEFORE : "") + CLAIM_TAIL;
  }

  static List<ClaimedJob> claim(Connection c, ClaimRequest req, Instant at) throws SQLException {
    long now = at.toEpochMilli();
    PgStats stats = new PgStats();
    promote(c, req.partition(), now, Math.min(PROMOTE_BATCH, Math.max(2 * req.limit(), 100)), stats);
    boolean byQueue = !req.queues().isEmpty();
    boolean byTags = !req.workerTags().isEmpty();
    List<ClaimedJob> claimed = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(claimSql(byQueue, byTags, req.minWait() != null))) {
      int i = 1;
      ps.setInt(i++, req.partition());
      if (byQueue) {
        ps.setArray(i++, c.createArrayOf("text", req.queues().toArray()));
      }
      if (byTags) {
        ps.setString(i++, Json.strings(req.workerTags()));
      }
      if (req.minWait() != null) {
        ps.setLong(i++, req.dueBefore(at).toEpochMilli());
      }
      ps.setInt(i++, req.limit());
      ps.setLong(i++, now);
      ps.setLong(i++, now + req.lease().toMillis());
      ps.setString(i++, req.runnerId());
      ps.setLong(i, now);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          long timeoutMs = rs.getLong(8);
          Duration timeout = rs.wasNull() ? null : Duration.ofMillis(timeoutMs);
          String queue = rs.getString(10);
          boolean atMostOnce = rs.getInt(7) == 1;
          claimed.add(new ClaimedJob(Long.toString(rs.getLong(1)), queue, rs.getString(11), rs.getInt(5),
              rs.getInt(6), rs.getString(2), rs.getString(12), req.partition(), Json.parseStrings(rs.getString(9)),
              timeout, Instant.ofEpochMilli(rs.getLong(4)), at, rs.getInt(3)));
          stats.move(queue, req.partition(), JobState.READY, atMostOnce ? JobState.SUCCEEDED : JobState.RUNNING);
        }
      }
    }
    stats.flush(c);
    // RETURNING gives rows in no set order: put them back in the order they were chosen in.
    claimed.sort(Comparator.comparingInt((ClaimedJob j) -> -j.priority()).thenComparing(ClaimedJob::dueAt)
        .thenComparingLong(j -> Long.parseLong(j.id())));
    return claimed;
  }

  /**
   * The highest priority among the ready jobs this claim could take (tags aside), or null when none:
   * a round claims its partitions in this order (see {@link RoundPlan#byBestPriority}).
   */
  static Integer bestPriority(Connection c, ClaimRequest req, Instant at) throws SQLException {
    PgStats stats = new PgStats();
    promote(c, req.partition(), at.toEpochMilli(), Math.min(PROMOTE_BATCH, Math.max(2 * req.limit(), 100)),
        stats);
    stats.flush(c);
    boolean byQueue = !req.queues().isEmpty();
    try (PreparedStatement ps = c.prepareStatement("SELECT priority FROM jobs WHERE part = ? AND state = 'ready'"
        + (byQueue ? CLAIM_QUEUES : "") + (req.minWait() != null ? CLAIM_DUE_BEFORE : "")
        + " ORDER BY priority DESC, visible_at LIMIT 1")) {
      int i = 1;
      ps.setInt(i++, req.partition());
      if (byQueue) {
        ps.setArray(i++, c.createArrayOf("text", req.queues().toArray()));
      }
      if (req.minWait() != null) {
        ps.setLong(i, req.dueBefore(at).toEpochMilli());
      }
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getInt(1) : null;
      }
    }
  }

  private static void promote(Connection c, int partition, long now, int most, PgStats stats) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(PROMOTE)) {
      ps.setInt(1, partition);
      ps.setLong(2, now);
      ps.setInt(3, most);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          stats.move(rs.getString(1), partition, JobState.SCHEDULED, JobState.READY);
        }
      }
    }
  }

  /** Renews the given leases of one runner in one statement; returns the ids of those it lost. */
  static Set<String> renew(Connection c, String runnerId, List<Lease> leases, long until) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(RENEW)) {
      ps.setLong(1, until);
      bindLeases(c, ps, 2, leases);
      ps.setString(4, runnerId);
      return lost(ps, leases);
    }
  }

  /** The ids among {@code leases} whose lease this runner no longer holds (a read). */
  static Set<String> notHeld(Connection c, String runnerId, List<Lease> leases) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(HELD)) {
      bindLeases(c, ps, 1, leases);
      ps.setString(3, runnerId);
      return lost(ps, leases);
    }
  }

  /** Binds the ids and the tokens as two arrays at {@code first} and {@code first + 1}. */
  private static void bindLeases(Connection c, PreparedStatement ps, int first, List<Lease> leases) throws SQLException {
    List<Long> ids = new ArrayList<>();
    List<String> tokens = new ArrayList<>();
    for (Lease l : leases) {
      Long id = PostgresJobStore.parseId(l.jobId());
      if (id != null) {
        ids.add(id);
        tokens.add(l.token());
      }
    }
    ps.setArray(first, c.createArrayOf("bigint", ids.toArray()));
    ps.setArray(first + 1, c.createArrayOf("text", tokens.toArray()));
  }

  /** The query returns (id, token) of the leases still held: the others are lost. */
  private static Set<String> lost(PreparedStatement ps, List<Lease> leases) throws SQLException {
    Set<Lease> held = new HashSet<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        held.add(new Lease(Long.toString(rs.getLong(1)), rs.getString(2)));
      }
    }
    Set<String> lost = new HashSet<>();
    for (Lease l : leases) {
      if (!held.contains(l)) {
        lost.add(l.jobId());
      }
    }
    return Set.copyOf(lost);
  }

  /** Ends the expired leases of one partition; returns the reaped job ids, ascending. */
  static List<String> reap(Connection c, int partition, long t) throws SQLException {
    List<Long> expired = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(EXPIRED)) {
      ps.setInt(1, partition);
      ps.setLong(2, t);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          expired.add(rs.getLong(1));
        }
      }
    }
    if (expired.isEmpty()) {
      return List.of();
    }
    java.sql.Array ids = c.createArrayOf("bigint", expired.toArray());
    int archived;
    try (PreparedStatement ins = c.prepareStatement(REAP_ARCHIVE)) {
      ins.setLong(1, t);
      ins.setArray(2, ids);
      archived = ins.executeUpdate();
    }
    PgStats stats = new PgStats();
    List<Long> reaped = new ArrayList<>();
    int backToReady = 0;
    try (PreparedStatement upd = c.prepareStatement(REAP)) {
      upd.setLong(1, t);
      upd.setLong(2, t);
      upd.setArray(3, ids);
      try (ResultSet rs = upd.executeQuery()) {
        while (rs.next()) {
          reaped.add(rs.getLong(1));
          JobState next = JobState.parse(rs.getString(3));
          if (rs.getInt(4) == 0) {
            stats.move(rs.getString(2), rs.getInt(5), JobState.RUNNING, next);
          }
          if (next == JobState.READY) {
            backToReady++;
          }
        }
      }
    }
    if (backToReady != archived) {
      throw new IllegalStateException("reaped " + backToReady + " jobs back to ready but archived "
          + archived + " attempts: a bug");
    }
    stats.flush(c);
    reaped.sort(null);
    List<String> out = new ArrayList<>(reaped.size());
    reaped.forEach(id -> out.add(Long.toString(id)));
    return out;
  }

  static void setNullableMillis(PreparedStatement ps, int index, Instant at) throws SQLException {
    if (at == null) {
      ps.setNull(index, Types.BIGINT);
    } else {
      ps.setLong(index, at.toEpochMilli());
    }
  }
}
