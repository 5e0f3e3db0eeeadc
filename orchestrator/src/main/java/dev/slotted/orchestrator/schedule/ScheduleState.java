package dev.slotted.orchestrator.schedule;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A schedule entity's state, rebuilt from its events; also the reply to queries.
 *
 * @param spec {@code null} when there is no schedule (never created, or deleted)
 * @param cursor fire times at or before this instant are done: fired, skipped, or before the
 *     schedule's creation, last resume or last change of timing. The next plan starts after it.
 * @param lastFire the latest scheduled (not manual) fire recorded
 * @param recentFires the last {@value #RECENT_FIRES} fires, triggers and skips, oldest first
 */
public record ScheduleState(
    ScheduleSpec spec,
    Instant createdAt,
    Instant updatedAt,
    Instant cursor,
    Instant lastFire,
    List<FireRecord> recentFires)
    implements ScheduleJournalSerializable {

  public static final int RECENT_FIRES = 20;

  public static final ScheduleState EMPTY = new ScheduleState(null, null, null, null, null, List.of());

  public ScheduleState {
    recentFires = recentFires == null ? List.of() : List.copyOf(recentFires);
  }

  /** One line of a schedule's recent history. */
  public record FireRecord(Instant fireInstant, Kind kind, String jobId, String reason, Instant at)
      implements ScheduleJournalSerializable {
    public enum Kind {
      /** A fire time fired by the schedule. */
      FIRED,
      /** A manual trigger (API {@code .../trigger}). */
      TRIGGERED,
      /** A fire time not fired (overlap, or missed under the skip policy). */
      SKIPPED
    }
  }

  @JsonIgnore
  public boolean exists() {
    return spec != null;
  }

  @JsonIgnore
  public boolean paused() {
    return spec != null && spec.paused();
  }

  /** The job of the latest fire or trigger, for the overlap policy. */
  @JsonIgnore
  public Optional<String> previousJobId() {
    for (int i = recentFires.size() - 1; i >= 0; i--) {
      if (recentFires.get(i).kind() != FireRecord.Kind.SKIPPED) {
        return Optional.ofNullable(recentFires.get(i).jobId());
      }
    }
    return Optional.empty();
  }

  ScheduleState created(ScheduleSpec s, Instant at) {
    return new ScheduleState(s, at, at, at, null, List.of());
  }

  ScheduleState updated(ScheduleSpec s, Instant at) {
    // New timing: the new fire times start now, old ones are not caught up.
    Instant c = spec.sameTiming(s) ? cursor : max(cursor, at);
    return new ScheduleState(s, createdAt, at, c, lastFire, recentFires);
  }

  ScheduleState paused(Instant at) {
    return new ScheduleState(spec.withPaused(true), createdAt, at, cursor, lastFire, recentFires);
  }

  ScheduleState resumed(Instant at) {
    // Fire times that passed while paused are not fired.
    return new ScheduleState(spec.withPaused(false), createdAt, at, max(cursor, at), lastFire, recentFires);
  }

  ScheduleState fired(Instant fire, String jobId, boolean manual, Instant at) {
    FireRecord r = new FireRecord(fire, manual ? FireRecord.Kind.TRIGGERED : FireRecord.Kind.FIRED, jobId, null, at);
    if (manual) {
      return new ScheduleState(spec, createdAt, updatedAt, cursor, lastFire, append(r));
    }
    return new ScheduleState(spec, createdAt, updatedAt, max(cursor, fire), max(lastFire, fire), append(r));
  }

  ScheduleState skipped(Instant fire, String reason, Instant at) {
    FireRecord r = new FireRecord(fire, FireRecord.Kind.SKIPPED, null, reason, at);
    return new ScheduleState(spec, createdAt, updatedAt, max(cursor, fire), lastFire, append(r));
  }

  private List<FireRecord> append(FireRecord r) {
    List<FireRecord> out = new ArrayList<>(recentFires);
    out.add(r);
    return out.size() > RECENT_FIRES ? out.subList(out.size() - RECENT_FIRES, out.size()) : out;
  }

  private static Instant max(Instant a, Instant b) {
    if (a == null) {
      return b;
    }
    return b == null || a.isAfter(b) ? a : b;
  }
}
