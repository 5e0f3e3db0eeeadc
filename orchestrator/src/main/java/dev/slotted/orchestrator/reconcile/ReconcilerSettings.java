package dev.slotted.orchestrator.reconcile;

import dev.slotted.orchestrator.config.QueueSettings;
import dev.slotted.orchestrator.config.Settings;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * What a Reconciler needs from the settings.
 *
 * @param lease the visibility timeout written at claim (the longest of the served queues)
 * @param stealAfter a non-owned partition's job is stolen only once it has been due this long
 * @param reapEvery how often a runner looks for expired leases in each partition
 */
public record ReconcilerSettings(
    String runnerId,
    Set<String> queues,
    Set<String> workerTags,
    int maxClaimBatch,
    Duration lease,
    Duration stealAfter,
    Duration reapEvery) {

  public ReconcilerSettings {
    queues = Set.copyOf(queues);
    workerTags = Set.copyOf(workerTags);
  }

  public static ReconcilerSettings from(Settings s, String runnerId) {
    Map<String, QueueSettings> queues = s.queues();
    Duration lease = queues.values().stream()
        .map(QueueSettings::visibilityTimeout)
        .max(Duration::compareTo)
        .orElse(Duration.ofSeconds(30));
    // Empty set means "every queue" in a claim; a runner serves exactly its configured queues.
    return new ReconcilerSettings(runnerId, queues.keySet(), Set.copyOf(s.workerTags()),
        s.tdma().maxClaimBatch(), lease,
        s.tdma().cycle().multipliedBy(2),
        // An expired lease waits at most this long for a reaper (redelivery: the visibility
        // timeout, then this, then the next window); each look is one indexed probe.
        min(lease.dividedBy(8), Duration.ofSeconds(5)));
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
