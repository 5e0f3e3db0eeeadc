package dev.slotted.orchestrator.store.sqlite;

import dev.slotted.protocol.JobState;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

/**
 * The changes one transaction makes to the per-queue counts, written with it as one small upsert
 * per (queue, state) touched: usually two rows, however many jobs moved.
 */
final class StatsDelta {
  private static final String UPSERT = "INSERT INTO queue_stats (queue, state, n) VALUES (?, ?, ?)"
      + " ON CONFLICT (queue, state) DO UPDATE SET n = n + excluded.n";

  private record Key(String queue, JobState state) {}

  private final Map<Key, Long> deltas = new HashMap<>();

  void add(String queue, JobState state, long n) {
    deltas.merge(new Key(queue, state), n, Long::sum);
  }

  void move(String queue, JobState from, JobState to) {
    if (from != to) {
      add(queue, from, -1);
      add(queue, to, 1);
    }
  }

  void flush(Conn c) throws SQLException {
    boolean any = false;
    PreparedStatement ps = null;
    for (Map.Entry<Key, Long> e : deltas.entrySet()) {
      if (e.getValue() == 0) {
        continue;
      }
      if (ps == null) {
        ps = c.prepare(UPSERT);
      }
      ps.setString(1, e.getKey().queue());
      ps.setString(2, e.getKey().state().wire());
      ps.setLong(3, e.getValue());
      ps.addBatch();
      any = true;
    }
    if (any) {
      ps.executeBatch();
    }
    deltas.clear();
  }
}
