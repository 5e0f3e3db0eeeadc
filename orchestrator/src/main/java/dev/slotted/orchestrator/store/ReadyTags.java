package dev.slotted.orchestrator.store;

import java.util.List;

/** How many ready jobs of a queue carry exactly these tags (to count the unroutable ones). */
public record ReadyTags(String queue, List<String> tags, long count) {
  public ReadyTags {
    tags = List.copyOf(tags);
  }
}
