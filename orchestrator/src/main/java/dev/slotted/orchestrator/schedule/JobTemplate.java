package dev.slotted.orchestrator.schedule;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.slotted.protocol.FieldError;
import dev.slotted.protocol.NewJob;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The job a schedule submits at each fire (DESIGN §6).
 *
 * @param payload JSON text of any JSON value
 * @param maxAttempts {@code null}: the queue's default
 * @param timeout {@code null}: the queue's default
 */
public record JobTemplate(
    String queue,
    String payload,
    int priority,
    Integer maxAttempts,
    List<String> tags,
    Duration timeout) {

  private static final ObjectMapper JSON = new ObjectMapper();

  public JobTemplate {
    tags = tags == null ? List.of() : List.copyOf(tags);
    payload = payload == null ? "null" : payload;
  }

  /** A template for {@code queue} with this payload and every other field at its default. */
  public static JobTemplate of(String queue, String payload) {
    return new JobTemplate(queue, payload, 0, null, List.of(), null);
  }

  /**
   * The job of one fire. {@code defaultMaxAttempts} applies when the template sets none; retry
   * policy and delivery stay at their defaults for the caller to resolve from the queue.
   */
  public NewJob toNewJob(String idempotencyKey, Instant runAt, int defaultMaxAttempts) {
    return new NewJob(
        queue,
        payload,
        priority,
        runAt,
        maxAttempts == null ? defaultMaxAttempts : maxAttempts,
        idempotencyKey,
        null,
        tags,
        timeout,
        null,
        null);
  }

  /** Every rule of {@link NewJob#validate}, plus a payload that parses as JSON. */
  List<FieldError> validate(int maxPayloadBytes, String fieldPrefix) {
    // maxAttempts 1 stands in for "the queue's default", which is valid by construction.
    NewJob probe = toNewJob(null, null, 1);
    List<FieldError> errors = new ArrayList<>(probe.validate(maxPayloadBytes, fieldPrefix));
    boolean payloadTooBig = errors.stream().anyMatch(e -> e.field().equals(fieldPrefix + "payload"));
    if (!payloadTooBig) {
      try {
        JSON.readTree(payload);
      } catch (JsonProcessingException e) {
        errors.add(new FieldError(fieldPrefix + "payload",
            "is not valid JSON: " + e.getOriginalMessage()));
      }
    }
    return errors;
  }
}
