package dev.slotted.orchestrator.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.slotted.orchestrator.config.QueueSettings;
import dev.slotted.orchestrator.config.Settings;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.protocol.Durations;
import dev.slotted.protocol.FieldError;
import dev.slotted.protocol.Instants;
import dev.slotted.protocol.NewJob;
import dev.slotted.protocol.RetryPolicy;
import dev.slotted.protocol.Text;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns submit request bodies into {@link NewJob}s, with the queue's defaults applied. Every problem
 * is collected as a {@link FieldError} (nothing stops at the first one); a request with any error
 * yields no job, so nothing is written.
 */
public final class JobRequests {

  static final Set<String> JOB_FIELDS = Set.of(
      "queue", "payload", "priority", "runAt", "delay", "maxAttempts", "idempotencyKey",
      "partitionKey", "tags", "timeout", "retry");
  static final Set<String> BATCH_FIELDS = Set.of("jobs");
  private static final Set<String> RETRY_FIELDS =
      Set.of("policy", "initial", "multiplier", "max", "jitter", "delay");
  private static final Map<String, Set<String>> RETRY_FIELDS_BY_POLICY = Map.of(
      "exponential", Set.of("policy", "initial", "multiplier", "max", "jitter"),
      "fixed", Set.of("policy", "delay"),
      "immediate", Set.of("policy"));

  private final Settings settings;

  public JobRequests(Settings settings) {
    this.settings = settings;
  }

  /** One job: the body of {@code POST /api/v1/jobs}. */
  public NewJob parseOne(JsonNode body, Instant now) {
    List<FieldError> errors = new ArrayList<>();
    NewJob job = parseJob(body, "", now, errors);
    throwIfAny(errors);
    return job;
  }

  /** {@code {"jobs": [...]}}: the body of {@code POST /api/v1/jobs/batch}, all or none. */
  public List<NewJob> parseBatch(JsonNode body, Instant now) {
    List<FieldError> errors = new ArrayList<>();
    if (!body.isObject()) {
      throw invalid(List.of(new FieldError("body", "expected a JSON object {\"jobs\": [...]}, got " + kind(body))));
    }
    unknownFields(body, BATCH_FIELDS, "", errors);
    JsonNode jobs = body.get("jobs");
    List<NewJob> out = new ArrayList<>();
    if (jobs == null || jobs.isNull()) {
      errors.add(new FieldError("jobs", "is required: an array of 1 to " + JobStore.MAX_BATCH + " jobs"));
    } else if (!jobs.isArray()) {
      errors.add(new FieldError("jobs", "must be an array, got " + kind(jobs)));
    } else if (jobs.isEmpty() || jobs.size() > JobStore.MAX_BATCH) {
      errors.add(new FieldError("jobs",
          "must hold 1 to " + JobStore.MAX_BATCH + " jobs, got " + jobs.size()));
    } else {
      for (int i = 0; i < jobs.size(); i++) {
        out.add(parseJob(jobs.get(i), "jobs[" + i + "].", now, errors));
      }
    }
    throwIfAny(errors);
    return out;
  }

  private NewJob parseJob(JsonNode n, String p, Instant now, List<FieldError> errors) {
    if (!n.isObject()) {
      errors.add(new FieldError(p.isEmpty() ? "body" : p.substring(0, p.length() - 1),
          "expected a JSON object (a job), got " + kind(n)));
      return null;
    }
    int before = errors.size();
    unknownFields(n, JOB_FIELDS, p, errors);

    String queue = null;
    QueueSettings qs = null;
    JsonNode q = n.get("queue");
    if (q == null || q.isNull()) {
      errors.add(new FieldError(p + "queue", "is required; known queues: " + knownQueues()));
    } else if (!q.isTextual()) {
      errors.add(new FieldError(p + "queue", "must be a string, got " + kind(q)));
    } else {
      queue = q.textValue();
      qs = settings.queue(queue);
      if (qs == null) {
        errors.add(new FieldError(p + "queue",
            "unknown queue '" + abbreviate(queue) + "'; known queues: " + knownQueues()));
      }
    }

    JsonNode payloadNode = n.get("payload");
    String payload = payloadNode == null ? "null" : Json.text(payloadNode);
    Integer priority = intField(n, p, "priority", errors);
    Integer maxAttempts = intField(n, p, "maxAttempts", errors);
    String key = textField(n, p, "idempotencyKey", errors);
    String partitionKey = textField(n, p, "partitionKey", errors);
    List<String> tags = tags(n, p, errors);
    Duration timeout = durationField(n, p, "timeout", errors);
    Instant runAt = runAt(n, p, now, errors);
    RetryPolicy retry = retry(n.get("retry"), p + "retry", errors);

    NewJob job = new NewJob(
        queue,
        payload,
        priority == null ? 0 : priority,
        runAt,
        maxAttempts != null ? maxAttempts : qs != null ? qs.maxAttempts() : NewJob.DEFAULT_MAX_ATTEMPTS,
        key,
        partitionKey,
        tags,
        timeout != null ? timeout : qs != null ? qs.timeout() : null,
        retry != null ? retry : qs != null ? qs.retry() : null,
        qs != null ? qs.delivery() : null);
    for (FieldError e : job.validate(settings.maxPayload(), p)) {
      // The type checks above already reported these fields; only add what they could not see.
      if (errors.stream().noneMatch(x -> x.field().equals(e.field()))) {
        errors.add(e);
      }
    }
    return errors.size() == before ? job : null;
  }

