package dev.slotted.orchestrator.store.sqlite;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The little JSON the store writes and reads itself: arrays of strings and numbers passed to
 * SQLite's {@code json_each} (so one prepared statement takes a list of any length) and the tags
 * column. Payloads are never parsed: they are stored as the text the caller validated.
 */
public final class Json {
  private Json() {}

  public static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (ch < 0x20) {
            b.append(String.format("\\u%04x", (int) ch));
          } else {
            b.append(ch);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  public static String strings(Collection<String> values) {
    StringBuilder b = new StringBuilder("[");
    for (String v : values) {
      if (b.length() > 1) {
        b.append(',');
      }
      b.append(quote(v));
    }
    return b.append(']').toString();
  }

  public static String longs(Collection<Long> values) {
    StringBuilder b = new StringBuilder("[");
    for (Long v : values) {
      if (b.length() > 1) {
        b.append(',');
      }
      b.append(v.longValue());
    }
    return b.append(']').toString();
  }

  /**
   * Parses an array of strings as {@link #strings} writes it (the tags column). Tags match a
   * pattern without quotes or backslashes, so no unescaping is needed; anything else is a bug.
   */
  public static List<String> parseStrings(String json) {
    if (json == null) {
      return List.of();
    }
    String body = json.trim();
    if (!body.startsWith("[") || !body.endsWith("]")) {
      throw new IllegalStateException("not a JSON array of strings: " + json);
    }
    body = body.substring(1, body.length() - 1).trim();
    List<String> out = new ArrayList<>();
    if (body.isEmpty()) {
      return out;
    }
    for (String part : body.split(",")) {
      String p = part.trim();
      if (p.length() < 2 || p.charAt(0) != '"' || p.charAt(p.length() - 1) != '"' || p.indexOf('\\') >= 0) {
        throw new IllegalStateException("unexpected element in JSON array of strings: " + json);
      }
      out.add(p.substring(1, p.length() - 1));
    }
    return out;
  }
}
