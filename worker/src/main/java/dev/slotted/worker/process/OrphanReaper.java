package dev.slotted.worker.process;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kills the processes a previous life of this runner started and left behind (it was SIGKILLed,
 * or the host lost power in the middle of a job). Run once at start, before any worker starts.
 *
 * <p>An entry is killed (whole tree) only when its pid still runs with the recorded start instant
 * and the runner that recorded it is gone; entries of a live runner sharing the directory are left
 * alone. Every other entry is stale and is deleted.
 */
public final class OrphanReaper {
  private static final Logger LOG = LoggerFactory.getLogger(OrphanReaper.class);

  /** What one reap did. */
  public record Result(int killed, int stale, int keptForLiveRunner) {}

  private OrphanReaper() {}

  public static Result reap(PidRegistry registry, Duration killGrace) throws InterruptedException {
    List<ProcessHandle> orphans = new ArrayList<>();
    List<PidRegistry.Entry> done = new ArrayList<>();
    int stale = 0;
    int kept = 0;
    for (PidRegistry.Entry e : registry.entries()) {
      if (registry.ownedByMe(e) || ProcessTree.isRunning(e.ownerPid(), e.ownerStart())) {
        kept++;
        continue;
      }
      Optional<ProcessHandle> ph = ProcessHandle.of(e.pid());
      if (e.start() != null
          && ph.isPresent()
          && e.start().equals(ph.get().info().startInstant().orElse(null))
          && ProcessTree.isRunning(ph.get())) {
        LOG.warn("Killing orphaned process [{}] started at [{}]: {}", e.pid(), e.start(), e.command());
        orphans.add(ph.get());
      } else {
        stale++;
      }
      done.add(e);
    }
    if (!orphans.isEmpty() && !ProcessTree.terminateAll(orphans, killGrace)) {
      LOG.error("Some orphaned processes survived SIGKILL: {}", orphans);
    }
    done.forEach(registry::delete);
    if (!orphans.isEmpty() || stale > 0) {
      LOG.info(
          "Orphan reaper: killed [{}] process trees, dropped [{}] stale entries in [{}]",
          orphans.size(),
          stale,
          registry.dir());
    }
    return new Result(orphans.size(), stale, kept);
  }
}
