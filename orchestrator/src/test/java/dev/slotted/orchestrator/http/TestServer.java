package dev.slotted.orchestrator.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.slotted.orchestrator.config.Settings;
import dev.slotted.orchestrator.metrics.Metrics;
import dev.slotted.orchestrator.schedule.ScheduleJournal;
import dev.slotted.orchestrator.schedule.ScheduleSettings;
import dev.slotted.orchestrator.schedule.Schedules;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.QueueCounts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.ServerBinding;

/** A real HTTP API on a random port of 127.0.0.1, over the given store, for tests. */
public final class TestServer implements AutoCloseable {
  /** Queues every test server configures (max-payload 2 KiB, max-body 64 KiB). */
  public static final String CONFIG = """
      slotted {
        http { host = "127.0.0.1", port = 0, auth-token = "" }
        limits { max-payload = 2048, max-body = 65536 }
        queues {
          reports { handler = noop, max-attempts = 3, timeout = 1h }
          demo { handler = noop, retry { policy = fixed, delay = 2s } }
          paging { handler = noop }
          dlq { handler = noop, max-attempts = 1 }
          cli { handler = noop }
          empty { handler = noop }
        }
      }
      """;

  public static final RunnerView RUNNER = new RunnerView("host-a-17", 0, 2, true, Duration.ofSeconds(1),
      Duration.ofMillis(20), Duration.ofMillis(480), List.of(0, 2, 4), 12, 3, 40, 7);

  public final ActorTestKit kit;
  public final JobStore store;
  public final Settings settings;
  public final Path logDir;
  public final URI base;
  /** Partitions the API asked to wake, in order. */
  public final List<Set<Integer>> woken;
  /** Null unless started with {@link #startWithSchedules}. */
  public final Schedules schedules;
  private final ServerBinding binding;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private TestServer(ActorTestKit kit, JobStore store, Settings settings, Path logDir, ServerBinding binding,
      List<Set<Integer>> woken, Schedules schedules) {
    this.woken = woken;
    this.schedules = schedules;
    this.kit = kit;
    this.store = store;
    this.settings = settings;
    this.logDir = logDir;
    this.binding = binding;
    this.base = URI.create("http://127.0.0.1:" + binding.localAddress().getPort());
  }

  /** Starts a server; {@code extraHocon} overrides {@link #CONFIG}. */
  public static TestServer start(Path dir, String extraHocon, Function<Settings, JobStore> storeFactory) throws Exception {
    return start(dir, extraHocon, storeFactory, false);
  }

  /** A server whose schedules journal to {@code dir/journal.db} (nothing fires them: no runner). */
  public static TestServer startWithSchedules(Path dir, String extraHocon, Function<Settings, JobStore> storeFactory)
      throws Exception {
    return start(dir, extraHocon, storeFactory, true);
  }

  private static TestServer start(Path dir, String extraHocon, Function<Settings, JobStore> storeFactory,
      boolean withSchedules) throws Exception {
    Config config = ConfigFactory.parseString(extraHocon)
        .withFallback(ConfigFactory.parseString(CONFIG))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
    Settings settings = Settings.fromConfig(config);
    JobStore store = storeFactory.apply(settings);
    Path logDir = dir.resolve("logs");
    List<Set<Integer>> woken = new CopyOnWriteArrayList<>();
    ActorTestKit kit;
    Schedules schedules = null;
    if (withSchedules) {
      Path journal = dir.resolve("journal.db");
      ScheduleJournal.ensureSchema(journal);
      Config full = ScheduleJournal.configFor(journal, ConfigFactory.parseString("pekko.loglevel = WARNING")
          .withFallback(config));
      kit = ActorTestKit.create("api", full);
      schedules = Schedules.start(kit.system(), ScheduleSettings.fromConfig(full), settings, Clock.systemUTC());
    } else {
      kit = ActorTestKit.create();
    }
    ApiContext ctx = new ApiContext(store, settings, Clock.systemUTC(), woken::add,
        () -> CompletableFuture.completedFuture(List.of(RUNNER)),
        () -> "# TYPE slotted_jobs_submitted_total counter\nslotted_jobs_submitted_total{queue=\"reports\"} 1\n",
        logDir, schedules, Metrics.noop());
    ServerBinding binding = HttpApi.start(kit.system(), ctx).toCompletableFuture().get(10, TimeUnit.SECONDS);
    return new TestServer(kit, store, settings, logDir, binding, woken, schedules);
  }

  public HttpResponse<String> get(String path, String... headers) throws Exception {
    return send(HttpRequest.newBuilder(base.resolve(path)).GET(), headers);
  }

  public HttpResponse<String> put(String path, String body, String... headers) throws Exception {
    return send(HttpRequest.newBuilder(base.resolve(path))
        .header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(body)), headers);
  }

  public HttpResponse<String> delete(String path, String... headers) throws Exception {
    return send(HttpRequest.newBuilder(base.resolve(path)).DELETE(), headers);
  }

  public HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    return send(HttpRequest.newBuilder(base.resolve(path))
        .header("Content-Type", "application/json")
        .POST(body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)), headers);
  }

  public HttpResponse<String> send(HttpRequest.Builder b, String... headers) throws Exception {
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
  }

  public static JsonNode json(HttpResponse<String> r) throws Exception {
    return Json.MAPPER.readTree(r.body());
  }

  /** Every job in the store, any state. */
  public long countJobs() throws Exception {
    List<QueueCounts> counts = store.queueCounts(java.time.Instant.now()).toCompletableFuture().get(10, TimeUnit.SECONDS);
    return counts.stream()
        .mapToLong(c -> c.scheduled() + c.ready() + c.running() + c.succeeded() + c.dead() + c.cancelled())
        .sum();
  }

  @Override
  public void close() throws Exception {
    try {
      binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      kit.shutdownTestKit();
      store.close();
      if (schedules != null) {
        schedules.close();
      }
    }
  }
}
