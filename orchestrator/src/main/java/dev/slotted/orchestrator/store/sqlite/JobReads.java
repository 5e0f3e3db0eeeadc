package dev.slotted.orchestrator.store.sqlite;

import dev.slotted.orchestrator.store.JobQuery;
import dev.slotted.orchestrator.store.Page;
import dev.slotted.orchestrator.store.QueueCounts;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.ValidationException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
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

/** The store's reads: each one snapshot on a reader connection, never the write lock. */
final class JobReads {
  private static final String READY_BY_TAGS =
      "SELECT queue, tags, count(*) FROM jobs WHERE state = 'ready' GROUP BY queue, tags";
  private static final String STATS = "SELECT queue, state, n FROM queue_stats";
  /** Scans ready rows only (the jobs_ready partial index); the ready set is the live backlog. */
  private static final String OLDEST_READY =
      "SELECT queue, min(visible_at) FROM jobs WHERE state = 'ready' GROUP BY queue";
  private static final String DUE = """
      SELECT p.value FROM json_each(?1) AS p
      WHERE EXISTS (SELECT 1 FROM jobs WHERE part = p.value AND state = 'ready')
         OR EXISTS (SELECT 1 FROM jobs WHERE part = p.value AND state = 'scheduled' AND visible_at <= ?2)""";

  private final SqliteDb db;

  JobReads(SqliteDb db) {
    this.db = db;
  }

  CompletionStage<Page<Job>> list(JobQuery q) {
    long before = Long.MAX_VALUE;
    if (q.cursor() != null) {
      Long c = SqliteJobStore.parseId(q.cursor());
      if (c == null) {
        return CompletableFuture.failedFuture(new ValidationException("cursor",
            "is not a cursor this server returned: '" + q.cursor() + "'"));
      }
      before = c;
    }
    // Newest first is rowid order. Only the dead-letter filter has an index of its own; for other
    // states the unary + keeps the planner on the rowid walk rather than a whole partial index + sort.
    StringBuilder sql = new StringBuilder("SELECT ").append(JobRows.COLUMNS).append(" FROM jobs WHERE id < ?1");
    if (q.queue() != null) {
      sql.append(" AND queue = ?2");
    }
    if (q.state() == JobState.DEAD) {
      sql.append(" AND state = 'dead'");
    } else if (q.state() != null) {
      sql.append(" AND +state = ?3");
    }
    if (q.idempotencyKey() != null) {
      // The key is unique per queue: the (queue, idempotency_key) index finds it, over the queues
      // that hold jobs when no queue is given.
      sql.append(q.queue() != null ? "" : " AND queue IN (SELECT queue FROM queue_stats)")
          .append(" AND idempotency_key = ?5");
    }
    sql.append(" ORDER BY id DESC LIMIT ?4");
    String text = sql.toString();
    long cursor = before;
    return db.read("list", c -> {
      PreparedStatement ps = c.prepare(text);
      ps.setLong(1, cursor);
      if (q.queue() != null) {
        ps.setString(2, q.queue());
      }
      if (q.state() != null && q.state() != JobState.DEAD) {
        ps.setString(3, q.state().wire());
      }
      ps.setInt(4, q.limit() + 1);
      if (q.idempotencyKey() != null) {
        ps.setString(5, q.idempotencyKey());
      }
      List<JobRows.Row> rows = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(JobRows.read(rs));
        }
      }
      String next = null;
      if (rows.size() > q.limit()) {
        rows = rows.subList(0, q.limit());
        next = rows.get(rows.size() - 1).job().id();
      }
      return new Page<>(JobRows.attach(c, rows), next);
    });
  }

  CompletionStage<List<dev.slotted.orchestrator.store.ReadyTags>> readyByTags() {
    return db.read("ready by tags", c -> {
      List<dev.slotted.orchestrator.store.ReadyTags> out = new ArrayList<>();
      try (ResultSet rs = c.prepare(READY_BY_TAGS).executeQuery()) {
        while (rs.next()) {
          out.add(new dev.slotted.orchestrator.store.ReadyTags(rs.getString(1),
              rs.getString(2) == null ? List.of() : Json.parseStrings(rs.getString(2)), rs.getLong(3)));
        }
      }
      return out;
    });
  }

  CompletionStage<List<QueueCounts>> queueCounts(Instant now) {
    return db.read("queue counts", c -> {
      Map<String, long[]> byQueue = new TreeMap<>();
      try (ResultSet rs = c.prepare(STATS).executeQuery()) {
        while (rs.next()) {
          long[] counts = byQueue.computeIfAbsent(rs.getString(1), k -> new long[JobState.values().length + 1]);
          counts[JobState.parse(rs.getString(2)).ordinal()] += rs.getLong(3);
        }
      }
      try (ResultSet rs = c.prepare(OLDEST_READY).executeQuery()) {
        while (rs.next()) {
          long[] counts = byQueue.computeIfAbsent(rs.getString(1), k -> new long[JobState.values().length + 1]);
          counts[JobState.values().length] = Math.max(0, now.toEpochMilli() - rs.getLong(2));
        }
      }
      List<QueueCounts> out = new ArrayList<>();
      for (Map.Entry<String, long[]> e : byQueue.entrySet()) {
        long[] n = e.getValue();
        boolean any = false;
        for (int i = 0; i < JobState.values().length; i++) {
          any |= n[i] != 0;
        }
        if (any) {
          out.add(new QueueCounts(e.getKey(), n[JobState.SCHEDULED.ordinal()], n[JobState.READY.ordinal()],
              n[JobState.RUNNING.ordinal()], n[JobState.SUCCEEDED.ordinal()], n[JobState.DEAD.ordinal()],
              n[JobState.CANCELLED.ordinal()], n[JobState.values().length]));
        }
      }
      return out;
    });
  }

  CompletionStage<Set<Integer>> partitionsWithDueWork(Collection<Integer> partitions, Instant now) {
    if (partitions.isEmpty()) {
      return CompletableFuture.completedFuture(Set.of());
    }
    StringBuilder json = new StringBuilder("[");
    for (Integer p : partitions) {
      json.append(json.length() > 1 ? "," : "").append(p.intValue());
    }
    String list = json.append(']').toString();
    return db.read("due partitions", c -> {
      PreparedStatement ps = c.prepare(DUE);
      ps.setString(1, list);
      ps.setLong(2, now.toEpochMilli());
      Set<Integer> out = new HashSet<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getInt(1));
        }
      }
      return Set.copyOf(out);
    });
  }

}
