package dev.slotted.orchestrator.store.postgres;

import dev.slotted.protocol.JobState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;

/**
 * The changes one transaction makes to the per-queue, per-partition counts, written with it as one
 * upsert per row touched. Rows are written in one fixed order (queue, state, partition), so two
 * transactions touching the same counters wait for each other instead of deadlocking.
 */
final class PgStats {
  private static final String UPSERT = "INSERT INTO queue_stats (queue, state, part, n) VALUES (?, ?, ?, ?)"
      + " ON CONFLICT (queue, state, part) DO UPDATE SET n = queue_stats.n + excluded.n";

  private record Key(String queue, String state, int part) {}

  private final Map<Key, Long> deltas = new TreeMap<>(Comparator.comparing(Key::queue)
      .thenComparing(Key::state).thenComparingInt(Key::part));

  void add(String queue, int part, JobState state, long n) {
    deltas.merge(new Key(queue, state.wire(), part), n, Long::sum);
  }

  void move(String queue, int part, JobState from, JobState to) {
    if (from != to) {
      add(queue, part, from, -1);
      add(queue, part, to, 1);
    }
  }

  void flush(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
      boolean any = false;
      for (Map.Entry<Key, Long> e : deltas.entrySet()) {
        if (e.getValue() == 0) {
          continue;
        }
        ps.setString(1, e.getKey().queue());
        ps.setString(2, e.getKey().state());
        ps.setInt(3, e.getKey().part());
        ps.setLong(4, e.getValue());
        ps.addBatch();
        any = true;
      }
      if (any) {
        ps.executeBatch();
      }
    }
    deltas.clear();
  }
}
