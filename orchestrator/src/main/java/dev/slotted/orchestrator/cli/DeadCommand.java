package dev.slotted.orchestrator.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code slotted dead}: the dead-letter queue. */
@Command(name = "dead", mixinStandardHelpOptions = true,
    description = "List dead jobs (the dead-letter queue), newest first, with their last error.")
final class DeadCommand extends ClientCommand {

  @Option(names = "--queue", paramLabel = "Q", description = "Only this queue.")
  String queue;

  @Option(names = "--limit", paramLabel = "N", description = "Jobs per page, 1..500 (default 50).")
  Integer limit;

  @Option(names = "--cursor", paramLabel = "C", description = "The page after this cursor.")
  String cursor;

  @Override
  int execute(ApiClient api) {
    Map<String, Object> q = new LinkedHashMap<>();
    q.put("queue", queue);
    q.put("limit", limit);
    q.put("cursor", cursor);
    return show(api.get("/api/v1/dead" + ApiClient.query(q)), page -> {
      Table t = new Table("ID", "QUEUE", "ATTEMPTS", "FINISHED", "LAST ERROR");
      for (JsonNode j : page.path("items")) {
        JsonNode attempts = j.path("attempts");
        JsonNode last = attempts.isEmpty() ? null : attempts.get(attempts.size() - 1);
        t.row(text(j, "id"), text(j, "queue"), text(j, "attemptCount") + "/" + text(j, "maxAttempts"),
            text(j, "finishedAt"), last == null ? null : lastError(last));
      }
      if (t.isEmpty()) {
        out().println("No dead jobs.");
      } else {
        t.print(out());
      }
      morePages(page, "dead");
    });
  }

  private static String lastError(JsonNode attempt) {
    String error = text(attempt, "error");
    return error != null ? error : text(attempt, "outcome");
  }
}
