package dev.slotted.orchestrator.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code slotted runners}: the TDMA slot table. */
@Command(name = "runners", mixinStandardHelpOptions = true,
    description = "Show the slot table: each runner's window in the cycle, its partitions, its last slot's work,"
        + " and its running and buffered (claimed ahead) jobs; in cluster mode also the worker nodes (address, tags,"
        + " queues, capacity, running, reachable).")
final class RunnersCommand extends ClientCommand {

  @Override
  int execute(ApiClient api) {
    int code = runners(api);
    if (code != 0 || options.json) {
      return code;
    }
    // Cluster mode: the worker nodes, as the runner answering sees them.
    ApiClient.Response workers = api.get("/api/v1/workers");
    if (workers.ok() && workers.json() != null && workers.json().path("items").size() > 0) {
      out().println();
      Table t = new Table("WORKER NODE", "ADDRESS", "TAGS", "QUEUES", "CAPACITY", "RUNNING", "BUFFERED", "REACHABLE");
      for (JsonNode w : workers.json().path("items")) {
        List<String> tags = new ArrayList<>();
        w.path("tags").forEach(x -> tags.add(x.asText()));
        List<String> queues = new ArrayList<>();
        w.path("queues").forEach(x -> queues.add(x.asText()));
        t.row(text(w, "node"), text(w, "address"), String.join(",", tags), String.join(",", queues),
            text(w, "capacity"), text(w, "running"), text(w, "buffered"), w.path("reachable").asBoolean() ? "yes" : "no");
      }
      t.print(out());
    }
    return 0;
  }

  private int runners(ApiClient api) {
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
