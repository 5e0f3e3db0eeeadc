package dev.slotted.orchestrator.http;

import static org.apache.pekko.http.javadsl.server.Directives.completeOK;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.getFromResource;
import static org.apache.pekko.http.javadsl.server.Directives.getFromResourceDirectory;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.pathSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.respondWithHeaders;

import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.marshalling.sse.EventStreamMarshalling;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The web dashboard (DESIGN §7 {@code GET /}): its static page and scripts from the jar
 * ({@code dashboard/} on the classpath), and the live feed. The page itself holds no data; every
 * figure it shows comes from {@code /api/v1}, under the API's bearer token, and so does the
 * {@code /api/v1/events} stream (wired there by {@link HttpApi}).
 */
final class DashboardRoutes {
  private static final List<HttpHeader> PAGE_HEADERS = List.of(
      // Always revalidate: a new jar's scripts are picked up at the next load.
      RawHeader.create("Cache-Control", "no-cache"),
      RawHeader.create("X-Content-Type-Options", "nosniff"),
      // Nothing but this server's own assets and API; the token never leaves for another origin.
      RawHeader.create("Content-Security-Policy",
          "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'"));

  private final LiveFeed feed;

  DashboardRoutes(ActorSystem<?> system, ApiContext ctx) {
    this.feed = new LiveFeed(system, ctx);
  }

  /** {@code GET /} and {@code GET /ui/...}: open, since they carry no data. */
  Route pages() {
    return respondWithHeaders(PAGE_HEADERS, () -> get(() -> concat(
        pathSingleSlash(() -> getFromResource("dashboard/index.html")),
        pathPrefix("ui", () -> getFromResourceDirectory("dashboard")))));
  }

  /** {@code GET /api/v1/events}: the live feed as Server-Sent Events (behind the API's auth). */
  Route events() {
    return get(() -> completeOK(feed.source(), EventStreamMarshalling.toEventStream()));
  }
}
