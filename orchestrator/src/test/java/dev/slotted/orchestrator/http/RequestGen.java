package dev.slotted.orchestrator.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Random;

/**
 * Seeded generator of request bodies for the API's write routes: mostly valid fields, and for each
 * field its wrong types, out-of-range and overflowing values, lone surrogates, NULs and huge strings.
 * Everything it makes is syntactically valid JSON; what the server makes of it is the oracle's job.
 */
public final class RequestGen {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  /** Odd strings every text field is tried with. */
  public static final List<String> NASTY = List.of("", " ", "\ud800", "\udc00x", "x\ud800y", "a\u0000b", "\u0000",
      "\ud83d\ude00", "?x", "\u202e\u0301", "\ufeff", "x".repeat(201), "\n\t\"'\\");

  public final Random rnd;
  private long unique;

  public RequestGen(long seed) {
    this.rnd = new Random(seed);
  }

  public boolean chance(double p) {
    return rnd.nextDouble() < p;
  }

  public <T> T pick(List<T> values) {
    return values.get(rnd.nextInt(values.size()));
  }

  public String uniqueKey() {
    return "k-" + (++unique) + "-" + rnd.nextInt(1000);
  }

  /** A value of a random JSON type (for "wrong type" cases). */
  JsonNode anyValue() {
    return switch (rnd.nextInt(8)) {
      case 0 -> F.nullNode();
      case 1 -> F.booleanNode(rnd.nextBoolean());
      case 2 -> F.numberNode(rnd.nextInt(2001) - 1000);
      case 3 -> F.numberNode(new BigDecimal("1e400"));
      case 4 -> F.numberNode(new BigInteger("123456789012345678901234567890"));
      case 5 -> F.textNode(pick(NASTY));
      case 6 -> F.arrayNode().add(1).add("x");
      default -> F.objectNode().put("a", 1);
    };
  }

  public String text() {
    if (chance(0.15)) {
      return pick(NASTY);
    }
    StringBuilder b = new StringBuilder();
    int n = rnd.nextInt(12);
    for (int i = 0; i < n; i++) {
      b.appendCodePoint(chance(0.8) ? 'a' + rnd.nextInt(26) : 0x20 + rnd.nextInt(0x3000));
    }
    return b.toString();
  }

  /** A payload: any JSON value, small or (rarely) over the 2 KiB limit, sometimes with a lone surrogate. */
  public JsonNode payload(int depth) {
    int kind = rnd.nextInt(depth > 2 ? 5 : 7);
    return switch (kind) {
      case 0 -> F.nullNode();
      case 1 -> F.booleanNode(rnd.nextBoolean());
      case 2 -> chance(0.5) ? F.numberNode(rnd.nextLong()) : F.numberNode(new BigDecimal(rnd.nextInt(100000) + ".50"));
      case 3 -> F.textNode(text());
      case 4 -> F.textNode(chance(0.05) ? "p".repeat(3000) : text());
      case 5 -> {
        ArrayNode a = F.arrayNode();
        for (int i = rnd.nextInt(4); i > 0; i--) {
          a.add(payload(depth + 1));
        }
        yield a;
      }
      default -> {
        ObjectNode o = F.objectNode();
        for (int i = rnd.nextInt(4); i > 0; i--) {
          String name = chance(0.1) ? pick(List.of("", "\u0000", "\ud83d\ude00", "a.b")) : "f" + rnd.nextInt(50);
          o.set(name, payload(depth + 1));
        }
        yield o;
      }
    };
  }

