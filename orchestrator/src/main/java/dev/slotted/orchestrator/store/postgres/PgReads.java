package dev.slotted.orchestrator.store.postgres;

import dev.slotted.orchestrator.store.JobQuery;
import dev.slotted.orchestrator.store.Page;
import dev.slotted.orchestrator.store.QueueCounts;
import dev.slotted.orchestrator.store.RunnerRow;
import dev.slotted.orchestrator.store.sqlite.JobRows;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.ValidationException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** The PostgreSQL store's reads, and the runner and leader lease rows. */
final class PgReads {
  private static final String READY_BY_TAGS =
      "SELECT queue, tags, count(*) FROM jobs WHERE state = 'ready' GROUP BY queue, tags";
  private static final String STATS = "SELECT queue, state, sum(n) FROM queue_stats GROUP BY queue, state";
  private static final String OLDEST_READY =
      "SELECT queue, min(visible_at) FROM jobs WHERE state = 'ready' GROUP BY queue";
  private static final String DUE = """
      SELECT p FROM unnest(?::int[]) AS p
      WHERE EXISTS (SELECT 1 FROM jobs WHERE part = p AND state = 'ready')
         OR EXISTS (SELECT 1 FROM jobs WHERE part = p AND state = 'scheduled' AND visible_at <= ?)""";
  private static final String HEARTBEAT = """
      INSERT INTO runners (id, started_at, heartbeat_at, expires_at, status_json) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at,
        expires_at = excluded.expires_at, status_json = excluded.status_json""";
  private static final String DEREGISTER = "DELETE FROM runners WHERE id = ?";
  private static final String RESIGN = "DELETE FROM leader WHERE runner_id = ?";
  private static final String LIST_RUNNERS =
      "SELECT id, started_at, heartbeat_at, expires_at, status_json FROM runners ORDER BY id";
  private static final String LEAD = """
      INSERT INTO leader (id, runner_id, expires_at) VALUES (1, ?, ?)
      ON CONFLICT (id) DO UPDATE SET runner_id = excluded.runner_id, expires_at = excluded.expires_at
      WHERE leader.runner_id = excluded.runner_id OR leader.expires_at <= ?""";
  private static final String LEADER = "SELECT runner_id FROM leader WHERE id = 1";

  private static final String DB_MILLIS = "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint";

  private final PgDb db;
  private final java.time.Clock host;
  private volatile dev.slotted.orchestrator.store.ClockOffset clockOffset;

  /** {@code host}: the clock the database's is measured against (this host's, or a test's skewed one). */
  PgReads(PgDb db, java.time.Clock host) {
    this.db = db;
    this.host = host;
  }

