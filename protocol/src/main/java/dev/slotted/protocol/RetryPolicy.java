package dev.slotted.protocol;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * How long a failed job waits before its next attempt (DESIGN §3). Pure: the store calls {@link
 * #delayAfter(int, RandomGenerator)} when it schedules a retry.
 */
public sealed interface RetryPolicy {

  /** The default policy: exponential from 1s, doubling, capped at 1h, full jitter. */
  RetryPolicy DEFAULT =
      new Exponential(Duration.ofSeconds(1), 2.0, Duration.ofHours(1), Jitter.FULL);

  /**
   * The delay before the next attempt, after {@code failedAttempts} attempts have failed (1 after
   * the first failure).
   */
  Duration delayAfter(int failedAttempts, RandomGenerator random);

  /** Jitter applied to the exponential delay. */
  enum Jitter {
    /** Uniform in [0, computed delay] ("full jitter"). */
    FULL,
    NONE
  }

  /** {@code min(max, initial * multiplier^(n-1))}, then jittered. */
  record Exponential(Duration initial, double multiplier, Duration max, Jitter jitter)
      implements RetryPolicy {
    public Exponential {
      Objects.requireNonNull(initial, "initial");
      Objects.requireNonNull(max, "max");
      Objects.requireNonNull(jitter, "jitter");
      if (initial.isNegative()) {
        throw new IllegalArgumentException("initial must not be negative: " + initial);
      }
      if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
        throw new IllegalArgumentException("multiplier must be a finite number >= 1.0: " + multiplier);
      }
      if (max.compareTo(initial) < 0) {
        throw new IllegalArgumentException("max (" + max + ") must be >= initial (" + initial + ")");
      }
    }

    /** The delay before jitter: the upper bound of the jittered delay. */
    public Duration ceiling(int failedAttempts) {
      double ms = initial.toMillis() * Math.pow(multiplier, Math.max(0, failedAttempts - 1));
      long capped = ms >= max.toMillis() ? max.toMillis() : (long) ms;
      return Duration.ofMillis(capped);
    }

    @Override
    public Duration delayAfter(int failedAttempts, RandomGenerator random) {
      long ceiling = ceiling(failedAttempts).toMillis();
      if (jitter == Jitter.NONE || ceiling == 0) {
        return Duration.ofMillis(ceiling);
      }
      return Duration.ofMillis(random.nextLong(ceiling + 1));
    }
  }

  /** The same delay before every retry. */
  record Fixed(Duration delay) implements RetryPolicy {
    public Fixed {
      Objects.requireNonNull(delay, "delay");
      if (delay.isNegative()) {
        throw new IllegalArgumentException("delay must not be negative: " + delay);
      }
    }

    @Override
    public Duration delayAfter(int failedAttempts, RandomGenerator random) {
      return delay;
    }
  }

  /** Retry at once. */
  record Immediate() implements RetryPolicy {
    @Override
    public Duration delayAfter(int failedAttempts, RandomGenerator random) {
      return Duration.ZERO;
    }
  }
}