  public static final List<String> GOOD_DURATIONS = List.of("10s", "500ms", "5m", "1h", "2d", "PT1.5S", "PT0.001S", "PT10S");
  public static final List<String> BAD_DURATIONS = List.of("0s", "PT0.0001S", "PT9999999999999H", "PT2562047788015H",
      "31d", "-5s", "PT-1S", "abc", "", "999999999999d", "P1Y", "PT0.0000000001S", "1.5s", "\ud800s");
  public static final List<String> GOOD_INSTANTS = List.of("2026-12-01T00:00:00Z", "2030-01-01T00:00:00.123+02:00",
      "2000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "0000-01-01T00:00:00Z", "2026-11-22T03:00:00.5Z");
  public static final List<String> BAD_INSTANTS = List.of("+1000000000-01-01T00:00:00Z", "-1000000000-01-01T00:00:00Z",
      "+300000000-01-01T00:00:00Z", "-300000000-01-01T00:00:00Z", "+10000-01-01T00:00:00Z",
      "2026-01-01T00:00:00.0000001Z", "nope", "2026-13-01T00:00:00Z", "2026-01-01", "\ud800");

  /** One job object for POST /jobs or a batch item. */
  ObjectNode job() {
    ObjectNode j = F.objectNode();
    boolean bad = chance(0.5);
    // Each field: absent, valid, or (in a bad job) one of its bad values.
    if (!bad || chance(0.8)) {
      j.put("queue", pick(List.of("demo", "reports", "paging", "dlq")));
    } else {
      j.set("queue", chance(0.5) ? F.textNode(pick(List.of("nope", "UPPER", "x\ud800", "a".repeat(70), "a\u0000")))
          : anyValue());
    }
    if (chance(0.7)) {
      j.set("payload", payload(0));
    }
    field(j, "priority", bad, () -> F.numberNode(rnd.nextInt(2001) - 1000),
        () -> pick(List.of(F.numberNode(1001), F.numberNode(-1001), F.numberNode(1L << 40), F.numberNode(new BigDecimal("1.5")),
            F.textNode("5"), F.booleanNode(true))));
    field(j, "maxAttempts", bad, () -> F.numberNode(1 + rnd.nextInt(1000)),
        () -> pick(List.of(F.numberNode(0), F.numberNode(1001), F.numberNode(new BigDecimal("1e20")), F.textNode("x"))));
    field(j, "idempotencyKey", bad, () -> F.textNode(chance(0.1) ? "repeat-" + rnd.nextInt(3) : uniqueKey()),
        () -> chance(0.8) ? F.textNode(pick(NASTY)) : anyValue());
    field(j, "partitionKey", bad, () -> F.textNode("p" + rnd.nextInt(5)),
        () -> chance(0.8) ? F.textNode(pick(NASTY)) : anyValue());
    field(j, "tags", bad, () -> F.arrayNode().add(pick(List.of("gpu", "region-eu", "a:b"))),
        () -> pick(List.of(F.arrayNode().add("bad tag"), F.arrayNode().add(1), F.textNode("gpu"), manyTags(),
            F.arrayNode().add("\ud800"))));
    field(j, "timeout", bad, () -> F.textNode(pick(GOOD_DURATIONS)),
        () -> chance(0.8) ? F.textNode(pick(BAD_DURATIONS)) : anyValue());
    if (chance(0.4)) {
      boolean useDelay = chance(0.5);
      if (bad && chance(0.3)) {
        j.set(useDelay ? "delay" : "runAt", chance(0.8)
            ? F.textNode(useDelay ? pick(BAD_DURATIONS) : pick(BAD_INSTANTS)) : anyValue());
      } else {
        j.put(useDelay ? "delay" : "runAt", useDelay ? pick(GOOD_DURATIONS) : pick(GOOD_INSTANTS));
      }
      if (bad && chance(0.1)) {
        j.put("delay", "1h");
        j.put("runAt", "2026-12-01T00:00:00Z");
      }
    }
    field(j, "retry", bad, () -> pick(List.of(F.objectNode().put("policy", "fixed").put("delay", pick(GOOD_DURATIONS)),
            F.objectNode().put("policy", "exponential").put("initial", "1s").put("multiplier", 2).put("max", "1h"),
            F.objectNode().put("policy", "immediate"))),
        () -> pick(List.of(F.objectNode().put("policy", "x"), F.objectNode().put("policy", "fixed"),
            F.objectNode().put("multiplier", 0.5), F.textNode("fixed"),
            F.objectNode().put("policy", "fixed").put("delay", pick(BAD_DURATIONS)))));
    if (bad && chance(0.1)) {
      j.put(chance(0.5) ? "unknown" : "Queue", 1);
    }
    return j;
  }

  private ArrayNode manyTags() {
    ArrayNode a = F.arrayNode();
    for (int i = 0; i < 40; i++) {
      a.add("t" + i);
    }
    return a;
  }

  private void field(ObjectNode j, String name, boolean bad, java.util.function.Supplier<JsonNode> good,
      java.util.function.Supplier<JsonNode> wrong) {
    if (bad && chance(0.25)) {
      j.set(name, wrong.get());
    } else if (chance(0.4)) {
      j.set(name, good.get());
    }
  }

  /** {@code {"jobs": [...]}}: 1-5 jobs mixing good and bad, or a malformed batch. */
  JsonNode batch() {
    if (chance(0.05)) {
      return pick(List.of(F.objectNode(), F.objectNode().set("jobs", F.arrayNode()), F.objectNode().put("jobs", 1),
          F.arrayNode(), F.objectNode().set("jobs", F.arrayNode().add(1))));
    }
    ArrayNode jobs = F.arrayNode();
    for (int i = 1 + rnd.nextInt(5); i > 0; i--) {
      jobs.add(job());
    }
    return F.objectNode().set("jobs", jobs);
  }

  public static final List<String> GOOD_CRONS = List.of("0 3 * * *", "*/5 * * * *", "0 0 1 * 1", "0 0 */1 * 1", "@daily",
      "0 0 0 * * *", "0 12 * * 1-5");
  public static final List<String> BAD_CRONS = List.of("", "* * *", "61 * * * *", "0 0 30 2 *", "@never", "\ud800 * * * *",
      "0 0 * * * * *", "a b c d e");
  public static final List<String> GOOD_ZONES = List.of("UTC", "Europe/Berlin", "Etc/GMT+5", "America/New_York");
  public static final List<String> BAD_ZONES = List.of("", "   ", "GMT+5", "+05:00", "Mars/Base", "\ud800", "utc");

  /** A schedule body ({@code name} null: PUT, where the path names it). */
  ObjectNode schedule(String name) {
    ObjectNode s = F.objectNode();
    boolean bad = chance(0.5);
    if (name != null) {
      s.put("name", name);
    }
    if (bad && chance(0.2)) {
      s.set(chance(0.5) ? "cron" : "every", chance(0.7) ? F.textNode(pick(chance(0.5) ? BAD_CRONS : BAD_DURATIONS)) : anyValue());
    } else if (chance(0.6)) {
      s.put("cron", pick(GOOD_CRONS));
    } else {
      s.put("every", pick(List.of("1s", "10s", "5m", "1h", "PT1.5S")));
      if (chance(0.3)) {
        s.put("anchor", pick(GOOD_INSTANTS));
      }
    }
    if (bad && chance(0.2)) {
      s.set("timezone", chance(0.8) ? F.textNode(pick(BAD_ZONES)) : anyValue());
    } else if (chance(0.4)) {
      s.put("timezone", pick(GOOD_ZONES));
    }
    if (bad && chance(0.1)) {
      s.put("anchor", pick(BAD_INSTANTS));
    }
    ObjectNode job = F.objectNode();
    if (!bad || chance(0.8)) {
      job.put("queue", pick(List.of("demo", "reports")));
    } else {
      job.set("queue", anyValue());
    }
    if (chance(0.6)) {
      job.set("payload", payload(0));
    }
    if (chance(0.3)) {
      job.put("priority", bad && chance(0.3) ? 5000 : rnd.nextInt(2001) - 1000);
    }
    if (chance(0.3)) {
      job.put("timeout", bad && chance(0.5) ? pick(BAD_DURATIONS) : pick(GOOD_DURATIONS));
    }
    if (chance(0.2)) {
      job.set("tags", bad && chance(0.5) ? F.arrayNode().add("bad tag") : F.arrayNode().add("gpu"));
    }
    if (!(bad && chance(0.1))) {
      s.set("job", job);
    }
    if (chance(0.2)) {
      s.put("misfire", bad && chance(0.3) ? "sometimes" : pick(List.of("fire-once", "skip", "catch-up")));
    }
    if (chance(0.2)) {
      s.put("overlap", bad && chance(0.3) ? "never" : pick(List.of("allow", "skip")));
    }
    if (chance(0.2)) {
      s.set("paused", bad && chance(0.3) ? F.textNode("yes") : F.booleanNode(rnd.nextBoolean()));
    }
    return s;
  }
}