  CompletionStage<Page<Job>> list(JobQuery q) {
    long before = Long.MAX_VALUE;
    if (q.cursor() != null) {
      Long c = PostgresJobStore.parseId(q.cursor());
      if (c == null) {
        return CompletableFuture.failedFuture(new ValidationException("cursor",
            "is not a cursor this server returned: '" + q.cursor() + "'"));
      }
      before = c;
    }
    StringBuilder sql = new StringBuilder("SELECT ").append(JobRows.COLUMNS).append(" FROM jobs WHERE id < ?");
    if (q.queue() != null) {
      sql.append(" AND queue = ?");
    }
    if (q.state() != null) {
      sql.append(" AND state = ?");
    }
    if (q.idempotencyKey() != null) {
      sql.append(" AND idempotency_key = ?");
    }
    sql.append(" ORDER BY id DESC LIMIT ?");
    String text = sql.toString();
    long cursor = before;
    return db.read("list", c -> {
      List<JobRows.Row> rows = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(text)) {
        int i = 1;
        ps.setLong(i++, cursor);
        if (q.queue() != null) {
          ps.setString(i++, q.queue());
        }
        if (q.state() != null) {
          ps.setString(i++, q.state().wire());
        }
        if (q.idempotencyKey() != null) {
          ps.setString(i++, q.idempotencyKey());
        }
        ps.setInt(i, q.limit() + 1);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            rows.add(JobRows.read(rs));
          }
        }
      }
      String next = null;
      if (rows.size() > q.limit()) {
        rows = rows.subList(0, q.limit());
        next = rows.get(rows.size() - 1).job().id();
      }
      return new Page<>(PgJobs.attach(c, rows), next);
    });
  }

  CompletionStage<List<dev.slotted.orchestrator.store.ReadyTags>> readyByTags() {
    return db.read("ready by tags", c -> {
      List<dev.slotted.orchestrator.store.ReadyTags> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(READY_BY_TAGS); ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new dev.slotted.orchestrator.store.ReadyTags(rs.getString(1),
              rs.getString(2) == null ? List.of() : dev.slotted.orchestrator.store.sqlite.Json.parseStrings(rs.getString(2)), rs.getLong(3)));
        }
      }
      return out;
    });
  }

  CompletionStage<List<QueueCounts>> queueCounts(Instant now) {
    return db.read("queue counts", c -> {
      Map<String, long[]> byQueue = new TreeMap<>();
      int ages = JobState.values().length;
      try (PreparedStatement ps = c.prepareStatement(STATS); ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          long[] counts = byQueue.computeIfAbsent(rs.getString(1), k -> new long[ages + 1]);
          counts[JobState.parse(rs.getString(2)).ordinal()] += rs.getLong(3);
        }
      }
      try (PreparedStatement ps = c.prepareStatement(OLDEST_READY); ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          long[] counts = byQueue.computeIfAbsent(rs.getString(1), k -> new long[ages + 1]);
          counts[ages] = Math.max(0, now.toEpochMilli() - rs.getLong(2));
        }
      }
      List<QueueCounts> out = new ArrayList<>();
      for (Map.Entry<String, long[]> e : byQueue.entrySet()) {
        long[] n = e.getValue();
        boolean any = false;
        for (int i = 0; i < ages; i++) {
          any |= n[i] != 0;
        }
        if (any) {
          out.add(new QueueCounts(e.getKey(), n[JobState.SCHEDULED.ordinal()], n[JobState.READY.ordinal()],
              n[JobState.RUNNING.ordinal()], n[JobState.SUCCEEDED.ordinal()], n[JobState.DEAD.ordinal()],
              n[JobState.CANCELLED.ordinal()], n[ages]));
        }
      }
      return out;
    });
  }

  CompletionStage<Set<Integer>> partitionsWithDueWork(Collection<Integer> partitions, Instant now) {
    if (partitions.isEmpty()) {
      return CompletableFuture.completedFuture(Set.of());
    }
    Integer[] parts = partitions.toArray(new Integer[0]);
    return db.read("due partitions", c -> {
      Set<Integer> out = new HashSet<>();
      try (PreparedStatement ps = c.prepareStatement(DUE)) {
        ps.setArray(1, c.createArrayOf("int4", parts));
        ps.setLong(2, now.toEpochMilli());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(rs.getInt(1));
          }
        }
      }
      return Set.copyOf(out);
    });
  }

  CompletionStage<Void> heartbeat(String runnerId, String statusJson, Duration ttl, Clock clock) {
    return db.write("heartbeat", clock, (c, now) -> {
      try (PreparedStatement ps = c.prepareStatement(HEARTBEAT)) {
        ps.setString(1, runnerId);
        ps.setLong(2, now.toEpochMilli());
        ps.setLong(3, now.toEpochMilli());
        ps.setLong(4, now.plus(ttl).toEpochMilli());
        ps.setString(5, statusJson);
        ps.executeUpdate();
      }
      measureClock(c);
      return null;
    });
  }

  /** Cristian's algorithm: the database's time against the midpoint of one round trip. */
  void measureClock(java.sql.Connection c) throws java.sql.SQLException {
    try (PreparedStatement ps = c.prepareStatement(DB_MILLIS)) {
      long before = host.millis();
      long t0 = System.nanoTime();
      long dbMillis;
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        dbMillis = rs.getLong(1);
      }
      long rttMicros = (System.nanoTime() - t0) / 1000;
      long mid = before + rttMicros / 2000;
      clockOffset = new dev.slotted.orchestrator.store.ClockOffset(dbMillis - mid, (rttMicros + 1999) / 2000,
          Instant.ofEpochMilli(mid));
    }
  }

  java.util.Optional<dev.slotted.orchestrator.store.ClockOffset> clockOffset() {
    return java.util.Optional.ofNullable(clockOffset);
  }

  CompletionStage<Void> deregister(String runnerId) {
    return db.write("deregister", c -> {
      try (PreparedStatement ps = c.prepareStatement(DEREGISTER)) {
        ps.setString(1, runnerId);
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement(RESIGN)) {
        ps.setString(1, runnerId);
        ps.executeUpdate();
      }
      return null;
    });
  }

  CompletionStage<List<RunnerRow>> runners(Instant now) {
    long t = now.toEpochMilli();
    return db.read("runners", c -> {
      List<RunnerRow> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(LIST_RUNNERS); ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          long expires = rs.getLong(4);
          out.add(new RunnerRow(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2)),
              Instant.ofEpochMilli(rs.getLong(3)), Instant.ofEpochMilli(expires), rs.getString(5), expires > t));
        }
      }
      return out;
    });
  }

  CompletionStage<Boolean> tryLead(String runnerId, Duration ttl, Clock clock) {
    return db.write("lead", clock, (c, now) -> {
      try (PreparedStatement ps = c.prepareStatement(LEAD)) {
        ps.setString(1, runnerId);
        ps.setLong(2, now.plus(ttl).toEpochMilli());
        ps.setLong(3, now.toEpochMilli());
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement(LEADER); ResultSet rs = ps.executeQuery()) {
        return rs.next() && runnerId.equals(rs.getString(1));
      }
    });
  }
}
