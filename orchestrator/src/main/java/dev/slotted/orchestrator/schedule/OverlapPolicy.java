package dev.slotted.orchestrator.schedule;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.slotted.protocol.JobState;
import java.util.Locale;
import java.util.Optional;

/** Whether a schedule fires while the job of its previous fire is still unfinished (DESIGN §6). */
public enum OverlapPolicy {
  /** Fire regardless (the default). */
  ALLOW,
  /** Skip a fire time while the previous fire's job is scheduled, ready or running. */
  SKIP;

  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Whether a fire must be skipped, given the state of the previous fire's job: empty when there
   * was no previous fire or its job is gone (purged), which never blocks.
   */
  public boolean skips(Optional<JobState> previousJob) {
    return this == SKIP && previousJob.map(s -> !s.isFinished()).orElse(false);
  }

  /** Parses the wire name; throws {@link IllegalArgumentException} naming the accepted values. */
  @JsonCreator
  public static OverlapPolicy parse(String s) {
    for (OverlapPolicy p : values()) {
      if (p.wire().equals(s)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown overlap policy '" + s + "' (expected one of allow, skip)");
  }
}
