package dev.slotted.orchestrator.app;

import dev.slotted.orchestrator.cli.SlottedCommand;
import picocli.CommandLine;

/** The one executable: {@code ./slotted <subcommand>}. Exit 0 success, 1 failure, 2 bad usage. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI without exiting (for tests). */
  public static int run(String... args) {
    return SlottedCommand.commandLine().execute(args);
  }
}
