package dev.slotted.orchestrator.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.parameterMultiMap;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.put;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.JsonNode;
import dev.slotted.orchestrator.schedule.FireTimes;
import dev.slotted.orchestrator.schedule.ScheduleNotFoundException;
import dev.slotted.orchestrator.schedule.ScheduleSpec;
import dev.slotted.orchestrator.schedule.ScheduleState;
import dev.slotted.orchestrator.schedule.Schedules;
import dev.slotted.protocol.FieldError;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code /api/v1/schedules...} (DESIGN §6, §7): create, list, show, replace, delete, pause, resume,
 * trigger, and the fire times after any instant. Bodies are validated completely before anything
 * is written ({@link ScheduleRequests}); unknown names are 404, a taken name 409.
 */
final class ScheduleRoutes {
  /** Default and largest {@code count} of {@code GET .../next}. */
  static final int DEFAULT_NEXT = 10;

  private static final Set<String> NEXT_PARAMS = Set.of("from", "count");

  private final HttpApi api;
  private final ApiContext ctx;
  private final Schedules schedules;
  private final ScheduleRequests requests;

  ScheduleRoutes(HttpApi api, ApiContext ctx) {
    this.api = api;
    this.ctx = ctx;
    this.schedules = ctx.schedules();
    this.requests = new ScheduleRequests(ctx.settings());
  }

  Route route() {
    if (schedules == null) {
      return complete(Problem.unavailable("this server runs without schedules").toResponse());
    }
    return concat(
        pathEnd(() -> concat(
            post(() -> api.jsonBody(this::create)),
            get(() -> parameterMultiMap(params -> api.respond(() -> list(params)))))),
        path(segment(), name -> concat(
            get(() -> api.respond(() -> show(name))),
            put(() -> api.jsonBody(body -> replace(name, body))),
            delete(() -> api.respond(() -> remove(name))))),
        path(segment().slash("pause"), name -> post(() -> api.respond(() -> change(name, schedules::pause)))),
        path(segment().slash("resume"), name -> post(() -> api.respond(() -> change(name, schedules::resume)))),
        path(segment().slash("trigger"), name -> post(() -> api.respond(() -> trigger(name)))),
        path(segment().slash("next"), name -> get(() -> parameterMultiMap(params -> api.respond(() -> next(name, params))))));
  }

  private CompletionStage<HttpResponse> create(JsonNode body) {
    Instant now = now();
    ScheduleSpec spec = requests.parse(body, null).spec();
    return schedules.create(spec, now).thenApply(s -> HttpApi.json(StatusCodes.CREATED, ScheduleJson.schedule(s, now, true)));
  }

  private CompletionStage<HttpResponse> list(Map<String, List<String>> params) {
    if (!params.isEmpty()) {
      List<FieldError> errors = new ArrayList<>();
      params.keySet().forEach(k -> errors.add(new FieldError(k, "unknown query parameter; this list takes none")));
      throw new ProblemException(Problem.validation(errors));
    }
    Instant now = now();
    return schedules.list().thenApply(all -> HttpApi.json(StatusCodes.OK,
        Json.list(all, null, s -> ScheduleJson.schedule(s, now, false))));
  }

  private CompletionStage<HttpResponse> show(String name) {
    Instant now = now();
    return existing(name).thenApply(s -> HttpApi.json(StatusCodes.OK, ScheduleJson.schedule(s, now, true)));
  }

  private CompletionStage<HttpResponse> replace(String name, JsonNode body) {
    Instant now = now();
    checkName(name);
    ScheduleRequests.Parsed parsed = requests.parse(body, name);
    // Without "paused" in the body the schedule stays paused or running as it is.
    CompletionStage<ScheduleSpec> spec = parsed.pausedGiven()
        ? CompletableFuture.completedFuture(parsed.spec())
        : existing(name).thenApply(current -> parsed.spec().withPaused(current.paused()));
    return spec.thenCompose(s -> schedules.update(s, now))
        .thenApply(s -> HttpApi.json(StatusCodes.OK, ScheduleJson.schedule(s, now, true)));
  }

  private CompletionStage<HttpResponse> remove(String name) {
    checkName(name);
    return schedules.delete(name, now()).thenApply(d -> HttpResponse.create().withStatus(StatusCodes.NO_CONTENT));
  }

  private CompletionStage<HttpResponse> change(String name, BiFunction<String, Instant, CompletionStage<ScheduleState>> op) {
    checkName(name);
    Instant now = now();
    return op.apply(name, now).thenApply(s -> HttpApi.json(StatusCodes.OK, ScheduleJson.schedule(s, now, true)));
  }

  private CompletionStage<HttpResponse> trigger(String name) {
    checkName(name);
    return schedules.trigger(name, ctx.store(), ctx.clock()).thenApply(s -> {
      if (s.created()) {
        ctx.metrics().scheduleJobCreated(name, s.job().queue());
        api.wake(Set.of(s.job().partition()));
      }
      return HttpApi.json(s.created() ? StatusCodes.CREATED : StatusCodes.OK, Json.job(s.job()));
    });
  }

  private CompletionStage<HttpResponse> next(String name, Map<String, List<String>> params) {
    List<FieldError> errors = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : params.entrySet()) {
      if (!NEXT_PARAMS.contains(e.getKey())) {
        errors.add(new FieldError(e.getKey(), "unknown query parameter; expected from, count"));
      } else if (e.getValue().size() > 1) {
        errors.add(new FieldError(e.getKey(), "given " + e.getValue().size() + " times; give it once"));
      }
    }
    Instant from = now();
    String f = HttpApi.one(params, "from");
    if (f != null) {
      from = ScheduleRequests.parseInstant(f, "from", errors);
    }
    int count = DEFAULT_NEXT;
    String c = HttpApi.one(params, "count");
    if (c != null) {
      try {
        count = Integer.parseInt(c);
      } catch (NumberFormatException ex) {
        count = -1;
      }
      if (count < 1 || count > FireTimes.MAX_COUNT) {
        errors.add(new FieldError("count", "must be an integer between 1 and " + FireTimes.MAX_COUNT
            + ", got '" + ScheduleRequests.abbreviate(c) + "'"));
      }
    }
    if (!errors.isEmpty()) {
      throw new ProblemException(Problem.validation(errors));
    }
    Instant start = from;
    int n = count;
    return existing(name).thenApply(s -> HttpApi.json(StatusCodes.OK,
        ScheduleJson.next(s.spec(), start, FireTimes.next(s.spec(), start, n))));
  }

  /** Schedule times are kept to the millisecond, like every other time of the API. */
  private Instant now() {
    return ctx.clock().instant().truncatedTo(ChronoUnit.MILLIS);
  }

  private CompletionStage<ScheduleState> existing(String name) {
    checkName(name);
    return schedules.get(name).thenApply(s -> s.orElseThrow(() -> new ScheduleNotFoundException(name)));
  }

  /** A name no schedule can have is simply not found. */
  private static void checkName(String name) {
    if (!ScheduleSpec.NAME.matcher(name).matches()) {
      throw new ScheduleNotFoundException(ScheduleRequests.abbreviate(name));
    }
  }
}
