package dev.slotted.protocol;

import java.util.Locale;

/** How one attempt ended (DESIGN §3). Serialized as its lower-case name. */
public enum AttemptOutcome {
  SUCCEEDED,
  FAILED,
  TIMED_OUT,
  /** The runner holding the lease stopped renewing it (it died); the job became visible again. */
  LEASE_EXPIRED,
  CANCELLED;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static AttemptOutcome parse(String s) {
    for (AttemptOutcome o : values()) {
      if (o.wire().equals(s)) {
        return o;
      }
    }
    throw new IllegalArgumentException("unknown attempt outcome '" + s + "'");
  }
}
