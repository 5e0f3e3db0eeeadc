package dev.slotted.orchestrator.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequestEntity;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.handleExceptions;
import static org.apache.pekko.http.javadsl.server.Directives.handleRejections;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.parameterMultiMap;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.PathMatchers.integerSegment;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.slotted.orchestrator.schedule.ScheduleConflictException;
import dev.slotted.orchestrator.schedule.ScheduleExistsException;
import dev.slotted.orchestrator.schedule.ScheduleNotFoundException;
import dev.slotted.orchestrator.store.JobConflictException;
import dev.slotted.orchestrator.store.JobNotFoundException;
import dev.slotted.orchestrator.store.JobQuery;
import dev.slotted.orchestrator.store.QueueCounts;
import dev.slotted.orchestrator.store.StoreException;
import dev.slotted.orchestrator.store.Submitted;
import dev.slotted.protocol.FieldError;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.NewJob;
import dev.slotted.protocol.ValidationException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API (DESIGN §7): routes, strict request validation before any write, and every error as
 * {@code application/problem+json}. Schedules plug in at {@link #scheduleRoutes()}.
 */
public final class HttpApi {
  private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);

  static final int DEFAULT_LIMIT = 50;
  private static final long BODY_TIMEOUT_MS = 10_000;
  private static final Set<String> JOB_LIST_PARAMS = Set.of("queue", "state", "limit", "cursor", "idempotencyKey");
  private static final Set<String> DEAD_LIST_PARAMS = Set.of("queue", "limit", "cursor");
  /** Job ids usable as a directory name under the log dir (no separators, no leading dot). */
  private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}");
  private static final ContentType PROMETHEUS_TEXT =
      ContentTypes.parse("text/plain; version=0.0.4; charset=utf-8");

  private final ApiContext ctx;
  private final ActorSystem<?> system;
  private final JobRequests requests;
  private final ScheduleRoutes scheduleRoutes;
  private final DashboardRoutes dashboard;
  /** {@code "Bearer <token>"} as bytes, or null when no token is configured. */
  private final byte[] expectedAuthorization;

  HttpApi(ActorSystem<?> system, ApiContext ctx) {
    this.ctx = ctx;
    this.system = system;
    this.requests = new JobRequests(ctx.settings());
    this.scheduleRoutes = new ScheduleRoutes(this, ctx);
    this.dashboard = new DashboardRoutes(system, ctx);
    String token = ctx.settings().http().authToken();
    this.expectedAuthorization =
        token.isEmpty() ? null : ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
  }

  /** Binds {@code slotted.http.host}:{@code slotted.http.port} (port 0 picks a free one). */
  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, ApiContext ctx) {
    HttpApi api = new HttpApi(system, ctx);
    return Http.get(system)
        .newServerAt(ctx.settings().http().host(), ctx.settings().http().port())
        .adaptSettings(s -> s.withParsingErrorHandler(ProblemParsingErrorHandler.class.getName()))
        .bind(api.route());
  }

  public Route route() {
    return handleExceptions(exceptionHandler(), () -> handleRejections(rejectionHandler(), () -> concat(
        path("metrics", () -> get(this::metrics)),
        dashboard.pages(),
        pathPrefix("api", () -> authorized(() -> pathPrefix("v1", () -> concat(
            pathPrefix("jobs", this::jobRoutes),
            pathPrefix("dead", this::deadRoutes),
            path("queues", () -> get(() -> respond(this::queues))),
            path("runners", () -> get(this::runners)),
            path("events", dashboard::events),
            scheduleRoutes())))))));
  }

  /** {@code /api/v1/schedules...} (DESIGN §6, §7), under the same auth, rejection and error handling. */
  private Route scheduleRoutes() {
    return pathPrefix("schedules", scheduleRoutes::route);
  }

  // ---- jobs ------------------------------------------------------------------------------------

  private Route jobRoutes() {
    return concat(
        pathEnd(() -> concat(
            post(() -> jsonBody(this::submit)),
            get(() -> listRoute(JOB_LIST_PARAMS, null)))),
        path("batch", () -> post(() -> jsonBody(this::submitBatch))),
        path(segment(), id -> get(() -> respond(() -> getJob(id)))),
        path(segment().slash("cancel"), id -> post(() -> respond(() -> cancel(id)))),
        path(segment().slash("attempts").slash(integerSegment()).slash("log"),
            (id, n) -> get(() -> attemptLog(id, n))));
  }

  private CompletionStage<HttpResponse> submit(JsonNode body) {
    Instant now = ctx.clock().instant();
    NewJob job = requests.parseOne(body, now);
    return ctx.store().submit(job, ctx.clock()).thenApply(s -> {
      if (s.created()) {
        ctx.metrics().jobsSubmitted(s.job().queue(), 1);
        wake(Set.of(s.job().partition()));
      }
      return json(s.created() ? StatusCodes.CREATED : StatusCodes.OK, Json.job(s.job()));
    });
  }

  private CompletionStage<HttpResponse> submitBatch(JsonNode body) {
    Instant now = ctx.clock().instant();
    List<NewJob> jobs = requests.parseBatch(body, now);
    return ctx.store().submitBatch(jobs, ctx.clock()).thenApply(list -> {
      list.stream().filter(Submitted::created)
          .collect(Collectors.groupingBy(x -> x.job().queue(), Collectors.counting()))
          .forEach((queue, n) -> ctx.metrics().jobsSubmitted(queue, n.intValue()));
      wake(list.stream().filter(Submitted::created).map(s -> s.job().partition()).collect(Collectors.toSet()));
      return json(StatusCodes.CREATED, Json.list(list, null, s -> Json.job(s.job())));
    });
  }

  private CompletionStage<HttpResponse> getJob(String id) {
    return ctx.store().get(id).thenApply(job -> job
        .map(j -> json(StatusCodes.OK, Json.job(j)))
        .orElseGet(() -> Problem.notFound("no job with id '" + id + "'").toResponse()));
  }

  private CompletionStage<HttpResponse> cancel(String id) {
    return ctx.store().cancel(id, ctx.clock()).thenApply(j -> json(StatusCodes.OK, Json.job(j)));
  }

  private Route attemptLog(String id, int attempt) {
    Path dir = ctx.logDir().toAbsolutePath().normalize();
    Path file = SAFE_ID.matcher(id).matches() && attempt >= 1
        ? dir.resolve(id).resolve(attempt + ".log").normalize()
        : null;
    if (file == null || !file.startsWith(dir) || !Files.isRegularFile(file)) {
      return complete(Problem.notFound("no log for attempt " + attempt + " of job '" + id + "'").toResponse());
    }
    return complete(HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, file)));
  }

  // ---- lists -----------------------------------------------------------------------------------

  private Route deadRoutes() {
    return concat(
        pathEnd(() -> get(() -> listRoute(DEAD_LIST_PARAMS, JobState.DEAD))),
        path(segment().slash("requeue"), id -> post(() -> respond(() -> requeue(id)))));
  }

  private CompletionStage<HttpResponse> requeue(String id) {
    return ctx.store().requeue(id, ctx.clock()).thenApply(j -> {
      wake(Set.of(j.partition()));
      return json(StatusCodes.OK, Json.job(j));
    });
  }

  /** {@code GET /api/v1/jobs} and {@code GET /api/v1/dead} ({@code forcedState} = dead). */
  private Route listRoute(Set<String> allowed, JobState forcedState) {
    return parameterMultiMap(params -> respond(() -> {
      JobQuery query = listQuery(params, allowed, forcedState);
      return ctx.store().list(query)
          .thenApply(page -> json(StatusCodes.OK, Json.list(page.items(), page.nextCursor(), Json::job)));
    }));
  }

  private static JobQuery listQuery(Map<String, List<String>> params, Set<String> allowed, JobState forcedState) {
    List<FieldError> errors = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : params.entrySet()) {
      if (!allowed.contains(e.getKey())) {
        errors.add(new FieldError(e.getKey(),
            "unknown query parameter; expected " + String.join(", ", allowed.stream().sorted().toList())));
      } else if (e.getValue().size() > 1) {
        errors.add(new FieldError(e.getKey(), "given " + e.getValue().size() + " times; give it once"));
      }
    }
    String queue = one(params, "queue");
    String cursor = one(params, "cursor");
    JobState state = forcedState;
    String s = one(params, "state");
    if (s != null) {
      try {
        state = JobState.parse(s);
      } catch (IllegalArgumentException ex) {
        errors.add(new FieldError("state", ex.getMessage()));
      }
    }
    int limit = DEFAULT_LIMIT;
    String l = one(params, "limit");
    if (l != null) {
      try {
        limit = Integer.parseInt(l);
      } catch (NumberFormatException ex) {
        limit = -1;
      }
      if (limit < 1 || limit > JobQuery.MAX_LIMIT) {
        errors.add(new FieldError("limit", "must be an integer between 1 and " + JobQuery.MAX_LIMIT + ", got '" + l + "'"));
      }
    }
    if (!errors.isEmpty()) {
      throw new ProblemException(Problem.validation(errors));
    }
    return new JobQuery(queue, state, limit, cursor, one(params, "idempotencyKey"));
  }

  private CompletionStage<HttpResponse> queues() {
    return ctx.store().queueCounts(ctx.clock().instant()).thenApply(counts -> {
      // Every configured queue appears, with zeros when it holds nothing; queues no longer
      // configured still show while their jobs are retained.
      Map<String, QueueCounts> byName = new TreeMap<>();
      for (String q : ctx.settings().queues().keySet()) {
        byName.put(q, new QueueCounts(q, 0, 0, 0, 0, 0, 0, 0));
      }
      counts.forEach(c -> byName.put(c.queue(), c));
      return json(StatusCodes.OK, Json.list(List.copyOf(byName.values()), null, Json::queue));
    });
  }

  private Route runners() {
    return respond(() -> ctx.runners().get()
        .thenApply(rs -> json(StatusCodes.OK, Json.list(rs, null, Json::runner))));
  }

  private Route metrics() {
    return respond(() -> CompletableFuture.completedFuture(HttpResponse.create()
        .withEntity(HttpEntities.create(PROMETHEUS_TEXT, ctx.metricsText().get().getBytes(StandardCharsets.UTF_8)))));
  }

  // ---- plumbing --------------------------------------------------------------------------------

  private Route authorized(Supplier<Route> inner) {
    if (expectedAuthorization == null) {
      return inner.get();
    }
    return optionalHeaderValueByName("Authorization", h -> {
      boolean ok = h.isPresent()
          && MessageDigest.isEqual(h.get().getBytes(StandardCharsets.UTF_8), expectedAuthorization);
      return ok ? inner.get() : complete(Problem.unauthorized().toResponse()
          .addHeader(RawHeader.create("WWW-Authenticate", "Bearer realm=\"slotted\"")));
    });
  }

  /** Reads the body (at most {@code slotted.limits.max-body} bytes) as JSON, then runs the handler. */
  Route jsonBody(Function<JsonNode, CompletionStage<HttpResponse>> handler) {
    return extractRequestEntity(entity -> respond(() -> readJson(entity).thenCompose(handler)));
  }

  private CompletionStage<JsonNode> readJson(RequestEntity entity) {
    long max = ctx.settings().maxBody();
    OptionalLong declared = entity.getContentLengthOption();
    if (declared.isPresent() && declared.getAsLong() > max) {
      // Answer before reading: Pekko closes the connection instead of draining the rest.
      return CompletableFuture.failedFuture(new ProblemException(Problem.tooLarge(max)));
    }
    return entity.withSizeLimit(max).toStrict(BODY_TIMEOUT_MS, max, system).handle((strict, e) -> {
      if (e != null) {
        if (causeOf(e, EntityStreamSizeException.class) != null) {
          throw new ProblemException(Problem.tooLarge(max));
        }
        throw e instanceof CompletionException ce ? ce : new CompletionException(e);
      }
      return parse(strict);
    });
  }

  private static JsonNode parse(HttpEntity.Strict strict) {
    byte[] bytes = strict.getData().toArray();
    JsonNode node;
    try {
      node = Json.MAPPER.readTree(bytes);
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? ""
          : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
      throw new ProblemException(Problem.malformedJson("the body is not valid JSON" + where + ": " + e.getOriginalMessage()));
    } catch (IOException e) {
      throw new ProblemException(Problem.malformedJson("the body could not be read: " + e.getMessage()));
    }
    if (node == null || node.isMissingNode()) {
      throw new ProblemException(Problem.malformedJson("the body is empty; expected a JSON object"));
    }
    // Before any route looks at it: no handler then meets (or echoes) a string it cannot store.
    FieldError illFormed = Json.illFormedText(node);
    if (illFormed != null) {
      throw new ProblemException(Problem.validation(List.of(illFormed)));
    }
    return node;
  }

  /** Completes with the handler's response; any failure, thrown or in the future, becomes a problem. */
  Route respond(Supplier<CompletionStage<HttpResponse>> work) {
    CompletionStage<HttpResponse> f;
    try {
      f = work.get();
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    return completeWithFuture(f.handle((r, e) -> e == null ? r : failure(e)));
  }

  private HttpResponse failure(Throwable t) {
    Throwable e = unwrap(t);
    if (e instanceof ProblemException p) {
      return p.problem().toResponse();
    }
    if (e instanceof ValidationException v) {
      return Problem.validation(v.errors()).toResponse();
    }
    if (e instanceof JobNotFoundException) {
      return Problem.notFound(e.getMessage()).toResponse();
    }
    if (e instanceof JobConflictException || e instanceof ScheduleExistsException
        || e instanceof ScheduleConflictException) {
      return Problem.conflict(e.getMessage()).toResponse();
    }
    if (e instanceof ScheduleNotFoundException) {
      return Problem.notFound(e.getMessage()).toResponse();
    }
    if (e instanceof TimeoutException) {
      LOG.warn("A schedule operation timed out: {}", e.toString());
      return Problem.unavailable("the schedule journal did not answer in time; try again").toResponse();
    }
    if (e instanceof StoreException) {
      LOG.error("Store failure while handling a request", e);
      return Problem.storeUnavailable().toResponse();
    }
    LOG.error("Unexpected failure while handling a request", e);
    return Problem.internal().toResponse();
  }

  private ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder().match(Throwable.class, e -> complete(failure(e))).build();
  }

  private static RejectionHandler rejectionHandler() {
    return RejectionHandler.newBuilder()
        .handleNotFound(extractRequest(req -> complete(Problem.notFound(
            "no route for " + req.method().value() + " " + req.getUri().path()).toResponse())))
        .build()
        .withFallback(RejectionHandler.defaultHandler().mapRejectionResponse(HttpApi::asProblem));
  }

  /** Pekko's own rejection responses (405, 415, ...) re-worded as problems. */
  private static HttpResponse asProblem(HttpResponse r) {
    if (r.entity().getContentType().equals(Problem.PROBLEM_JSON)) {
      return r;
    }
    String detail = r.entity() instanceof HttpEntity.Strict s
        ? s.getData().utf8String()
        : r.status().reason();
    return r.withEntity(HttpEntities.create(Problem.PROBLEM_JSON,
        Json.bytes(Problem.ofStatus(r.status(), detail).toJson())));
  }

  void wake(Set<Integer> partitions) {
    if (partitions.isEmpty()) {
      return;
    }
    try {
      ctx.onSubmitted().accept(partitions);
    } catch (RuntimeException e) {
      // The jobs are stored; a Reconciler that is not woken finds them at its next poll.
      LOG.warn("Could not wake the Reconcilers of partitions [{}]", partitions, e);
    }
  }

  static HttpResponse json(StatusCode status, JsonNode body) {
    return HttpResponse.create().withStatus(status)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, Json.bytes(body)));
  }

  /** A parameter's value; empty counts as absent ({@code ?queue=&state=} lists everything). */
  static String one(Map<String, List<String>> params, String name) {
    List<String> v = params.get(name);
    return v == null || v.isEmpty() || v.get(0).isEmpty() ? null : v.get(0);
  }

  private static Throwable unwrap(Throwable t) {
    Throwable e = t;
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  private static <T extends Throwable> T causeOf(Throwable t, Class<T> type) {
    for (Throwable e = t; e != null; e = e.getCause()) {
      if (type.isInstance(e)) {
        return type.cast(e);
      }
    }
    return null;
  }
}
