package dev.slotted.worker.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Terminates a process together with every process it started: SIGTERM to the whole tree, then
 * SIGKILL to whatever is left after a grace period.
 *
 * <p>The tree is taken from {@link ProcessHandle#descendants()} <em>before</em> the first signal,
 * because once the root dies its children are re-parented and no longer show up as its descendants.
 * A process that detached itself before that (a double-forking daemon) is out of reach.
 */
public final class ProcessTree {
  private static final Duration POLL = Duration.ofMillis(20);
  private static final Duration AFTER_KILL = Duration.ofSeconds(5);

  private ProcessTree() {}

  /** Terminates one tree; see {@link #terminateAll}. */
  public static boolean terminate(ProcessHandle root, Duration grace) throws InterruptedException {
    return terminateAll(List.of(root), grace);
  }

  /**
   * SIGTERM to every root and its descendants, a wait of up to {@code grace} for all of them to
   * end, then SIGKILL to the survivors and to any descendant started meanwhile. Blocks until they
   * are gone or a few seconds after the SIGKILL. Returns true when no process of the trees is left.
   */
  public static boolean terminateAll(List<ProcessHandle> roots, Duration grace)
      throws InterruptedException {
    Map<Long, ProcessHandle> tree = new LinkedHashMap<>();
    for (ProcessHandle root : roots) {
      snapshot(root, tree);
    }
    tree.values().forEach(ProcessHandle::destroy);
    if (awaitGone(tree.values(), grace)) {
      return true;
    }
    for (ProcessHandle root : roots) {
      if (isRunning(root)) {
        snapshot(root, tree);
      }
    }
    tree.values().forEach(ProcessHandle::destroyForcibly);
    return awaitGone(tree.values(), AFTER_KILL);
  }

  /**
   * Whether the process still runs. Unlike {@link ProcessHandle#isAlive()} this counts a zombie
   * (exited, not yet reaped by its parent) as gone: in a container whose init does not reap,
   * killed grandchildren stay zombies for good.
   */
  public static boolean isRunning(ProcessHandle ph) {
    if (!ph.isAlive()) {
      return false;
    }
    Path stat = Path.of("/proc", Long.toString(ph.pid()), "stat");
    try {
      String s = Files.readString(stat);
      int close = s.lastIndexOf(')');
      if (close < 0 || close + 2 >= s.length()) {
        return true;
      }
      char state = s.charAt(close + 2);
      return state != 'Z' && state != 'X';
    } catch (IOException | UnsupportedOperationException e) {
      // No procfs (not Linux) or the process just vanished: trust isAlive.
      return ph.isAlive();
    }
  }

  /** Whether a process with this pid runs and started at exactly this instant (not a reused pid). */
  public static boolean isRunning(long pid, java.time.Instant startedAt) {
    return ProcessHandle.of(pid)
        .filter(ph -> startedAt != null && startedAt.equals(ph.info().startInstant().orElse(null)))
        .map(ProcessTree::isRunning)
        .orElse(false);
  }

  private static void snapshot(ProcessHandle root, Map<Long, ProcessHandle> into) {
    List<ProcessHandle> found = new ArrayList<>();
    root.descendants().forEach(found::add);
    // Children first, so a shell that forwards signals cannot restart them in between.
    for (ProcessHandle ph : found) {
      into.putIfAbsent(ph.pid(), ph);
    }
    into.putIfAbsent(root.pid(), root);
  }

  private static boolean awaitGone(Iterable<ProcessHandle> procs, Duration max)
      throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    while (true) {
      boolean any = false;
      for (ProcessHandle ph : procs) {
        if (isRunning(ph)) {
          any = true;
          break;
        }
      }
      if (!any) {
        return true;
      }
      if (System.nanoTime() - deadline >= 0) {
        return false;
      }
      Thread.sleep(POLL.toMillis());
    }
  }
}
