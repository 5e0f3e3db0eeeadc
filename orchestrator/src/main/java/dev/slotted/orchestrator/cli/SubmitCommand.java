package dev.slotted.orchestrator.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code slotted submit QUEUE ...}: submits one job. Ranges and formats are checked by the server. */
@Command(name = "submit", mixinStandardHelpOptions = true,
    description = "Submit a job to a queue. Exit 0 when accepted (or when the key already exists), 2 when rejected.")
final class SubmitCommand extends ClientCommand {

  @Parameters(index = "0", paramLabel = "QUEUE", description = "The queue (it selects the handler).")
  String queue;

  @Option(names = "--payload", paramLabel = "JSON|@FILE",
      description = "The payload: JSON text, @FILE to read it from a file, or @- from stdin.")
  String payload;

  @Option(names = "--priority", paramLabel = "N", description = "-1000..1000, higher first (default 0).")
  Integer priority;

  @ArgGroup(exclusive = true)
  When when;

  static final class When {
    @Option(names = "--delay", paramLabel = "D", description = "Not before this long from now (10s, 5m, 1h, PT1H).")
    String delay;

    @Option(names = "--at", paramLabel = "INSTANT", description = "Not before this instant (2026-11-22T03:00:00Z).")
    String at;
  }

  @Option(names = "--max-attempts", paramLabel = "N", description = "1..1000 (default: the queue's).")
  Integer maxAttempts;

  @Option(names = "--key", paramLabel = "K",
      description = "Idempotency key: a repeat with the same key returns the first job.")
  String key;

  @Option(names = "--partition-key", paramLabel = "K", description = "Jobs with the same key share a partition.")
  String partitionKey;

  @Option(names = "--tag", paramLabel = "T", description = "A capability the worker must have (repeatable).")
  List<String> tags;

  @Option(names = "--timeout", paramLabel = "D", description = "Maximum run time of one attempt (default: the queue's).")
  String timeout;

  @Override
  int execute(ApiClient api) {
    ObjectNode body = ApiClient.MAPPER.createObjectNode();
    body.put("queue", queue);
    if (payload != null) {
      body.set("payload", readPayload(payload));
    }
    if (priority != null) {
      body.put("priority", priority);
    }
    if (when != null && when.delay != null) {
      body.put("delay", when.delay);
    }
    if (when != null && when.at != null) {
      body.put("runAt", when.at);
    }
    if (maxAttempts != null) {
      body.put("maxAttempts", maxAttempts);
    }
    if (key != null) {
      body.put("idempotencyKey", key);
    }
    if (partitionKey != null) {
      body.put("partitionKey", partitionKey);
    }
    if (tags != null) {
      tags.forEach(body.putArray("tags")::add);
    }
    if (timeout != null) {
      body.put("timeout", timeout);
    }
    ApiClient.Response r = api.post("/api/v1/jobs", body.toString());
    return show(r, job -> {
      String id = text(job, "id");
      String state = text(job, "state");
      if (r.status() == 200) {
        out().println("Job " + id + " already exists with key " + text(job, "idempotencyKey") + " (" + state + ")");
      } else {
        out().println("Submitted job " + id + " to " + text(job, "queue") + " (" + state
            + (state != null && state.equals("scheduled") ? ", runs at " + text(job, "runAt") : "") + ")");
      }
    });
  }
}