  private Instant runAt(JsonNode n, String p, Instant now, List<FieldError> errors) {
    JsonNode at = present(n.get("runAt"));
    JsonNode delay = present(n.get("delay"));
    if (at != null && delay != null) {
      errors.add(new FieldError(p + "delay", "give runAt or delay, not both"));
      return null;
    }
    if (at != null) {
      if (!at.isTextual()) {
        errors.add(new FieldError(p + "runAt", "must be an ISO-8601 instant string, got " + kind(at)));
        return null;
      }
      try {
        return Instants.parse(at.textValue());
      } catch (IllegalArgumentException e) {
        errors.add(new FieldError(p + "runAt", e.getMessage()));
        return null;
      }
    }
    Duration d = durationField(n, p, "delay", errors);
    if (d == null) {
      return null;
    }
    if (d.isNegative()) {
      errors.add(new FieldError(p + "delay", "must not be negative, got " + d));
      return null;
    }
    Instant when = now.plus(d).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    if (Instants.problem(when) != null) {
      errors.add(new FieldError(p + "delay", "puts runAt at " + when + ", which " + Instants.problem(when)));
      return null;
    }
    return when;
  }

  private RetryPolicy retry(JsonNode r, String field, List<FieldError> errors) {
    if (r == null || r.isNull()) {
      return null;
    }
    if (!r.isObject()) {
      errors.add(new FieldError(field, "must be an object like {\"policy\": \"fixed\", \"delay\": \"10s\"}, got " + kind(r)));
      return null;
    }
    int before = errors.size();
    unknownFields(r, RETRY_FIELDS, field + ".", errors);
    String policy = "exponential";
    JsonNode pn = r.get("policy");
    if (pn != null && !pn.isNull()) {
      if (!pn.isTextual() || !RETRY_FIELDS_BY_POLICY.containsKey(pn.textValue())) {
        errors.add(new FieldError(field + ".policy", "must be exponential, fixed or immediate, got "
            + (pn.isTextual() ? "'" + abbreviate(pn.textValue()) + "'" : kind(pn))));
        return null;
      }
      policy = pn.textValue();
    }
    Set<String> allowed = RETRY_FIELDS_BY_POLICY.get(policy);
    for (Iterator<String> it = r.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (RETRY_FIELDS.contains(name) && !allowed.contains(name)) {
        errors.add(new FieldError(field + "." + name, "is not used by the " + policy + " policy"));
      }
    }
    Duration initial = durationField(r, field + ".", "initial", errors);
    Duration max = durationField(r, field + ".", "max", errors);
    Duration delay = durationField(r, field + ".", "delay", errors);
    Double multiplier = null;
    JsonNode m = present(r.get("multiplier"));
    if (m != null) {
      if (!m.isNumber()) {
        errors.add(new FieldError(field + ".multiplier", "must be a number >= 1.0, got " + kind(m)));
      } else {
        multiplier = m.doubleValue();
      }
    }
    RetryPolicy.Jitter jitter = RetryPolicy.Jitter.FULL;
    JsonNode j = present(r.get("jitter"));
    if (j != null) {
      if (j.isTextual() && j.textValue().equals("full")) {
        jitter = RetryPolicy.Jitter.FULL;
      } else if (j.isTextual() && j.textValue().equals("none")) {
        jitter = RetryPolicy.Jitter.NONE;
      } else {
        errors.add(new FieldError(field + ".jitter", "must be full or none, got "
            + (j.isTextual() ? "'" + abbreviate(j.textValue()) + "'" : kind(j))));
      }
    }
    if (errors.size() > before) {
      return null;
    }
    try {
      return switch (policy) {
        case "fixed" -> {
          if (delay == null) {
            errors.add(new FieldError(field + ".delay", "is required by the fixed policy (e.g. \"10s\")"));
            yield null;
          }
          yield new RetryPolicy.Fixed(delay);
        }
        case "immediate" -> new RetryPolicy.Immediate();
        default -> new RetryPolicy.Exponential(
            initial == null ? Duration.ofSeconds(1) : initial,
            multiplier == null ? 2.0 : multiplier,
            max == null ? Duration.ofHours(1) : max,
            jitter);
      };
    } catch (IllegalArgumentException e) {
      errors.add(new FieldError(field, e.getMessage()));
      return null;
    }
  }

