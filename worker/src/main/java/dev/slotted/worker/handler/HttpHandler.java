package dev.slotted.worker.handler;

import dev.slotted.worker.JobContext;
import dev.slotted.worker.AsyncJobHandler;
import dev.slotted.worker.JobResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * Sends the payload to a configured URL (java.net.http). 2xx succeeds; 408, 429, 5xx and
 * connection errors are retryable; any other 4xx is not. The attempt's identity travels in headers
 * ({@code Idempotency-Key}, {@code X-Slotted-Job-Id}, {@code X-Slotted-Attempt}, {@code
 * X-Slotted-Lease-Token}) so the receiver can deduplicate. The request is asynchronous: a waiting
 * attempt holds no thread.
 */
public final class HttpHandler implements AsyncJobHandler {

  /** The handler's configuration (already validated). */
  public record Settings(URI url, String method, Map<String, String> headers, Duration timeout) {
    public Settings {
      Objects.requireNonNull(url, "url");
      method = method.toUpperCase(Locale.ROOT);
      headers = Map.copyOf(headers);
    }
  }

  private final Settings settings;
  private final HttpClient client;

  public HttpHandler(Settings settings, HttpClient client) {
    this.settings = settings;
    this.client = client;
  }

  public Settings settings() {
    return settings;
  }

  @Override
  public CompletionStage<JobResult> runAsync(JobContext ctx) {
    HttpRequest request = request(ctx);
    CompletableFuture<HttpResponse<String>> call =
        client.sendAsync(request, HttpResponse.BodyHandlers.ofString());
    ctx.cancellation().onCancel(() -> call.cancel(true));
    return call.handle((response, error) -> outcome(ctx, response, error));
  }

  private JobResult outcome(JobContext ctx, HttpResponse<String> response, Throwable error) {
    if (ctx.isCancelled() && (error != null || response == null)) {
      // Runs on the cancelling thread: no IO here.
      return JobResult.retryableFailure(
          "request cancelled (" + ctx.cancellation().reason().orElseThrow() + ")");
    }
    try {
      if (error != null) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        String msg = settings.method() + " " + settings.url() + ": " + describe(cause);
        writeLog(ctx, msg + "\n");
        return new JobResult.Failure(true, msg, null, ctx.logTail());
      }
      int status = response.statusCode();
      writeLog(
          ctx,
          settings.method() + " " + settings.url() + " -> " + status + "\n"
              + (response.body() == null ? "" : response.body()));
      String tail = ctx.logTail();
      if (status >= 200 && status < 300) {
        return JobResult.success(null, tail);
      }
      return new JobResult.Failure(retryable(status), "HTTP " + status, null, tail);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the attempt log " + ctx.logFile(), e);
    }
  }

  /** 408, 429 and 5xx may pass on a later attempt; other 4xx will not. */
  static boolean retryable(int status) {
    if (status == 408 || status == 429) {
      return true;
    }
    return status < 400 || status >= 500;
  }

  private HttpRequest request(JobContext ctx) {
    String m = settings.method();
    HttpRequest.BodyPublisher body =
        m.equals("GET") || m.equals("HEAD") || m.equals("DELETE")
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(ctx.payload() == null ? "null" : ctx.payload());
    HttpRequest.Builder b = HttpRequest.newBuilder(settings.url()).method(m, body);
    if (settings.timeout() != null) {
      b.timeout(settings.timeout());
    }
    boolean contentType = false;
    for (Map.Entry<String, String> h : settings.headers().entrySet()) {
      b.header(h.getKey(), h.getValue());
      contentType |= h.getKey().equalsIgnoreCase("Content-Type");
    }
    if (!contentType) {
      b.header("Content-Type", "application/json");
    }
    if (ctx.idempotencyKey() != null) {
      b.header("Idempotency-Key", ctx.idempotencyKey());
    }
    b.header("X-Slotted-Job-Id", ctx.jobId());
    b.header("X-Slotted-Attempt", Integer.toString(ctx.attempt()));
    b.header("X-Slotted-Lease-Token", ctx.leaseToken());
    return b.build();
  }

  private static void writeLog(JobContext ctx, String text) throws IOException {
    Writer w = ctx.log();
    w.write(text);
    w.flush();
  }

  private static String describe(Throwable t) {
    String msg = t.getMessage();
    String name = t.getClass().getSimpleName();
    return msg == null || msg.isBlank() ? name : name + ": " + msg;
  }
}
