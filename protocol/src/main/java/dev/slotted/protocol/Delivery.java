package dev.slotted.protocol;

/** Delivery semantics of a queue (DESIGN §3). */
public enum Delivery {
  /** Default: a job is retried until it succeeds or exhausts its attempts. */
  AT_LEAST_ONCE,
  /** The job is marked finished when it is claimed; it is never retried. */
  AT_MOST_ONCE;

  public static Delivery parse(String s) {
    return switch (s) {
      case "at-least-once" -> AT_LEAST_ONCE;
      case "at-most-once" -> AT_MOST_ONCE;
      default -> throw new IllegalArgumentException(
          "unknown delivery '" + s + "' (expected at-least-once or at-most-once)");
    };
  }
}
