package dev.slotted.orchestrator.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code slotted runners}: the TDMA slot table. */
@Command(name = "runners", mixinStandardHelpOptions = true,
    description = "Show the slot table: each runner's window in the cycle, its partitions, its last slot's work,"
        + " and its running and buffered (claimed ahead) jobs.")
final class RunnersCommand extends ClientCommand {

  @Override
  int execute(ApiClient api) {
    return show(api.get("/api/v1/runners"), page -> {
      Table t = new Table("ID", "SLOT", "ALIVE", "CYCLE", "WINDOW", "PARTITIONS", "LAST WORK", "OVERRUNS",
          "RUNNING", "BUFFERED");
      for (JsonNode r : page.path("items")) {
        List<String> parts = new ArrayList<>();
        r.path("partitions").forEach(p -> parts.add(p.asText()));
        t.row(text(r, "id"), text(r, "index") + "/" + text(r, "count"), r.path("alive").asBoolean() ? "yes" : "no",
            shortDuration(text(r, "cycle")),
            shortDuration(text(r, "windowStart")) + ".." + shortDuration(text(r, "windowEnd")),
            String.join(",", parts), r.path("lastSlotWorkMs").asLong() + "ms", text(r, "overruns"),
            text(r, "running"), text(r, "buffered"));
      }
      if (t.isEmpty()) {
        out().println("No runners.");
      } else {
        t.print(out());
      }
    });
  }
}
