package dev.slotted.orchestrator.cli;

import dev.slotted.orchestrator.store.postgres.PostgresStoreSettings;
import dev.slotted.orchestrator.store.postgres.StoreCopy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code slotted store ...}: operations on a store itself, with no runner started. */
@Command(name = "store", mixinStandardHelpOptions = true, description = "Operations on the job store.",
    subcommands = {StoreCommand.Copy.class})
public final class StoreCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (copy)");
  }

  /** {@code slotted store copy --from FILE --to URL}. */
  @Command(name = "copy", mixinStandardHelpOptions = true,
      description = {"Copies a SQLite store (every job with its attempts, the dead letters) into an empty PostgreSQL store,",
          "and the schedules' journal, then checks the counts. Stop the runners on the SQLite file first."})
  static final class Copy implements Callable<Integer> {
    @Option(names = "--from", required = true, paramLabel = "FILE", description = "The SQLite store (data/slotted.db).")
    Path from;

    @Option(names = "--to", required = true, paramLabel = "URL",
        description = "jdbc:postgresql://host:port/database (user and password in the URL, or --user and SLOTTED_PG_PASSWORD).")
    String to;

    @Option(names = "--user", defaultValue = "", description = "Database user, when not in the URL.")
    String user;

    @Option(names = "--journal", paramLabel = "FILE",
        description = "The schedules' journal (default: journal.db beside --from, when it exists).")
    Path journal;

    @Option(names = "--schema", defaultValue = "slotted", description = "Target schema (default ${DEFAULT-VALUE}); must hold no jobs.")
    String schema;

    @Override
    public Integer call() {
      if (!to.startsWith("jdbc:postgresql://")) {
        throw new CommandLine.ParameterException(new CommandLine(this), "--to must be jdbc:postgresql://host:port/database");
      }
      String password = System.getenv().getOrDefault("SLOTTED_PG_PASSWORD", "");
      PostgresStoreSettings target = new PostgresStoreSettings(to, user, password, 2, schema, Duration.ofSeconds(30),
          16, 256 * 1024);
      Path j = journal;
      if (j == null) {
        Path beside = from.toAbsolutePath().resolveSibling("journal.db");
        j = java.nio.file.Files.isRegularFile(beside) ? beside : null;
      }
      StoreCopy.Report r = StoreCopy.copy(from, j, target);
      System.out.println("copied " + r.rows().get("jobs") + " jobs and " + r.rows().get("attempts")
          + " archived attempts" + (j == null ? " (no schedule journal)" : ", " + r.rows().get("event_journal")
          + " schedule events from " + j) + "; counts checked: " + r.jobsByQueueAndState());
      return 0;
    }
  }
}
