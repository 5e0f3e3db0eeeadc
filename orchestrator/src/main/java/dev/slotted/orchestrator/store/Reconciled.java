package dev.slotted.orchestrator.store;

import dev.slotted.protocol.ClaimedJob;
import java.util.List;

/** The result of {@link JobStore#round}: one result per completion, then the claimed jobs. */
public record Reconciled(List<CompletionResult> results, List<ClaimedJob> claimed) {
  public Reconciled {
    results = List.copyOf(results);
    claimed = List.copyOf(claimed);
  }
}
