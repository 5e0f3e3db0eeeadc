package dev.slotted.orchestrator.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code slotted jobs}: one page of jobs, newest first. */
@Command(name = "jobs", mixinStandardHelpOptions = true, description = "List jobs, newest first.")
final class JobsCommand extends ClientCommand {

  @Option(names = "--queue", paramLabel = "Q", description = "Only this queue.")
  String queue;

  @Option(names = "--state", paramLabel = "S",
      description = "Only this state: scheduled, ready, running, succeeded, dead or cancelled.")
  String state;

  @Option(names = "--limit", paramLabel = "N", description = "Jobs per page, 1..500 (default 50).")
  Integer limit;

  @Option(names = "--cursor", paramLabel = "C", description = "The page after this cursor (printed under a full page).")
  String cursor;

  @Override
  int execute(ApiClient api) {
    Map<String, Object> q = new LinkedHashMap<>();
    q.put("queue", queue);
    q.put("state", state);
    q.put("limit", limit);
    q.put("cursor", cursor);
    return show(api.get("/api/v1/jobs" + ApiClient.query(q)), page -> {
      Table t = new Table("ID", "QUEUE", "STATE", "PRIORITY", "ATTEMPTS", "CREATED", "RUN AT");
      for (JsonNode j : page.path("items")) {
        t.row(text(j, "id"), text(j, "queue"), text(j, "state"), text(j, "priority"),
            text(j, "attemptCount") + "/" + text(j, "maxAttempts"), text(j, "createdAt"), text(j, "runAt"));
      }
      if (t.isEmpty()) {
        out().println("No jobs.");
      } else {
        t.print(out());
      }
      morePages(page, "jobs");
    });
  }
}
