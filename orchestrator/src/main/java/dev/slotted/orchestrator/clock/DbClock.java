package dev.slotted.orchestrator.clock;

import dev.slotted.orchestrator.store.ClockOffset;
import dev.slotted.orchestrator.store.JobStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database's time as this runner sees it: the host clock plus the latest measured offset of the
 * database's clock ({@link JobStore#clockOffset()}, taken Cristian-style at open and at each
 * heartbeat). The runtime reads time only from this clock when the store is a server, so that
 * runners on hosts with skewed clocks agree on the TDMA windows and write leases and attempt times
 * in one time base.
 *
 * <p>The applied offset changes only when a new measurement arrives, and then:
 *
 * <ul>
 *   <li>within {@code step} of the applied offset: by half the difference (the measurements'
 *       jitter is smoothed; the clock never jumps by more than {@code step/2});
 *   <li>farther: at once to the measurement (the host clock was stepped, or this is the first
 *       measurement): keeping the old offset would put this runner's windows on another's;
 *   <li>a measurement less certain than {@code step} (a round trip longer than twice the step, a
 *       pause in the middle) is not used once an offset is applied.
 * </ul>
 *
 * Thread-safe: the runtime's actors, the store's threads and the HTTP API read it at once.
 */
public final class DbClock extends Clock {
  private static final Logger LOG = LoggerFactory.getLogger(DbClock.class);

  private final Clock host;
  private final Supplier<Optional<ClockOffset>> offsets;
  private final long stepMs;
  private volatile long appliedMs;
  private volatile boolean applied;
  private volatile Instant seen;

  /**
   * @param host the host's clock (injectable: a test skews it)
   * @param offsets the latest measurement, read at each use (a volatile read)
   * @param step the largest difference smoothed rather than stepped; the TDMA guard
   */
  public DbClock(Clock host, Supplier<Optional<ClockOffset>> offsets, Duration step) {
    this.host = Objects.requireNonNull(host, "host");
    this.offsets = Objects.requireNonNull(offsets, "offsets");
    if (step.isNegative()) {
      throw new IllegalArgumentException("step must be >= 0: " + step);
    }
    this.stepMs = step.toMillis();
    follow();
  }

  /**
   * The runtime's clock for this store: aligned to the database's clock when the store measures
   * one (PostgreSQL, measured once at open), else the host clock itself (SQLite: one machine).
   */
  public static Clock forStore(Clock host, JobStore store, Duration step) {
    return store.clockOffset().isPresent() ? new DbClock(host, store::clockOffset, step) : host;
  }

  /** The offset this clock adds to the host clock now, in ms. */
  public long offsetMs() {
    follow();
    return appliedMs;
  }

  private void follow() {
    Optional<ClockOffset> latest = offsets.get();
    if (latest.isEmpty() || latest.get().measuredAt().equals(seen)) {
      return;
    }
    synchronized (this) {
      ClockOffset m = latest.get();
      if (m.measuredAt().equals(seen)) {
        return;
      }
      seen = m.measuredAt();
      long delta = m.offsetMs() - appliedMs;
      if (!applied) {
        appliedMs = m.offsetMs();
        applied = true;
        LOG.info("Runtime clock aligned to the database's: offset [{}] ms (+/- [{}] ms)", m.offsetMs(),
            m.uncertaintyMs());
      } else if (m.uncertaintyMs() > stepMs) {
        LOG.debug("Clock offset measurement [{}] ms not used: uncertainty [{}] ms", m.offsetMs(), m.uncertaintyMs());
      } else if (Math.abs(delta) > stepMs) {
        appliedMs = m.offsetMs();
        LOG.warn("The database's clock moved [{}] ms against this host's; runtime clock offset now [{}] ms",
            delta, m.offsetMs());
      } else {
        appliedMs += delta / 2;
      }
    }
  }

  @Override
  public long millis() {
    follow();
    return host.millis() + appliedMs;
  }

  @Override
  public Instant instant() {
    follow();
    return host.instant().plusMillis(appliedMs);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("the runtime's clock is UTC only");
  }
}
