package dev.slotted.orchestrator.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.slotted.orchestrator.config.Settings;
import dev.slotted.orchestrator.schedule.JobTemplate;
import dev.slotted.orchestrator.schedule.MisfirePolicy;
import dev.slotted.orchestrator.schedule.OverlapPolicy;
import dev.slotted.orchestrator.schedule.ScheduleSpec;
import dev.slotted.protocol.Durations;
import dev.slotted.protocol.FieldError;
import dev.slotted.protocol.Instants;
import dev.slotted.protocol.Text;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Turns schedule request bodies into {@link ScheduleSpec}s (DESIGN §6, §7). Every problem is
 * collected as a {@link FieldError} naming the field ({@code cron}, {@code timezone}, {@code
 * job.queue}, ...); a request with any error yields no spec, so nothing is written.
 */
final class ScheduleRequests {

  static final Set<String> FIELDS = Set.of(
      "name", "cron", "every", "anchor", "timezone", "job", "misfire", "overlap", "paused");
  static final Set<String> JOB_FIELDS = Set.of(
      "queue", "payload", "priority", "maxAttempts", "tags", "timeout");

  /**
   * A parsed body.
   *
   * @param pausedGiven whether the body set {@code paused} (a PUT without it keeps the current value)
   */
  record Parsed(ScheduleSpec spec, boolean pausedGiven) {}

  private final Settings settings;

  ScheduleRequests(Settings settings) {
    this.settings = settings;
  }

  /**
   * The body of {@code POST /api/v1/schedules} ({@code pathName} null: the body's name is required)
   * or {@code PUT /api/v1/schedules/{name}} (the body's name, when given, must be the path's).
   */
  Parsed parse(JsonNode body, String pathName) {
    List<FieldError> errors = new ArrayList<>();
    if (!body.isObject()) {
      throw invalid(List.of(new FieldError("body", "expected a JSON object (a schedule), got " + JobRequests.kind(body))));
    }
    unknownFields(body, FIELDS, "", errors);

    String name = text(body, "name", "", errors);
    if (pathName != null) {
      if (name != null && !name.equals(pathName)) {
        errors.add(new FieldError("name", "must be '" + abbreviate(pathName) + "' (the schedule addressed), got '"
            + abbreviate(name) + "'"));
      }
      name = pathName;
    } else if (name == null && present(body.get("name")) == null) {
      errors.add(new FieldError("name", "is required"));
    }
    String cron = text(body, "cron", "", errors);
    Duration every = duration(body, "every", "", errors);
    Instant anchor = instant(body, "anchor", errors);
    String timezone = text(body, "timezone", "", errors);
    MisfirePolicy misfire = policy(body, "misfire", MisfirePolicy::parse, errors);
    OverlapPolicy overlap = policy(body, "overlap", OverlapPolicy::parse, errors);
    Boolean paused = null;
    JsonNode p = present(body.get("paused"));
    if (p != null) {
      if (p.isBoolean()) {
        paused = p.booleanValue();
      } else {
        errors.add(new FieldError("paused", "must be true or false, got " + JobRequests.kind(p)));
      }
    }
    JobTemplate job = job(body.get("job"), errors);

    ScheduleSpec spec = new ScheduleSpec(name, cron, every, anchor, timezone, job, misfire, overlap,
        paused != null && paused);
    for (FieldError e : spec.validate(settings.maxPayload())) {
      // Fields whose type was wrong were reported above; only add what only the spec can see.
      if (errors.stream().noneMatch(x -> x.field().equals(e.field()))
          && !(job == null && e.field().equals("job") && present(body.get("job")) != null)) {
        errors.add(e);
      }
    }
    if (job != null && settings.queue(job.queue()) == null && errors.stream().noneMatch(e -> e.field().equals("job.queue"))) {
      errors.add(new FieldError("job.queue", "unknown queue '" + abbreviate(job.queue()) + "'; known queues: " + knownQueues()));
    }
    if (!errors.isEmpty()) {
      throw invalid(errors);
    }
    return new Parsed(spec, paused != null);
  }

