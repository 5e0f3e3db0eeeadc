package dev.slotted.orchestrator.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import picocli.CommandLine.Command;

/** {@code slotted queues}: per queue, jobs by state and the age of the oldest ready one. */
@Command(name = "queues", mixinStandardHelpOptions = true,
    description = "Show every queue: jobs by state, how long the oldest ready job has waited, and how many ready"
        + " jobs no live worker can take (their tags or queue: they wait for a capable node).")
final class QueuesCommand extends ClientCommand {

  @Override
  int execute(ApiClient api) {
    return show(api.get("/api/v1/queues"), page -> {
      Table t = new Table("QUEUE", "SCHEDULED", "READY", "RUNNING", "SUCCEEDED", "DEAD", "CANCELLED", "OLDEST READY",
          "UNROUTABLE");
      for (JsonNode q : page.path("items")) {
        long age = q.path("oldestReadyAgeMs").asLong();
        t.row(text(q, "queue"), text(q, "scheduled"), text(q, "ready"), text(q, "running"), text(q, "succeeded"),
            text(q, "dead"), text(q, "cancelled"), age > 0 ? shortDuration(Duration.ofMillis(age)) : null,
            text(q, "unroutable"));
      }
      if (t.isEmpty()) {
        out().println("No queues configured.");
      } else {
        t.print(out());
      }
    });
  }
}
