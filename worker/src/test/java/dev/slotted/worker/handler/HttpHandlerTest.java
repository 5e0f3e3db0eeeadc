package dev.slotted.worker.handler;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.worker.Cancellation;
import dev.slotted.worker.JobContext;
import dev.slotted.worker.JobResult;
import dev.slotted.worker.testing.Jobs;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The http handler against a real local server. */
class HttpHandlerTest {
  private static HttpServer server;
  private static final Map<String, String> received = new ConcurrentHashMap<>();
  private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir Path logDir;

  @BeforeAll
  static void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/slow", exchange -> {
      try {
        Thread.sleep(5_000);
        exchange.sendResponseHeaders(200, -1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        exchange.close();
      }
    });
    server.createContext("/", exchange -> {
      int status = Integer.parseInt(exchange.getRequestURI().getPath().substring(1));
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      received.put("body", body);
      received.put("method", exchange.getRequestMethod());
      received.put("lease", String.valueOf(exchange.getRequestHeaders().getFirst("X-Slotted-Lease-Token")));
      received.put("key", String.valueOf(exchange.getRequestHeaders().getFirst("Idempotency-Key")));
      received.put("custom", String.valueOf(exchange.getRequestHeaders().getFirst("X-Custom")));
      received.put("type", String.valueOf(exchange.getRequestHeaders().getFirst("Content-Type")));
      byte[] reply = ("status " + status).getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(status, reply.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(reply);
      }
    });
    server.start();
  }

  @AfterAll
  static void stop() {
    server.stop(0);
  }

  private HttpHandler handler(String url) {
    return new HttpHandler(
        new HttpHandler.Settings(URI.create(url), "post", Map.of("X-Custom", "yes"), Duration.ofSeconds(5)), CLIENT);
  }

  private String url(int status) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/" + status;
  }

  @Test
  void twoHundredSucceedsAndSendsThePayloadWithTheAttemptHeaders() throws Exception {
    ClaimedJob job = Jobs.job("hooks", "{\"n\":1}");
    JobResult r = handler(url(200)).run(Jobs.context(job, logDir));
    assertThat(r).isInstanceOf(JobResult.Success.class);
    assertThat(r.logTail()).contains("-> 200").contains("status 200");
    assertThat(received)
        .containsEntry("body", "{\"n\":1}")
        .containsEntry("method", "POST")
        .containsEntry("lease", job.leaseToken())
        .containsEntry("key", job.idempotencyKey())
        .containsEntry("custom", "yes")
        .containsEntry("type", "application/json");
    assertThat(Files.readString(logDir.resolve(job.id()).resolve("1.log"))).contains("-> 200");
  }

  @Test
  void statusCodesMapToRetryability() throws Exception {
    for (var c : List.of(Map.entry(404, false), Map.entry(400, false), Map.entry(429, true),
        Map.entry(503, true), Map.entry(500, true), Map.entry(408, true))) {
      JobResult r = handler(url(c.getKey())).run(Jobs.context(Jobs.job("hooks", "{}"), logDir));
      assertThat(r).as("HTTP %d", c.getKey()).isInstanceOfSatisfying(JobResult.Failure.class, f -> {
        assertThat(f.retryable()).as("HTTP %d retryable", c.getKey()).isEqualTo(c.getValue());
        assertThat(f.error()).isEqualTo("HTTP " + c.getKey());
      });
    }
  }

  @Test
  void aCancelAbortsTheRequest() throws Exception {
    JobContext ctx = Jobs.context(Jobs.job("hooks", "{}"), logDir);
    CompletableFuture<JobResult> r = handler(url(0).replace("/0", "/slow")).runAsync(ctx).toCompletableFuture();
    Thread.sleep(100);
    assertThat(r).isNotDone();
    ctx.cancellation().cancel(Cancellation.Reason.TIMEOUT);
    assertThat(r.get(2, TimeUnit.SECONDS)).isInstanceOfSatisfying(JobResult.Failure.class, f -> {
      assertThat(f.retryable()).isTrue();
      assertThat(f.error()).contains("cancelled").contains("TIMEOUT");
    });
  }

  @Test
  void connectionRefusedIsRetryable() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    JobResult r = handler("http://127.0.0.1:" + port + "/200").run(Jobs.context(Jobs.job("hooks", "{}"), logDir));
    assertThat(r).isInstanceOfSatisfying(JobResult.Failure.class, f -> {
      assertThat(f.retryable()).isTrue();
      assertThat(f.error()).contains("127.0.0.1:" + port).contains("ConnectException");
    });
  }
}
