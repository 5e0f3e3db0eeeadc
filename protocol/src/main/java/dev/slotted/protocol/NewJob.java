package dev.slotted.protocol;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A job to submit, with every default already resolved (queue defaults applied by the caller).
 *
 * @param payload the payload as JSON text (any JSON value)
 * @param runAt not visible before this instant; {@code null} means now
 * @param timeout maximum run time of one attempt; {@code null} means the queue's
 */
public record NewJob(
    String queue,
    String payload,
    int priority,
    Instant runAt,
    int maxAttempts,
    String idempotencyKey,
    String partitionKey,
    List<String> tags,
    Duration timeout,
    RetryPolicy retry,
    Delivery delivery) {

  public static final Pattern QUEUE_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  public static final Pattern TAG = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,63}");
  public static final int MIN_PRIORITY = -1000;
  public static final int MAX_PRIORITY = 1000;
  public static final int MAX_ATTEMPTS = 1000;
  public static final int MAX_KEY_LENGTH = 200;
  public static final int MAX_TAGS = 32;
  public static final int DEFAULT_MAX_ATTEMPTS = 5;
  /**
   * The longest timeout of one attempt. A worker arms a timer for it, and Pekko's scheduler refuses
   * delays over about 248 days; 30 days is far beyond any real attempt and well inside that.
   */
  public static final Duration MAX_TIMEOUT = Duration.ofDays(30);

  public NewJob {
    tags = tags == null ? List.of() : List.copyOf(tags);
    retry = retry == null ? RetryPolicy.DEFAULT : retry;
    delivery = delivery == null ? Delivery.AT_LEAST_ONCE : delivery;
    payload = payload == null ? "null" : payload;
  }

  /** A job on {@code queue} with this payload and every other field at its default. */
  public static NewJob of(String queue, String payload) {
    return new NewJob(
        queue, payload, 0, null, DEFAULT_MAX_ATTEMPTS, null, null, List.of(), null, null, null);
  }

  public NewJob withPriority(int p) {
    return new NewJob(queue, payload, p, runAt, maxAttempts, idempotencyKey, partitionKey, tags, timeout, retry, delivery);
  }

  public NewJob withRunAt(Instant at) {
    return new NewJob(queue, payload, priority, at, maxAttempts, idempotencyKey, partitionKey, tags, timeout, retry, delivery);
  }

  public NewJob withMaxAttempts(int n) {
    return new NewJob(queue, payload, priority, runAt, n, idempotencyKey, partitionKey, tags, timeout, retry, delivery);
  }

  public NewJob withIdempotencyKey(String key) {
    return new NewJob(queue, payload, priority, runAt, maxAttempts, key, partitionKey, tags, timeout, retry, delivery);
  }

  public NewJob withPartitionKey(String key) {
    return new NewJob(queue, payload, priority, runAt, maxAttempts, idempotencyKey, key, tags, timeout, retry, delivery);
  }

  public NewJob withRetry(RetryPolicy r) {
    return new NewJob(queue, payload, priority, runAt, maxAttempts, idempotencyKey, partitionKey, tags, timeout, r, delivery);
  }

  public NewJob withTimeout(Duration t) {
    return new NewJob(queue, payload, priority, runAt, maxAttempts, idempotencyKey, partitionKey, tags, t, retry, delivery);
  }

  public NewJob withDelivery(Delivery d) {
    return new NewJob(queue, payload, priority, runAt, maxAttempts, idempotencyKey, partitionKey, tags, timeout, retry, d);
  }

  public NewJob withTags(List<String> t) {
    return new NewJob(queue, payload, priority, runAt, maxAttempts, idempotencyKey, partitionKey, t, timeout, retry, delivery);
  }

  /**
   * Every rule of DESIGN §3 that does not need the configuration of queues. {@code fieldPrefix} is
   * prepended to field names (e.g. {@code "jobs[3]."} in a batch).
   */
  public List<FieldError> validate(int maxPayloadBytes, String fieldPrefix) {
    List<FieldError> errors = new ArrayList<>();
    if (queue == null || !QUEUE_NAME.matcher(queue).matches()) {
      errors.add(new FieldError(fieldPrefix + "queue",
          "must match [a-z0-9][a-z0-9._-]{0,63}, got " + (queue == null ? "nothing" : "'" + abbreviate(queue) + "'")));
    }
    if (priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
      errors.add(new FieldError(fieldPrefix + "priority",
          "must be between -1000 and 1000, got " + priority));
    }
    if (maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS) {
      errors.add(new FieldError(fieldPrefix + "maxAttempts",
          "must be between 1 and 1000, got " + maxAttempts));
    }
    String payloadText = Text.problem(payload, true);
    int payloadBytes = payload.getBytes(StandardCharsets.UTF_8).length;
    if (payloadText != null) {
      errors.add(new FieldError(fieldPrefix + "payload", payloadText));
    } else if (payloadBytes > maxPayloadBytes) {
      errors.add(new FieldError(fieldPrefix + "payload",
          "is " + payloadBytes + " bytes, over the limit of " + maxPayloadBytes + " bytes"));
    }
    checkKey(errors, fieldPrefix + "idempotencyKey", idempotencyKey);
    checkKey(errors, fieldPrefix + "partitionKey", partitionKey);
    if (tags.size() > MAX_TAGS) {
      errors.add(new FieldError(fieldPrefix + "tags", "at most " + MAX_TAGS + " tags, got " + tags.size()));
    }
    for (int i = 0; i < tags.size(); i++) {
      String t = tags.get(i);
      if (t == null || !TAG.matcher(t).matches()) {
        errors.add(new FieldError(fieldPrefix + "tags[" + i + "]",
            "must match [A-Za-z0-9][A-Za-z0-9._:-]{0,63}, got " + (t == null ? "null" : "'" + abbreviate(t) + "'")));
      }
    }
    if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
      errors.add(new FieldError(fieldPrefix + "timeout", "must be positive, got " + timeout));
    } else if (timeout != null && timeout.getNano() % 1_000_000 != 0) {
      errors.add(new FieldError(fieldPrefix + "timeout",
          "must be a whole number of milliseconds (at least 1ms), got " + timeout));
    } else if (timeout != null && timeout.compareTo(MAX_TIMEOUT) > 0) {
      errors.add(new FieldError(fieldPrefix + "timeout",
          "must be at most " + MAX_TIMEOUT.toDays() + " days (" + MAX_TIMEOUT + "), got " + timeout));
    }
    if (runAt != null && Instants.problem(runAt) != null) {
      errors.add(new FieldError(fieldPrefix + "runAt", Instants.problem(runAt) + ", got " + runAt));
    }
    return errors;
  }

  /** Throws {@link ValidationException} when {@link #validate} finds anything. */
  public NewJob validated(int maxPayloadBytes) {
    List<FieldError> errors = validate(maxPayloadBytes, "");
    if (!errors.isEmpty()) {
      throw new ValidationException(errors);
    }
    return this;
  }

  private static void checkKey(List<FieldError> errors, String field, String key) {
    if (key == null) {
      return;
    }
    String text = Text.problem(key, false);
    if (text != null) {
      errors.add(new FieldError(field, text));
    } else if (key.isEmpty()) {
      errors.add(new FieldError(field, "must not be empty"));
    } else if (key.length() > MAX_KEY_LENGTH) {
      errors.add(new FieldError(field, "at most 200 characters, got " + key.length()));
    }
  }

  private static String abbreviate(String s) {
    s = Text.printable(s);
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  @Override
  public String toString() {
    return "NewJob[queue=" + queue + ", priority=" + priority + ", key=" + idempotencyKey + "]";
  }

}
