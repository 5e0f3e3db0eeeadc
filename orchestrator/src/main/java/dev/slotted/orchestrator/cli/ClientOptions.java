package dev.slotted.orchestrator.cli;

import java.net.URI;
import java.net.URISyntaxException;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Options every client command shares: where the server is, how to authenticate, output form. */
public final class ClientOptions {
  static final String DEFAULT_SERVER = "http://127.0.0.1:8080";

  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(names = "--server", paramLabel = "URL",
      defaultValue = "${env:SLOTTED_SERVER:-" + DEFAULT_SERVER + "}",
      description = "The Slotted server (default: $SLOTTED_SERVER, else " + DEFAULT_SERVER + ").")
  String server;

  @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:SLOTTED_AUTH_TOKEN}",
      description = "Bearer token, when the server sets slotted.http.auth-token (default: $SLOTTED_AUTH_TOKEN).")
  String token;

  @Option(names = "--json", description = "Print the server's JSON instead of a table.")
  boolean json;

  ApiClient client() {
    URI uri;
    try {
      uri = new URI(server.trim());
    } catch (URISyntaxException e) {
      throw badServer();
    }
    if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
        || uri.getHost() == null) {
      throw badServer();
    }
    return new ApiClient(uri, token);
  }

  private CommandLine.ParameterException badServer() {
    return new CommandLine.ParameterException(mixee.commandLine(),
        "--server must be an http:// or https:// URL like " + DEFAULT_SERVER + ", got '" + server + "'");
  }
}
