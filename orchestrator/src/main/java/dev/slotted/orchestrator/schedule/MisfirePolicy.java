package dev.slotted.orchestrator.schedule;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** What a schedule does with the fire times it missed while every runner was down (DESIGN §6). */
public enum MisfirePolicy {
  /** One fire for everything missed: the latest missed fire time (the default). */
  FIRE_ONCE,
  /** None of the missed fire times; only future ones. */
  SKIP,
  /** Each missed fire time, the latest {@code slotted.schedules.max-catch-up} of them. */
  CATCH_UP;

  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Parses the wire name; throws {@link IllegalArgumentException} naming the accepted values. */
  @JsonCreator
  public static MisfirePolicy parse(String s) {
    for (MisfirePolicy p : values()) {
      if (p.wire().equals(s)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown misfire policy '" + s + "' (expected one of fire-once, skip, catch-up)");
  }
}
