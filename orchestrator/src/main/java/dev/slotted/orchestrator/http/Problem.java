package dev.slotted.orchestrator.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.slotted.protocol.FieldError;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/**
 * An RFC 9457 problem: every error of the API is one of these, as {@code application/problem+json}.
 *
 * @param type a URI naming the kind of problem
 * @param errors the fields at fault (validation problems only; empty otherwise)
 */
public record Problem(String type, String title, int status, String detail, List<FieldError> errors) {

  public static final ContentType PROBLEM_JSON =
      MediaTypes.applicationWithFixedCharset("problem+json", org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8)
          .toContentType();

  private static final String TYPE_BASE = "https://slotted.dev/problems/";
  /** Field errors listed in {@code detail}; all of them are in {@code errors}. */
  private static final int DETAIL_ERRORS = 5;

  public Problem {
    errors = List.copyOf(errors);
  }

  /** 400 with every field at fault; the detail repeats the first few. */
  public static Problem validation(List<FieldError> errors) {
    String detail = errors.stream().limit(DETAIL_ERRORS).map(FieldError::toString)
        .collect(Collectors.joining("; "));
    if (errors.size() > DETAIL_ERRORS) {
      detail += "; and " + (errors.size() - DETAIL_ERRORS) + " more (see errors)";
    }
    return new Problem(TYPE_BASE + "validation", "Invalid request", 400, detail, errors);
  }

  public static Problem badRequest(String field, String message) {
    return validation(List.of(new FieldError(field, message)));
  }

  public static Problem malformedJson(String detail) {
    return new Problem(TYPE_BASE + "malformed-json", "Malformed JSON", 400, detail, List.of());
  }

  public static Problem tooLarge(long limit) {
    return new Problem(TYPE_BASE + "payload-too-large", "Request body too large", 413,
        "the request body is over the limit of " + limit + " bytes (slotted.limits.max-body)", List.of());
  }

  public static Problem notFound(String detail) {
    return new Problem(TYPE_BASE + "not-found", "Not found", 404, detail, List.of());
  }

  public static Problem conflict(String detail) {
    return new Problem(TYPE_BASE + "conflict", "Conflict", 409, detail, List.of());
  }

  public static Problem unauthorized() {
    return new Problem(TYPE_BASE + "unauthorized", "Unauthorized", 401,
        "this server requires 'Authorization: Bearer <token>' (slotted.http.auth-token)", List.of());
  }

  public static Problem storeUnavailable() {
    return new Problem(TYPE_BASE + "store-unavailable", "Store unavailable", 503,
        "the job store could not complete the request; try again (the server log has the cause)", List.of());
  }

  /** 503 for a dependency that did not answer (the detail says which). */
  public static Problem unavailable(String detail) {
    return new Problem(TYPE_BASE + "unavailable", "Service unavailable", 503, detail, List.of());
  }

  public static Problem internal() {
    return new Problem(TYPE_BASE + "internal", "Internal server error", 500,
        "the server failed to handle the request (the server log has the cause)", List.of());
  }

  /** A problem for a status Pekko produced itself (404 route, 405 method, ...). */
  public static Problem ofStatus(StatusCode status, String detail) {
    String title = status.reason();
    String slug = title.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-|-$)", "");
    return new Problem(TYPE_BASE + slug, title, status.intValue(), detail, List.of());
  }

  public ObjectNode toJson() {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("type", type);
    n.put("title", title);
    n.put("status", status);
    n.put("detail", detail);
    if (!errors.isEmpty()) {
      ArrayNode arr = n.putArray("errors");
      for (FieldError e : errors) {
        arr.addObject().put("field", e.field()).put("message", e.message());
      }
    }
    return n;
  }

  public HttpResponse toResponse() {
    return HttpResponse.create()
        .withStatus(StatusCodes.get(status))
        .withEntity(HttpEntities.create(PROBLEM_JSON, Json.bytes(toJson())));
  }
}
