package dev.slotted.orchestrator.node;

import dev.slotted.orchestrator.metrics.Metrics;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * {@code GET /metrics} (Prometheus text) on a worker node's management port: the node has no job
 * API to serve it. Registered under {@code pekko.management.http.routes} by {@link WorkerNode}.
 */
public final class MetricsRoute implements ManagementRouteProvider {
  private static final ContentType.NonBinary PROMETHEUS = ContentTypes.TEXT_PLAIN_UTF8;
  private static volatile Metrics metrics = Metrics.noop();

  /** Pekko Management instantiates the provider with the classic system. */
  public MetricsRoute(ExtendedActorSystem system) {}

  static void serve(Metrics m) {
    metrics = m;
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return Directives.path("metrics", () -> Directives.get(() ->
        Directives.complete(HttpEntities.create(PROMETHEUS, metrics.scrape()))));
  }
}
