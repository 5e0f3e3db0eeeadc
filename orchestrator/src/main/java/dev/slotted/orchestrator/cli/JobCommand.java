package dev.slotted.orchestrator.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code slotted job ID}: one job, its fields and its attempts. */
@Command(name = "job", mixinStandardHelpOptions = true, description = "Show a job and its attempts.")
final class JobCommand extends ClientCommand {
  private static final int MAX_PAYLOAD_SHOWN = 200;

  @Parameters(index = "0", paramLabel = "ID")
  String id;

  @Override
  int execute(ApiClient api) {
    return show(api.get("/api/v1/jobs/" + ApiClient.segment(id)), job -> print(job, out()));
  }

  static void print(JsonNode job, PrintWriter out) {
    List<String[]> fields = new ArrayList<>();
    fields.add(new String[] {"id", text(job, "id")});
    fields.add(new String[] {"queue", text(job, "queue")});
    fields.add(new String[] {"state", text(job, "state")});
    fields.add(new String[] {"priority", text(job, "priority")});
    fields.add(new String[] {"attempts", text(job, "attemptCount") + " of " + text(job, "maxAttempts")});
    fields.add(new String[] {"idempotencyKey", text(job, "idempotencyKey")});
    fields.add(new String[] {"partitionKey", text(job, "partitionKey")});
    fields.add(new String[] {"partition", text(job, "partition")});
    List<String> tags = new ArrayList<>();
    job.path("tags").forEach(t -> tags.add(t.asText()));
    fields.add(new String[] {"tags", tags.isEmpty() ? null : String.join(", ", tags)});
    fields.add(new String[] {"timeout", shortDuration(text(job, "timeout"))});
    fields.add(new String[] {"runAt", text(job, "runAt")});
    fields.add(new String[] {"createdAt", text(job, "createdAt")});
    fields.add(new String[] {"finishedAt", text(job, "finishedAt")});
    String payload = job.path("payload").toString();
    fields.add(new String[] {"payload",
        payload.length() > MAX_PAYLOAD_SHOWN ? payload.substring(0, MAX_PAYLOAD_SHOWN - 3) + "..." : payload});
    int width = fields.stream().mapToInt(f -> f[0].length()).max().orElse(0);
    for (String[] f : fields) {
      out.println(f[0] + ":" + " ".repeat(width - f[0].length() + 2) + (f[1] == null ? "-" : f[1]));
    }
    JsonNode attempts = job.path("attempts");
    out.println();
    if (attempts.isEmpty()) {
      out.println("No attempts yet.");
      return;
    }
    Table t = new Table("#", "RUNNER", "WORKER", "STARTED", "ENDED", "OUTCOME", "EXIT", "ERROR");
    for (JsonNode a : attempts) {
      t.row(text(a, "number"), text(a, "runner"), text(a, "worker"), text(a, "startedAt"), text(a, "endedAt"),
          a.path("outcome").isNull() ? "running" : text(a, "outcome"), text(a, "exitCode"), text(a, "error"));
    }
    t.print(out);
  }
}
