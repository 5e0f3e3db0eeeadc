package dev.slotted.orchestrator.runtime;

import dev.slotted.orchestrator.store.ReadyTags;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Which ready jobs no live worker can take: a job is routable if some live WorkerSupervisor (the
 * runner's own, or a reachable worker node's) serves its queue and offers all its tags. The others
 * wait, counted, and run once a capable node joins.
 */
public final class Unroutable {
  private Unroutable() {}

  /** What one live supervisor can take. */
  public record Capability(Set<String> tags, Set<String> queues) {
    public Capability {
      tags = Set.copyOf(tags);
      queues = Set.copyOf(queues);
    }
  }

  /** Per queue (only those with any), the ready jobs none of {@code live} can take. */
  public static Map<String, Long> count(List<ReadyTags> ready, List<Capability> live) {
    Map<String, Long> out = new TreeMap<>();
    for (ReadyTags r : ready) {
      boolean routable = live.stream().anyMatch(c -> c.queues().contains(r.queue()) && c.tags().containsAll(r.tags()));
      if (!routable) {
        out.merge(r.queue(), r.count(), Long::sum);
      }
    }
    return out;
  }
}
