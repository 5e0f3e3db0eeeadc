package dev.slotted.protocol;

import java.util.Locale;

/** The lifecycle state of a job (DESIGN §3). Serialized as its lower-case name. */
public enum JobState {
  /** Not visible before its run-at instant (delayed job, or waiting for a retry backoff). */
  SCHEDULED,
  /** Due and waiting to be claimed. */
  READY,
  /** Claimed by a runner; the lease hides it until the lease expires. */
  RUNNING,
  SUCCEEDED,
  /** Exhausted its attempts or failed with a non-retryable error: the dead-letter queue. */
  DEAD,
  CANCELLED;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public boolean isFinished() {
    return this == SUCCEEDED || this == DEAD || this == CANCELLED;
  }

  /** Parses the wire name; throws {@link IllegalArgumentException} naming the accepted values. */
  public static JobState parse(String s) {
    for (JobState st : values()) {
      if (st.wire().equals(s)) {
        return st;
      }
    }
    throw new IllegalArgumentException(
        "unknown state '" + s + "' (expected one of scheduled, ready, running, succeeded, dead, cancelled)");
  }
}
