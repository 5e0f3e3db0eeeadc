package dev.slotted.orchestrator.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code slotted cancel ID}. */
@Command(name = "cancel", mixinStandardHelpOptions = true,
    description = "Cancel a job that has not finished (a running attempt is stopped). Exit 1 when it already finished.")
final class CancelCommand extends ClientCommand {

  @Parameters(index = "0", paramLabel = "ID")
  String id;

  @Override
  int execute(ApiClient api) {
    return show(api.post("/api/v1/jobs/" + ApiClient.segment(id) + "/cancel", null),
        job -> out().println("Cancelled job " + text(job, "id") + " (" + text(job, "state") + ")"));
  }
}
