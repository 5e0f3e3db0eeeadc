package dev.slotted.orchestrator.store.sqlite;

import dev.slotted.orchestrator.store.RunnerRow;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** Runner lease rows (dynamic membership) and the single leader lease. */
final class RunnerRows {
  private static final String HEARTBEAT = """
      INSERT INTO runners (id, started_at, heartbeat_at, expires_at, status_json) VALUES (?1, ?2, ?2, ?3, ?4)
      ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at,
        expires_at = excluded.expires_at, status_json = excluded.status_json,
        started_at = CASE WHEN runners.expires_at <= excluded.heartbeat_at THEN excluded.started_at
          ELSE runners.started_at END""";
  private static final String DEREGISTER = "DELETE FROM runners WHERE id = ?";
  private static final String RESIGN = "DELETE FROM leader WHERE runner_id = ?";
  private static final String LIST =
      "SELECT id, started_at, heartbeat_at, expires_at, status_json FROM runners ORDER BY id";
  /** Takes the lease when free or expired, or extends it when already ours; otherwise changes nothing. */
  private static final String LEAD = """
      INSERT INTO leader (id, runner_id, expires_at) VALUES (1, ?1, ?2)
      ON CONFLICT (id) DO UPDATE SET runner_id = excluded.runner_id, expires_at = excluded.expires_at
      WHERE leader.runner_id = excluded.runner_id OR leader.expires_at <= ?3""";
  private static final String LEADER = "SELECT runner_id FROM leader WHERE id = 1";

  private final SqliteDb db;

  RunnerRows(SqliteDb db) {
    this.db = db;
  }

  CompletionStage<Void> heartbeat(String runnerId, String statusJson, Duration ttl, Clock clock) {
    return db.write("heartbeat", clock, (c, now) -> {
      PreparedStatement ps = c.prepare(HEARTBEAT);
      ps.setString(1, runnerId);
      ps.setLong(2, now.toEpochMilli());
      ps.setLong(3, now.plus(ttl).toEpochMilli());
      ps.setString(4, statusJson);
      ps.executeUpdate();
      return null;
    });
  }

  CompletionStage<Void> deregister(String runnerId) {
    return db.write("deregister", c -> {
      PreparedStatement ps = c.prepare(DEREGISTER);
      ps.setString(1, runnerId);
      ps.executeUpdate();
      PreparedStatement resign = c.prepare(RESIGN);
      resign.setString(1, runnerId);
      resign.executeUpdate();
      return null;
    });
  }

  CompletionStage<List<RunnerRow>> list(Instant now) {
    long t = now.toEpochMilli();
    return db.read("runners", c -> {
      List<RunnerRow> out = new ArrayList<>();
      try (ResultSet rs = c.prepare(LIST).executeQuery()) {
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
      PreparedStatement ps = c.prepare(LEAD);
      ps.setString(1, runnerId);
      ps.setLong(2, now.plus(ttl).toEpochMilli());
      ps.setLong(3, now.toEpochMilli());
      ps.executeUpdate();
      try (ResultSet rs = c.prepare(LEADER).executeQuery()) {
        return rs.next() && runnerId.equals(rs.getString(1));
      }
    });
  }
}
