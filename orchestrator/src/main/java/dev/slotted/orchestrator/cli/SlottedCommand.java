package dev.slotted.orchestrator.cli;

import dev.slotted.orchestrator.config.ConfigError;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The root of the CLI: {@code slotted [subcommand]}. */
@Command(
    name = "slotted",
    mixinStandardHelpOptions = true,
    versionProvider = SlottedCommand.Version.class,
    description = "Slotted: a batch job orchestrator (SQLite queue, TDMA runners, Pekko actors).",
    subcommands = {
        ServeCommand.class,
        WorkerCommand.class,
        BenchCommand.class,
        SubmitCommand.class,
        JobCommand.class,
        JobsCommand.class,
        CancelCommand.class,
        DeadCommand.class,
        RequeueCommand.class,
        QueuesCommand.class,
        RunnersCommand.class,
        ScheduleCommand.class,
        StoreCommand.class,
        CommandLine.HelpCommand.class})
public final class SlottedCommand implements Runnable {

  /** Exit code for bad usage or rejected input (DESIGN §8). */
  public static final int EXIT_USAGE = 2;
  /** Exit code for a failure (server unreachable, job not found, ...). */
  public static final int EXIT_FAILURE = 1;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
  }

  /** The configured command line: usage errors exit 2, failures 1. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new SlottedCommand());
    // "--payload @FILE" is ours: picocli must not expand @-arguments into argument files.
    cl.setExpandAtFiles(false);
    cl.setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException ? EXIT_USAGE : EXIT_FAILURE);
    cl.getCommandSpec().exitCodeOnInvalidInput(EXIT_USAGE);
    cl.getCommandSpec().exitCodeOnExecutionException(EXIT_FAILURE);
    cl.setExecutionExceptionHandler((e, line, parsed) -> {
      if (e instanceof ConfigError) {
        line.getErr().println("slotted: " + e.getMessage());
        return EXIT_USAGE;
      }
      line.getErr().println("slotted: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      return EXIT_FAILURE;
    });
    return cl;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = SlottedCommand.class.getPackage().getImplementationVersion();
      return new String[] {"slotted " + (v == null ? "dev" : v)};
    }
  }
}
