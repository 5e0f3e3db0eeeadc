package dev.slotted.orchestrator.store.postgres;

import dev.slotted.orchestrator.store.BenchAccess;
import dev.slotted.orchestrator.store.sqlite.SqliteBenchAccess;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;

/** {@link BenchAccess} on a PostgreSQL store's schema, with a connection of its own per call. */
public final class PostgresBenchAccess implements BenchAccess {
  private static final String RELEASE = "UPDATE jobs SET visible_at = ?, run_at = ? WHERE state = 'scheduled'";
  private static final String TIMES = """
      SELECT j.state, j.attempt_no, j.run_at, j.att_started_at, j.att_ended_at,
             (SELECT min(a.started_at) FROM attempts a WHERE a.job_id = j.id) AS first_started
      FROM jobs j WHERE j.queue = ANY(?) ORDER BY j.run_at""";

  private final PostgresStoreSettings settings;

  public PostgresBenchAccess(PostgresStoreSettings settings) {
    this.settings = settings;
  }

  private Connection connect() throws Exception {
    Properties p = new Properties();
    if (!settings.user().isEmpty()) {
      p.setProperty("user", settings.user());
    }
    if (!settings.password().isEmpty()) {
      p.setProperty("password", settings.password());
    }
    p.setProperty("currentSchema", settings.schema());
    return DriverManager.getConnection(settings.url(), p);
  }

  @Override
  public void releaseHeld(Instant now) throws Exception {
    try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(RELEASE)) {
      ps.setLong(1, now.toEpochMilli());
      ps.setLong(2, now.toEpochMilli());
      ps.executeUpdate();
    }
  }

  @Override
  public List<JobTimes> jobTimes(Set<String> queues) throws Exception {
    List<JobTimes> out = new ArrayList<>();
    try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(TIMES)) {
      ps.setArray(1, c.createArrayOf("text", queues.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(SqliteBenchAccess.read(rs));
        }
      }
    }
    return out;
  }

  /** Drops the benchmark's schema (a fresh one per run). */
  public void dropSchema() throws Exception {
    try (Connection c = connect(); Statement st = c.createStatement()) {
      st.execute("DROP SCHEMA IF EXISTS " + settings.schema() + " CASCADE");
    }
  }

  @Override
  public void close() {}
}
