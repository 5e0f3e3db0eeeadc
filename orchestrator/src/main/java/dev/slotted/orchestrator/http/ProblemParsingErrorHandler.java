package dev.slotted.orchestrator.http;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * Requests Pekko refuses before routing (414 URI too long, 431 headers too large, 400 for a request
 * line it cannot parse) answered as problems like every other error. Installed by {@link
 * HttpApi#start}; Pekko instantiates it by name, hence the public no-argument constructor.
 */
public final class ProblemParsingErrorHandler extends ParsingErrorHandler {

  public ProblemParsingErrorHandler() {}

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo error, LoggingAdapter log, ServerSettings settings) {
    log.warning("Illegal request, responding with status '{}': {}", status, error.summary());
    // summary only: the detail may quote the request, which is what was too large or malformed.
    return Problem.ofStatus(status, error.summary()).toResponse();
  }
}
