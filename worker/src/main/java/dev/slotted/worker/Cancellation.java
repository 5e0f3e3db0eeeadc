package dev.slotted.worker;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The signal that an attempt must stop. A handler polls {@link #isCancelled()}, waits with {@link
 * #await(Duration)} (an interruptible sleep), registers a callback with {@link #onCancel(Runnable)},
 * or combines {@link #future()} with its own futures. It fires at most once.
 */
public final class Cancellation {

  /** Why an attempt was told to stop. */
  public enum Reason {
    /** The attempt ran past its timeout; it is reported as timed_out. */
    TIMEOUT,
    /** The job was cancelled or its lease moved on; nothing is reported. */
    STOPPED,
    /** The runner is shutting down and the grace ran out; the lease is released. */
    SHUTDOWN,
    /** The worker actor running the attempt crashed. */
    WORKER_CRASHED
  }

  private final CompletableFuture<Reason> signal = new CompletableFuture<>();

  /** Fires the signal; returns false when it had already fired. Called by the worker. */
  public boolean cancel(Reason reason) {
    return signal.complete(reason);
  }

  public boolean isCancelled() {
    return signal.isDone();
  }

  public Optional<Reason> reason() {
    return Optional.ofNullable(signal.getNow(null));
  }

  /**
   * Runs {@code action} when the signal fires, on the thread that fires it (or at once if it has
   * fired already). Keep it short and non-blocking.
   */
  public void onCancel(Runnable action) {
    signal.thenRun(action);
  }

  /**
   * Waits up to {@code timeout} for the signal: an interruptible sleep. Returns true when the
   * attempt was cancelled.
   */
  public boolean await(Duration timeout) throws InterruptedException {
    try {
      signal.get(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      throw new IllegalStateException("the cancellation signal never fails", e);
    }
  }

  /** A future completed with the reason when the signal fires (a copy: completing it does nothing). */
  public CompletableFuture<Reason> future() {
    return signal.copy();
  }
}
