package dev.slotted.orchestrator.store;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in submission order, on threads of an underlying executor. The store
 * sends every write through one of these, so the single writer connection is never used by two
 * threads at once, while reads run concurrently on the same underlying pool.
 */
public final class SerialExecutor implements Executor {
  private static final Logger LOG = LoggerFactory.getLogger(SerialExecutor.class);
  /** Tasks run before the lane gives its thread back, so one lane cannot hog a shared pool. */
  private static final int BURST = 64;

  private final Executor delegate;
  private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
  private boolean scheduled;

  public SerialExecutor(Executor delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  @Override
  public void execute(Runnable task) {
    Objects.requireNonNull(task, "task");
    synchronized (tasks) {
      tasks.add(task);
      if (scheduled) {
        return;
      }
      scheduled = true;
    }
    schedule();
  }

  private void schedule() {
    try {
      delegate.execute(this::drain);
    } catch (RuntimeException e) {
      // The pool refused (shut down): fail loudly rather than leave callers waiting forever.
      synchronized (tasks) {
        scheduled = false;
      }
      throw e;
    }
  }

  private void drain() {
    for (int i = 0; i < BURST; i++) {
      Runnable next;
      synchronized (tasks) {
        next = tasks.poll();
        if (next == null) {
          scheduled = false;
          return;
        }
      }
      try {
        next.run();
      } catch (RuntimeException | Error e) {
        LOG.error("Task on the store's serial lane failed", e);
      }
    }
    schedule();
  }
}
