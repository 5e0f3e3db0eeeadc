package dev.slotted.orchestrator.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code slotted requeue ID}: a dead job goes back to ready, its history kept. */
@Command(name = "requeue", mixinStandardHelpOptions = true,
    description = "Move a dead job back to ready: attempts start again, the history is kept.")
final class RequeueCommand extends ClientCommand {

  @Parameters(index = "0", paramLabel = "ID")
  String id;

  @Override
  int execute(ApiClient api) {
    return show(api.post("/api/v1/dead/" + ApiClient.segment(id) + "/requeue", null),
        job -> out().println("Requeued job " + text(job, "id") + " (" + text(job, "state") + ", "
            + job.path("attempts").size() + " earlier attempts kept)"));
  }
}
