package dev.slotted.orchestrator.schedule;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * Which fire times a schedule fires now (DESIGN §6, G4). Pure.
 *
 * <p>Fire times after the schedule's cursor (its last fire, or its creation, resume or timing
 * change) and up to now are due. A due fire time more than the misfire threshold old is
 * <em>missed</em>: it passed while no runner could fire it, and the misfire policy decides what
 * happens to it. A due fire time within the threshold is <em>on time</em> and always fires, whatever
 * the policy: a runner taking over a dead runner's partitions some seconds late must still produce
 * exactly one job per fire time. So the threshold must exceed the longest takeover (runner TTL plus
 * a cycle); {@code slotted.schedules.misfire-threshold} defaults to 60s.
 */
public final class Misfire {

  /** The most on-time fire times one plan returns; later ones come in the next plan. */
  public static final int MAX_ON_TIME = 1000;

  private Misfire() {}

  /**
   * What to fire now.
   *
   * @param fires the fire times to fire now, oldest first (missed ones first, then on-time ones)
   * @param latestMissed the latest missed fire time, whether or not the policy fires it (for logs
   *     and for recording the skip); empty when nothing was missed
   */
  public record Plan(List<Instant> fires, Optional<Instant> latestMissed) {
    public Plan {
      fires = List.copyOf(fires);
    }

    public boolean isEmpty() {
      return fires.isEmpty();
    }
  }

  /**
   * The plan for a schedule whose fire times after {@code cursor} have not fired yet.
   *
   * @param cursor fire times at or before this instant are done (fired, skipped or superseded)
   * @param threshold fire times older than {@code now - threshold} are missed
   * @param maxCatchUp the most missed fire times {@link MisfirePolicy#CATCH_UP} fires (the latest)
   */
  public static Plan plan(
      FireTimes times, MisfirePolicy policy, Instant cursor, Instant now, Duration threshold, int maxCatchUp) {
    if (threshold.isNegative()) {
      throw new IllegalArgumentException("threshold must not be negative: " + threshold);
    }
    if (maxCatchUp < 1) {
      throw new IllegalArgumentException("maxCatchUp must be at least 1: " + maxCatchUp);
    }
    Instant cut = now.minus(threshold);

    List<Instant> missed = new ArrayList<>();
    Optional<Instant> latestMissed = Optional.empty();
    if (cut.isAfter(cursor)) {
      int keep = switch (policy) {
        case SKIP -> 0;
        case FIRE_ONCE -> 1;
        case CATCH_UP -> maxCatchUp;
      };
      Optional<Instant> t = times.latestBefore(cut);
      latestMissed = t.filter(i -> i.isAfter(cursor));
      while (t.isPresent() && t.get().isAfter(cursor) && missed.size() < keep) {
        missed.add(t.get());
        t = times.latestBefore(t.get());
      }
      Collections.reverse(missed);
    }

    List<Instant> fires = new ArrayList<>(missed);
    Instant from = cut.isAfter(cursor) ? cut.minusNanos(1) : cursor;
    int onTime = 0;
    Optional<Instant> t = times.nextAfter(from);
    while (t.isPresent() && !t.get().isAfter(now) && onTime < MAX_ON_TIME) {
      fires.add(t.get());
      onTime++;
      t = times.nextAfter(t.get());
    }
    return new Plan(fires, latestMissed);
  }
}
