package dev.slotted.orchestrator.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/** A small client of the HTTP API for the CLI's client commands. */
final class ApiClient {
  static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

  /** An answer from the server, whatever its status. */
  record Response(int status, String contentType, String body) {
    boolean ok() {
      return status >= 200 && status < 300;
    }

    /** The body as JSON, or null when it is not JSON. */
    JsonNode json() {
      try {
        return MAPPER.readTree(body);
      } catch (JsonProcessingException e) {
        return null;
      }
    }
  }

  /** No server answered at the address. The message says so, and what to do. */
  static final class Unreachable extends RuntimeException {
    Unreachable(String message) {
      super(message, null, false, false);
    }
  }

  private final URI base;
  private final String token;
  private final HttpClient http;

  ApiClient(URI base, String token) {
    this.base = base;
    this.token = token == null || token.isBlank() ? null : token.trim();
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(CONNECT_TIMEOUT)
        .build();
  }

  Response get(String path) {
    return send(request(path).GET());
  }

  Response post(String path, String jsonBody) {
    return send(request(path)
        .header("Content-Type", "application/json")
        .POST(jsonBody == null ? HttpRequest.BodyPublishers.noBody() : json(jsonBody)));
  }

  Response put(String path, String jsonBody) {
    return send(request(path)
        .header("Content-Type", "application/json")
        .PUT(json(jsonBody)));
  }

  /**
   * The body with every non-ASCII character written as a JSON {@code \\uXXXX} escape (outside
   * string literals JSON is ASCII, so this changes no value). A lone surrogate then reaches the server,
   * which refuses it, instead of turning into '?' in the UTF-8 encoder and being stored as that.
   */
  static HttpRequest.BodyPublisher json(String body) {
    StringBuilder b = new StringBuilder(body.length());
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      if (c < 0x80) {
        b.append(c);
      } else {
        b.append(String.format("\\u%04x", (int) c));
      }
    }
    return HttpRequest.BodyPublishers.ofString(b.toString(), StandardCharsets.US_ASCII);
  }

  Response delete(String path) {
    return send(request(path).DELETE());
  }

  /** A path segment, percent-encoded (ids are opaque). */
  static String segment(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** {@code ?a=1&b=2} from the non-null values, or "" when none. */
  static String query(Map<String, Object> params) {
    Map<String, Object> present = new LinkedHashMap<>();
    params.forEach((k, v) -> {
      if (v != null) {
        present.put(k, v);
      }
    });
    if (present.isEmpty()) {
      return "";
    }
    return present.entrySet().stream()
        .map(e -> e.getKey() + "=" + URLEncoder.encode(String.valueOf(e.getValue()), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&", "?", ""));
  }

  private HttpRequest.Builder request(String path) {
    String b = base.toString();
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create((b.endsWith("/") ? b.substring(0, b.length() - 1) : b) + path))
        .timeout(REQUEST_TIMEOUT)
        .header("Accept", "application/json, application/problem+json, text/plain");
    if (token != null) {
      r.header("Authorization", "Bearer " + token);
    }
    return r;
  }

  private Response send(HttpRequest.Builder builder) {
    try {
      HttpResponse<String> r = http.send(builder.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      return new Response(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
    } catch (HttpConnectTimeoutException e) {
      throw noServer("connection timed out");
    } catch (HttpTimeoutException e) {
      throw new Unreachable("slotted: the server at " + base + " did not answer within "
          + REQUEST_TIMEOUT.toSeconds() + "s");
    } catch (ConnectException e) {
      Throwable c = e.getCause();
      throw noServer(c instanceof UnresolvedAddressException ? "unknown host" : "connection refused");
    } catch (UnknownHostException | UnresolvedAddressException e) {
      throw noServer("unknown host");
    } catch (IOException e) {
      throw new Unreachable("slotted: could not talk to the server at " + base + ": "
          + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unreachable("slotted: interrupted");
    }
  }

  private Unreachable noServer(String why) {
    return new Unreachable("slotted: no server at " + base + " (" + why + "). Start one with ./slotted serve, "
        + "or point --server / SLOTTED_SERVER at it.");
  }
}
