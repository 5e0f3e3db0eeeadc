package dev.slotted.orchestrator.store;

/**
 * When this process may write. The store's writer asks it right before it starts each write
 * transaction, so a write queued late in a TDMA window waits for the next window instead of
 * spilling into another runner's slot (G5). Reads are never gated.
 */
@FunctionalInterface
public interface WriteWindow {

  /** Always open: one runner, continuous mode, tools and tests. */
  WriteWindow ALWAYS = () -> {};

  /** Blocks the calling (writer) thread until a write may start now. */
  void awaitOpen() throws InterruptedException;
}