  private List<String> tags(JsonNode n, String p, List<FieldError> errors) {
    JsonNode t = present(n.get("tags"));
    if (t == null) {
      return List.of();
    }
    if (!t.isArray()) {
      errors.add(new FieldError(p + "tags", "must be an array of strings, got " + kind(t)));
      return List.of();
    }
    List<String> tags = new ArrayList<>();
    for (int i = 0; i < t.size(); i++) {
      JsonNode e = t.get(i);
      if (!e.isTextual()) {
        errors.add(new FieldError(p + "tags[" + i + "]", "must be a string, got " + kind(e)));
      } else {
        tags.add(e.textValue());
      }
    }
    return tags;
  }

  private static Integer intField(JsonNode n, String p, String name, List<FieldError> errors) {
    JsonNode v = present(n.get(name));
    if (v == null) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      String range = name.equals("priority") ? "-1000 and 1000" : "1 and 1000";
      errors.add(new FieldError(p + name, "must be an integer between " + range + ", got "
          + (v.isNumber() ? v.asText() : kind(v))));
      return null;
    }
    return v.intValue();
  }

  private static String textField(JsonNode n, String p, String name, List<FieldError> errors) {
    JsonNode v = present(n.get(name));
    if (v == null) {
      return null;
    }
    if (!v.isTextual()) {
      errors.add(new FieldError(p + name, "must be a string, got " + kind(v)));
      return null;
    }
    return v.textValue();
  }

  private static Duration durationField(JsonNode n, String p, String name, List<FieldError> errors) {
    JsonNode v = present(n.get(name));
    if (v == null) {
      return null;
    }
    if (!v.isTextual()) {
      errors.add(new FieldError(p + name, "must be a duration string (e.g. PT10S, 500ms, 10s, 5m, 1h), got " + kind(v)));
      return null;
    }
    try {
      return Durations.parse(v.textValue());
    } catch (IllegalArgumentException e) {
      errors.add(new FieldError(p + name, e.getMessage()));
      return null;
    }
  }

  private static void unknownFields(JsonNode n, Set<String> known, String p, List<FieldError> errors) {
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!known.contains(name)) {
        errors.add(new FieldError(p + abbreviate(name),
            "unknown field; expected one of " + String.join(", ", known.stream().sorted().toList())));
      }
    }
  }

  private String knownQueues() {
    return settings.queues().isEmpty() ? "(none configured)" : String.join(", ", settings.queues().keySet());
  }

  /** JSON null counts as absent for optional fields. */
  private static JsonNode present(JsonNode v) {
    return v == null || v.isNull() ? null : v;
  }

  static String kind(JsonNode v) {
    return switch (v.getNodeType()) {
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case ARRAY -> "an array";
      case OBJECT -> "an object";
      case NULL -> "null";
      default -> v.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    };
  }

  private static String abbreviate(String s) {
    s = Text.printable(s);
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  private static void throwIfAny(List<FieldError> errors) {
    if (!errors.isEmpty()) {
      throw invalid(errors);
    }
  }

  private static ProblemException invalid(List<FieldError> errors) {
    return new ProblemException(Problem.validation(errors));
  }
}
