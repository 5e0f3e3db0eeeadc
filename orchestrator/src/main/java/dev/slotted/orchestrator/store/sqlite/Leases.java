package dev.slotted.orchestrator.store.sqlite;

import dev.slotted.orchestrator.store.ClaimRequest;
import dev.slotted.orchestrator.store.Lease;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.JobState;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The runner's lease path: promote and claim, renew, reap expired leases. */
final class Leases {
  /** Most scheduled jobs one claim promotes to ready, so a burst of due jobs cannot stall a slot. */
  static final int PROMOTE_BATCH = 1000;

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
  /** A ready row's visible_at is when it became due. */
  private static final String CLAIM_DUE_BEFORE = " AND visible_at <= ?8";
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

  /** The leases among ?1 that this runner still holds (a read: no write lock). */
  private static final String HELD = """
      SELECT jobs.id, jobs.lease_token FROM json_each(?1) AS h
      JOIN jobs ON jobs.id = h.value ->> 0 AND jobs.lease_token = h.value ->> 1 AND jobs.att_runner = ?2""";

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
      // Back in the queue at its old place: due since it first became due, not since the lease ran
      // out, so a crashed runner's jobs run before the backlog that came after them.
      + " visible_at = CASE WHEN " + BACK + " THEN coalesce(due_at, visible_at) ELSE visible_at END,"
      + " lease_token = NULL, due_at = NULL"
      + " WHERE part = ?2 AND lease_token IS NOT NULL AND visible_at <= ?1"
      + " RETURNING id, queue, state, at_most_once";

  /** Reaping runs every slot and usually finds nothing: probe before the two writes. */
  private static final String ANY_EXPIRED = """
      SELECT EXISTS (SELECT 1 FROM jobs WHERE part = ?1 AND lease_token IS NOT NULL AND visible_at <= ?2)""";

  private Leases() {}

  static List<ClaimedJob> claim(Conn c, ClaimRequest req, Instant at, String sql, String queuesJson, String tagsJson,
      ClaimMemo memo) throws SQLException {
    long now = at.toEpochMilli();
    StatsDelta stats = new StatsDelta();
    // Promote about what this claim can take: a claim sized for a few jobs does not move a
    // thousand scheduled rows (a burst of due jobs then costs no single slot much).
    promote(c, req.partition(), now, Math.min(PROMOTE_BATCH, Math.max(2 * req.limit(), 100)), stats);
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
    if (req.minWait() != null) {
      ps.setLong(8, req.dueBefore(at).toEpochMilli());
    }
    List<ClaimedJob> claimed = new ArrayList<>();
    List<Integer> priorities = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        String[] f = rs.getString(1).split(" ", 10);
        String queue = f[9];
        Duration timeout = f[7].equals("-") ? null : Duration.ofMillis(Long.parseLong(f[7]));
        List<String> tags = f[8].equals("-") ? List.of() : Json.parseStrings(f[8]);
        int priority = Integer.parseInt(f[2]);
        claimed.add(new ClaimedJob(f[0], queue, rs.getString(2), Integer.parseInt(f[4]),
            Integer.parseInt(f[5]), f[1], rs.getString(3), req.partition(), tags, timeout,
            Instant.ofEpochMilli(Long.parseLong(f[3])), at, priority));
        priorities.add(priority);
        boolean atMostOnce = f[6].equals("1");
        stats.move(queue, JobState.READY, atMostOnce ? JobState.SUCCEEDED : JobState.RUNNING);
        memo.remember(f[1], queue, atMostOnce);
      }
    }
    stats.flush(c);
    return inClaimOrder(claimed, priorities);
  }

  /**
   * The highest priority among the ready jobs this claim could take (tags aside), or null when
   * there are none: a round claims its partitions in this order, so priority holds across
   * partitions when the round cannot take everything.
   */
  static Integer bestPriority(Conn c, ClaimRequest req, Instant at, String queuesJson) throws SQLException {
    StatsDelta stats = new StatsDelta();
    promote(c, req.partition(), at.toEpochMilli(), Math.min(PROMOTE_BATCH, Math.max(2 * req.limit(), 100)),
        stats);
    stats.flush(c);
    PreparedStatement ps = c.prepare("SELECT priority FROM jobs WHERE part = ?1 AND state = 'ready'"
        + (queuesJson != null ? " AND queue IN (SELECT value FROM json_each(?2))" : " AND ?2 IS NULL")
        + (req.minWait() != null ? " AND visible_at <= ?3" : " AND ?3 IS NULL")
        + " ORDER BY priority DESC, visible_at LIMIT 1");
    ps.setInt(1, req.partition());
    ps.setString(2, queuesJson);
    if (req.minWait() != null) {
      ps.setLong(3, req.dueBefore(at).toEpochMilli());
    } else {
      ps.setNull(3, java.sql.Types.INTEGER);
    }
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getInt(1) : null;
    }
  }

  static String claimSql(boolean byQueue, boolean byTags) {
    return claimSql(byQueue, byTags, false);
  }

  /** {@code dueBefore}: only ready jobs that became due before ?8 (a steal takes jobs that waited). */
  static String claimSql(boolean byQueue, boolean byTags, boolean dueBefore) {
    return CLAIM_HEAD + (byQueue ? CLAIM_QUEUES : "") + (byTags ? CLAIM_TAGS : CLAIM_UNTAGGED)
        + (dueBefore ? CLAIM_DUE_BEFORE : "") + CLAIM_TAIL;
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
    Arrays.sort(idx, Comparator.<Integer>comparingInt(i -> -priorities.get(i))
        .thenComparing(i -> jobs.get(i).dueAt())
        .thenComparingLong(i -> Long.parseLong(jobs.get(i).id())));
    List<ClaimedJob> out = new ArrayList<>(jobs.size());
    for (Integer i : idx) {
      out.add(jobs.get(i));
    }
    return out;
  }

  private static void promote(Conn c, int partition, long now, int most, StatsDelta stats) throws SQLException {
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
    ps.setInt(3, most);
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        stats.move(rs.getString(1), JobState.SCHEDULED, JobState.READY);
      }
    }
  }

  /** Renews the given leases of one runner in one statement; returns the ids of those it lost. */
  static Set<String> renew(Conn c, String runnerId, List<Lease> leases, String json, long until)
      throws SQLException {
    PreparedStatement ps = c.prepare(RENEW);
    ps.setLong(1, until);
    ps.setString(2, json);
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
  }

  /** The ids among {@code leases} whose lease this runner no longer holds. */
  static Set<String> notHeld(Conn c, String runnerId, List<Lease> leases, String json) throws SQLException {
    PreparedStatement ps = c.prepare(HELD);
    ps.setString(1, json);
    ps.setString(2, runnerId);
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
  /** Whether the partition has an expired lease at {@code t} (a read: no write lock). */
  static boolean anyExpired(Conn c, int partition, long t) throws SQLException {
    PreparedStatement any = c.prepare(ANY_EXPIRED);
    any.setInt(1, partition);
    any.setLong(2, t);
    try (ResultSet rs = any.executeQuery()) {
      return rs.next() && rs.getInt(1) != 0;
    }
  }

  static List<String> reap(Conn c, int partition, long t) throws SQLException {
    if (!anyExpired(c, partition, t)) {
      return List.of();
    }
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
  }
}
