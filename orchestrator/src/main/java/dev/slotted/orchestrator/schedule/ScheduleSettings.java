package dev.slotted.orchestrator.schedule;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The {@code slotted.schedules} settings, read once at start.
 *
 * @param journalPath the SQLite file of the schedules' event journal (unused with {@code journalPostgres})
 * @param maxCatchUp the most missed fire times a catch-up schedule fires after an outage
 * @param misfireThreshold a fire time later than this is missed; within it, it fires however late
 * @param maxPayloadBytes {@code slotted.limits.max-payload}, for the job template's payload
 * @param journalPostgres with {@code slotted.store.kind = postgres}: the journal lives in the job
 *     store's database and schema; null for the SQLite file
 */
public record ScheduleSettings(
    Path journalPath, int maxCatchUp, Duration misfireThreshold, int maxPayloadBytes,
    dev.slotted.orchestrator.store.postgres.PostgresStoreSettings journalPostgres) {

  /** A journal in a SQLite file. */
  public ScheduleSettings(Path journalPath, int maxCatchUp, Duration misfireThreshold, int maxPayloadBytes) {
    this(journalPath, maxCatchUp, misfireThreshold, maxPayloadBytes, null);
  }

  public ScheduleSettings {
    if (maxCatchUp < 1) {
      throw new IllegalArgumentException(
          "slotted.schedules.max-catch-up must be at least 1, got " + maxCatchUp);
    }
    if (misfireThreshold.isNegative()) {
      throw new IllegalArgumentException(
          "slotted.schedules.misfire-threshold must not be negative, got " + misfireThreshold);
    }
    if (maxPayloadBytes < 1) {
      throw new IllegalArgumentException(
          "slotted.limits.max-payload must be positive, got " + maxPayloadBytes);
    }
  }

  /** From the root configuration (the one holding {@code slotted}). */
  public static ScheduleSettings fromConfig(Config config) {
    Config s = config.getConfig("slotted.schedules");
    return new ScheduleSettings(
        ScheduleJournal.journalPath(config),
        s.getInt("max-catch-up"),
        s.getDuration("misfire-threshold"),
        config.getInt("slotted.limits.max-payload"),
        ScheduleJournal.postgres(config));
  }
}
