package dev.slotted.orchestrator.store;

import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * What the burn-down benchmark needs of a store beyond {@link JobStore}: making every held job due
 * in one statement, and reading every job's times in one query (paging 100k jobs through the API
 * would take longer than the drain). The store owns the SQL; the benchmark touches no JDBC.
 */
public interface BenchAccess extends AutoCloseable {

  /** Makes every scheduled job due at {@code now}, in one statement. */
  void releaseHeld(Instant now) throws Exception;

  /** Every job of these queues, by run_at. */
  List<JobTimes> jobTimes(Set<String> queues) throws Exception;

  /**
   * One job's figures: its state, its attempt number, when it was due, when its latest attempt
   * started and ended (null if none), and the start of its first archived attempt (null if none).
   */
  record JobTimes(String state, int attemptNo, long runAt, Long startedAt, Long endedAt, Long firstArchivedStart) {}

  @Override
  void close();
}