  private JobTemplate job(JsonNode n, List<FieldError> errors) {
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isObject()) {
      errors.add(new FieldError("job", "must be an object like {\"queue\": \"reports\"}, got " + JobRequests.kind(n)));
      return null;
    }
    int before = errors.size();
    unknownFields(n, JOB_FIELDS, "job.", errors);
    String queue = text(n, "queue", "job.", errors);
    if (queue == null && present(n.get("queue")) == null) {
      errors.add(new FieldError("job.queue", "is required; known queues: " + knownQueues()));
    }
    JsonNode payload = n.get("payload");
    Integer priority = integer(n, "priority", "-1000 and 1000", errors);
    Integer maxAttempts = integer(n, "maxAttempts", "1 and 1000", errors);
    List<String> tags = tags(n, errors);
    Duration timeout = duration(n, "timeout", "job.", errors);
    if (errors.size() > before) {
      return null;
    }
    return new JobTemplate(queue, payload == null ? "null" : Json.text(payload), priority == null ? 0 : priority,
        maxAttempts, tags, timeout);
  }

  private static Integer integer(JsonNode n, String name, String range, List<FieldError> errors) {
    JsonNode v = present(n.get(name));
    if (v == null) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      errors.add(new FieldError("job." + name, "must be an integer between " + range + ", got "
          + (v.isNumber() ? v.asText() : JobRequests.kind(v))));
      return null;
    }
    return v.intValue();
  }

  private static List<String> tags(JsonNode n, List<FieldError> errors) {
    JsonNode t = present(n.get("tags"));
    if (t == null) {
      return List.of();
    }
    if (!t.isArray()) {
      errors.add(new FieldError("job.tags", "must be an array of strings, got " + JobRequests.kind(t)));
      return List.of();
    }
    List<String> tags = new ArrayList<>();
    for (int i = 0; i < t.size(); i++) {
      if (t.get(i).isTextual()) {
        tags.add(t.get(i).textValue());
      } else {
        errors.add(new FieldError("job.tags[" + i + "]", "must be a string, got " + JobRequests.kind(t.get(i))));
      }
    }
    return tags;
  }

  private static String text(JsonNode n, String name, String prefix, List<FieldError> errors) {
    JsonNode v = present(n.get(name));
    if (v == null) {
      return null;
    }
    if (!v.isTextual()) {
      errors.add(new FieldError(prefix + name, "must be a string, got " + JobRequests.kind(v)));
      return null;
    }
    return v.textValue();
  }

  private static Duration duration(JsonNode n, String name, String prefix, List<FieldError> errors) {
    JsonNode v = present(n.get(name));
    if (v == null) {
      return null;
    }
    if (!v.isTextual()) {
      errors.add(new FieldError(prefix + name, "must be a duration string (e.g. PT10S, 10s, 5m, 1h), got " + JobRequests.kind(v)));
      return null;
    }
    try {
      return Durations.parse(v.textValue());
    } catch (IllegalArgumentException e) {
      errors.add(new FieldError(prefix + name, e.getMessage()));
      return null;
    }
  }

  private static Instant instant(JsonNode n, String name, List<FieldError> errors) {
    JsonNode v = present(n.get(name));
    if (v == null) {
      return null;
    }
    String bad = "must be an ISO-8601 instant such as 2026-11-22T03:00:00Z, got ";
    if (!v.isTextual()) {
      errors.add(new FieldError(name, bad + JobRequests.kind(v)));
      return null;
    }
    return parseInstant(v.textValue(), name, errors);
  }

  /** An ISO-8601 instant ({@code Z} or an offset); null with an error when it is not one. */
  static Instant parseInstant(String text, String field, List<FieldError> errors) {
    try {
      return Instants.parse(text);
    } catch (IllegalArgumentException e) {
      errors.add(new FieldError(field, e.getMessage()));
      return null;
    }
  }

  private static <T> T policy(JsonNode n, String name, Function<String, T> parse, List<FieldError> errors) {
    JsonNode v = present(n.get(name));
    if (v == null) {
      return null;
    }
    if (!v.isTextual()) {
      errors.add(new FieldError(name, "must be a string, got " + JobRequests.kind(v)));
      return null;
    }
    try {
      return parse.apply(v.textValue());
    } catch (IllegalArgumentException e) {
      errors.add(new FieldError(name, e.getMessage()));
      return null;
    }
  }

  private static void unknownFields(JsonNode n, Set<String> known, String prefix, List<FieldError> errors) {
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!known.contains(field)) {
        errors.add(new FieldError(prefix + abbreviate(field),
            "unknown field; expected one of " + String.join(", ", known.stream().sorted().toList())));
      }
    }
  }

  private String knownQueues() {
    return settings.queues().isEmpty() ? "(none configured)" : String.join(", ", settings.queues().keySet());
  }

  private static JsonNode present(JsonNode v) {
    return v == null || v.isNull() ? null : v;
  }

  static String abbreviate(String s) {
    s = Text.printable(s);
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  private static ProblemException invalid(List<FieldError> errors) {
    return new ProblemException(Problem.validation(errors));
  }
}
