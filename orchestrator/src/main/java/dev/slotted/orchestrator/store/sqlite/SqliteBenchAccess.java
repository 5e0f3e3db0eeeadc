package dev.slotted.orchestrator.store.sqlite;

import dev.slotted.orchestrator.store.BenchAccess;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** {@link BenchAccess} on a SQLite file, with connections of its own (outside the runners' TDMA). */
public final class SqliteBenchAccess implements BenchAccess {
  private static final String RELEASE = "UPDATE jobs SET visible_at = ?1, run_at = ?1 WHERE state = 'scheduled'";
  private static final String TIMES = """
      SELECT j.state, j.attempt_no, j.run_at, j.att_started_at, j.att_ended_at,
             (SELECT min(a.started_at) FROM attempts a WHERE a.job_id = j.id) AS first_started
      FROM jobs j WHERE j.queue IN (SELECT value FROM json_each(?)) ORDER BY j.run_at""";

  private final Path db;

  public SqliteBenchAccess(Path db) {
    this.db = db;
  }

  /** Retried on SQLITE_BUSY: it is not a runner's write. */
  @Override
  public void releaseHeld(Instant now) throws Exception {
    for (int attempt = 0; ; attempt++) {
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath());
           PreparedStatement ps = c.prepareStatement(RELEASE)) {
        ps.setLong(1, now.toEpochMilli());
        ps.executeUpdate();
        return;
      } catch (SQLException e) {
        if (attempt >= 50 || !String.valueOf(e.getMessage()).contains("SQLITE_BUSY")) {
          throw e;
        }
        Thread.sleep(20);
      }
    }
  }

  @Override
  public List<JobTimes> jobTimes(Set<String> queues) throws Exception {
    List<JobTimes> out = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath() + "?open_mode=1");
         PreparedStatement ps = c.prepareStatement(TIMES)) {
      ps.setString(1, Json.strings(queues));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(read(rs));
        }
      }
    }
    return out;
  }

  /** Reads a row of state, attempt_no, run_at, att_started_at, att_ended_at, first archived start. */
  public static JobTimes read(ResultSet rs) throws SQLException {
    long started = rs.getLong(4);
    Long startedAt = rs.wasNull() ? null : started;
    long ended = rs.getLong(5);
    Long endedAt = rs.wasNull() ? null : ended;
    long first = rs.getLong(6);
    Long firstArchived = rs.wasNull() ? null : first;
    return new JobTimes(rs.getString(1), rs.getInt(2), rs.getLong(3), startedAt, endedAt, firstArchived);
  }

  @Override
  public void close() {}
}
