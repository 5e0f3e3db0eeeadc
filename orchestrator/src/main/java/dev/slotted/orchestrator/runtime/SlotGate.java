package dev.slotted.orchestrator.runtime;

import dev.slotted.orchestrator.store.WriteWindow;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * The runner's write window as the store's writer sees it: open from a window's opening until
 * {@code margin} before its close. The RunnerGuardian opens and closes it from the SlotClock's
 * events; a write that reaches the writer outside it waits for the next window. {@link #release()}
 * opens it for good (shutdown), so nothing waits on a clock that has stopped.
 */
public final class SlotGate implements WriteWindow {
  private final Clock clock;
  private final Duration margin;
  private Instant closesAt = Instant.MIN;
  private boolean released;

  public SlotGate(Clock clock, Duration margin) {
    this.clock = clock;
    this.margin = margin;
  }

  public synchronized void opened(Instant closes) {
    closesAt = closes;
    notifyAll();
  }

  public synchronized void closed() {
    closesAt = Instant.MIN;
  }

  public synchronized void release() {
    released = true;
    notifyAll();
  }

  @Override
  public synchronized void awaitOpen() throws InterruptedException {
    while (!released && !clock.instant().plus(margin).isBefore(closesAt)) {
      wait(100);
    }
  }
}
