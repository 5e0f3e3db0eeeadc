package dev.slotted.orchestrator.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command that talks to the HTTP API. Exit codes (DESIGN §8): 0 success; 1 failure (not found,
 * conflict, server error, no server); 2 bad usage or input the server rejected (400, 413).
 */
abstract class ClientCommand implements Callable<Integer> {
  static final int OK = 0;

  @Spec CommandSpec spec;

  @Mixin ClientOptions options;

  /** Calls the server and prints the result; returns the exit code. */
  abstract int execute(ApiClient api);

  @Override
  public final Integer call() {
    ApiClient api = options.client();
    try {
      return execute(api);
    } catch (ApiClient.Unreachable e) {
      err().println(e.getMessage());
      return SlottedCommand.EXIT_FAILURE;
    } catch (InputError e) {
      err().println("slotted: " + e.getMessage());
      return SlottedCommand.EXIT_USAGE;
    } finally {
      out().flush();
      err().flush();
    }
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  /** Prints a successful answer (raw JSON with --json, else through {@code readable}), or the problem. */
  int show(ApiClient.Response r, Consumer<JsonNode> readable) {
    if (!r.ok()) {
      return problem(r);
    }
    if (options.json) {
      out().println(r.body().strip());
      return OK;
    }
    JsonNode body = r.json();
    if (body == null) {
      err().println("slotted: the server answered " + r.status() + " with something that is not JSON");
      return SlottedCommand.EXIT_FAILURE;
    }
    readable.accept(body);
    return OK;
  }

  /** Prints an error answer on stderr, field by field for a validation problem. */
  int problem(ApiClient.Response r) {
    JsonNode p = r.json();
    PrintWriter err = err();
    if (p == null || !p.isObject()) {
      String body = r.body() == null ? "" : r.body().strip();
      err.println("slotted: the server answered " + r.status()
          + (body.isEmpty() ? "" : ": " + (body.length() > 300 ? body.substring(0, 300) + "..." : body)));
    } else if (p.path("errors").isArray() && !p.path("errors").isEmpty()) {
      err.println("slotted: rejected by the server (" + r.status() + " " + p.path("title").asText("") + "):");
      for (JsonNode e : p.path("errors")) {
        String field = e.path("field").asText("");
        err.println("  " + (field.isEmpty() ? "" : field + ": ") + e.path("message").asText(""));
      }
    } else {
      String detail = p.path("detail").asText("");
      err.println("slotted: " + (detail.isEmpty() ? p.path("title").asText("error") : detail)
          + " (" + r.status() + ")");
      if (r.status() == 401) {
        err.println("  set SLOTTED_AUTH_TOKEN or pass --token");
      }
    }
    return r.status() == 400 || r.status() == 413 ? SlottedCommand.EXIT_USAGE : SlottedCommand.EXIT_FAILURE;
  }

  /** Input the CLI rejects before calling the server (exit 2). */
  static final class InputError extends RuntimeException {
    InputError(String message) {
      super(message, null, false, false);
    }
  }

  // ---- formatting shared by the commands -------------------------------------------------------

  static String text(JsonNode n, String field) {
    JsonNode v = n.path(field);
    return v.isMissingNode() || v.isNull() ? null : v.asText();
  }

  /** An ISO-8601 duration from the server, shown the short way (1h, 250ms, 1.5s). */
  static String shortDuration(String iso) {
    if (iso == null) {
      return null;
    }
    try {
      return shortDuration(Duration.parse(iso));
    } catch (DateTimeParseException e) {
      return iso;
    }
  }

  static String shortDuration(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) {
      return ms + "ms";
    }
    if (ms % 86_400_000 == 0) {
      return ms / 86_400_000 + "d";
    }
    if (ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    if (ms < 60_000) {
      return (ms % 1000 == 0 ? String.valueOf(ms / 1000) : String.format(java.util.Locale.ROOT, "%.1f", ms / 1000.0)) + "s";
    }
    return d.toString().substring(2).toLowerCase(java.util.Locale.ROOT);
  }

  /** A {@code --payload} value: JSON text, {@code @FILE}, or {@code @-} for stdin; exit 2 when it is not JSON. */
  static JsonNode readPayload(String payload) {
    String json;
    String source = "--payload";
    if (payload.startsWith("@")) {
      String file = payload.substring(1);
      try {
        if (file.equals("-")) {
          source = "the payload on stdin";
          InputStream in = System.in;
          json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } else {
          source = "the payload file " + file;
          json = Files.readString(Path.of(file), StandardCharsets.UTF_8);
        }
      } catch (IOException e) {
        throw new InputError("cannot read the payload file " + file + ": " + e.getMessage());
      }
    } else {
      json = payload;
    }
    try {
      JsonNode n = ApiClient.MAPPER.readTree(json);
      if (n == null || n.isMissingNode()) {
        throw new InputError(source + " is empty; give a JSON value such as {\"day\": \"2026-11-22\"}");
      }
      return n;
    } catch (JsonProcessingException e) {
      throw new InputError(source + " is not valid JSON: " + e.getOriginalMessage());
    }
  }

  /** The next-page hint under a list, when there is one. */
  void morePages(JsonNode page, String command) {
    String next = text(page, "nextCursor");
    if (next != null) {
      out().println("(more: slotted " + command + " --cursor " + next + ")");
    }
  }
}
