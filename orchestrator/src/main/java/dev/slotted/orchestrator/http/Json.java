package dev.slotted.orchestrator.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import dev.slotted.orchestrator.store.QueueCounts;
import dev.slotted.protocol.Attempt;
import dev.slotted.protocol.FieldError;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.Text;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.List;
import java.util.function.Function;

/** The API's JSON shapes (DESIGN §3, §7), written by hand so the wire format is explicit. */
public final class Json {
  /**
   * Strict reader: duplicate keys and trailing content are errors; floats stay BigDecimal, trailing
   * zeros included, so a payload keeps its digits when re-serialized.
   */
  public static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false)
      .build();

  private Json() {}

  public static byte[] bytes(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String text(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The first string of a request body (a value or a field name, at any depth) that is not
   * well-formed UTF-16, as an error naming its path ({@code payload.from}, {@code jobs[1].idempotencyKey});
   * null when every string is well-formed. See {@link Text}: such a string could neither be stored
   * faithfully nor echoed in a reply.
   */
  static FieldError illFormedText(JsonNode node) {
    return illFormedText(node, "");
  }

  private static FieldError illFormedText(JsonNode node, String path) {
    if (node.isTextual()) {
      String problem = Text.problem(node.textValue(), true);
      return problem == null ? null : new FieldError(path.isEmpty() ? "body" : path, problem);
    }
    if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        FieldError e = illFormedText(node.get(i), path + "[" + i + "]");
        if (e != null) {
          return e;
        }
      }
    } else if (node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> f = it.next();
        String field = (path.isEmpty() ? "" : path + ".") + Text.printable(f.getKey());
        String problem = Text.problem(f.getKey(), true);
        if (problem != null) {
          return new FieldError(field, "field name " + problem);
        }
        FieldError e = illFormedText(f.getValue(), field);
        if (e != null) {
          return e;
        }
      }
    }
    return null;
  }

  /** A job with its attempts; the payload is embedded as the JSON it was submitted as. */
  public static ObjectNode job(Job j) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("id", j.id());
    n.put("queue", j.queue());
    n.put("state", j.state().wire());
    n.putRawValue("payload", new RawValue(j.payload() == null ? "null" : j.payload()));
    n.put("priority", j.priority());
    n.put("maxAttempts", j.maxAttempts());
    n.put("attemptCount", j.attemptCount());
    n.put("idempotencyKey", j.idempotencyKey());
    n.put("partitionKey", j.partitionKey());
    n.put("partition", j.partition());
    ArrayNode tags = n.putArray("tags");
    j.tags().forEach(tags::add);
    n.put("timeout", duration(j.timeout()));
    n.put("runAt", instant(j.runAt()));
    n.put("createdAt", instant(j.createdAt()));
    n.put("finishedAt", instant(j.finishedAt()));
    ArrayNode attempts = n.putArray("attempts");
    for (Attempt a : j.attempts()) {
      ObjectNode an = attempts.addObject();
      an.put("number", a.number());
      an.put("runner", a.runner());
      an.put("worker", a.worker());
      an.put("startedAt", instant(a.startedAt()));
      an.put("endedAt", instant(a.endedAt()));
      an.put("outcome", a.outcome() == null ? null : a.outcome().wire());
      an.put("error", a.error());
      if (a.exitCode() == null) {
        an.putNull("exitCode");
      } else {
        an.put("exitCode", a.exitCode().intValue());
      }
      an.put("logTail", a.logTail());
    }
    return n;
  }

  /** {@code {"items": [...], "nextCursor": "..."}}, the cursor left out on the last page. */
  public static <T> ObjectNode list(List<T> items, String nextCursor, Function<T, JsonNode> item) {
    ObjectNode n = MAPPER.createObjectNode();
    ArrayNode arr = n.putArray("items");
    items.forEach(i -> arr.add(item.apply(i)));
    if (nextCursor != null) {
      n.put("nextCursor", nextCursor);
    }
    return n;
  }

  public static ObjectNode queue(QueueCounts q) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("queue", q.queue());
    n.put("scheduled", q.scheduled());
    n.put("ready", q.ready());
    n.put("running", q.running());
    n.put("succeeded", q.succeeded());
    n.put("dead", q.dead());
    n.put("cancelled", q.cancelled());
    n.put("oldestReadyAgeMs", q.oldestReadyAgeMs());
    return n;
  }

  public static ObjectNode workerNode(dev.slotted.orchestrator.runtime.WorkerSet.NodeView w) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("node", w.node());
    n.put("address", w.address());
    w.tags().stream().sorted().forEach(n.putArray("tags")::add);
    w.queues().stream().sorted().forEach(n.putArray("queues")::add);
    n.put("capacity", w.capacity());
    n.put("running", w.running());
    n.put("buffered", w.buffered());
    n.put("accepting", w.accepting());
    n.put("reachable", w.reachable());
    return n;
  }

  public static ObjectNode runner(RunnerView r) {
    ObjectNode n = MAPPER.createObjectNode();
    n.put("id", r.id());
    n.put("index", r.index());
    n.put("count", r.count());
    n.put("alive", r.alive());
    n.put("cycle", duration(r.cycle()));
    n.put("windowStart", duration(r.windowStart()));
    n.put("windowEnd", duration(r.windowEnd()));
    ArrayNode parts = n.putArray("partitions");
    r.partitions().forEach(parts::add);
    n.put("lastSlotWorkMs", r.lastSlotWorkMs());
    n.put("overruns", r.overruns());
    n.put("buffered", r.buffered());
    n.put("running", r.running());
    if (r.clockOffsetMs() != null) {
      n.put("clockOffsetMs", r.clockOffsetMs());
      n.put("clockUncertaintyMs", r.clockUncertaintyMs());
    }
    return n;
  }

  static String instant(Instant i) {
    return i == null ? null : i.toString();
  }

  static String duration(Duration d) {
    return d == null ? null : d.toString();
  }
}
