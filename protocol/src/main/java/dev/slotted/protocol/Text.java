package dev.slotted.protocol;

/**
 * Which strings the system accepts from outside. Java strings are UTF-16 and may hold a lone
 * surrogate (JSON's {@code "\ud800"} decodes to one); such a string has no UTF-8 form, so SQLite
 * would store it as {@code ?} and the reply that echoes it could not be written. It is refused
 * before anything is written, as is NUL in the strings that become identifiers or environment
 * variables (idempotency and partition keys): a process environment cannot carry NUL.
 */
public final class Text {
  private Text() {}

  /** The index of the first lone surrogate in {@code s}, or -1 when it is well-formed UTF-16. */
  public static int illFormedAt(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
          continue;
        }
        return i;
      }
      if (Character.isLowSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }

  /** The reason {@code s} is refused as a value, or null when it is acceptable. */
  public static String problem(String s, boolean allowNul) {
    int bad = illFormedAt(s);
    if (bad >= 0) {
      return "holds a lone UTF-16 surrogate (\\u" + String.format("%04x", (int) s.charAt(bad))
          + ") at index " + bad + "; text must be well-formed Unicode";
    }
    if (!allowNul && s.indexOf('\0') >= 0) {
      return "must not contain NUL (\\u0000) characters";
    }
    return null;
  }

  /** {@code s} with every lone surrogate replaced by U+FFFD, safe to echo in a reply or a log. */
  public static String printable(String s) {
    if (illFormedAt(s) < 0) {
      return s;
    }
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        b.append(c).append(s.charAt(++i));
      } else {
        b.append(Character.isSurrogate(c) ? '\ufffd' : c);
      }
    }
    return b.toString();
  }
}
