package dev.slotted.orchestrator.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.orchestrator.cli.SlottedCommand;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.StoreException;
import java.lang.reflect.Proxy;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bearer token, and what a client sees when the store fails. */
class HttpApiAuthAndFailureTest {
  static final String TOKEN = "s3cret-token";
  @TempDir static Path dir;
  static TestServer server;

  /** A store whose reads fail like a broken disk, and whose job list fails like a bug. */
  static JobStore failingStore() {
    return (JobStore) Proxy.newProxyInstance(JobStore.class.getClassLoader(), new Class<?>[] {JobStore.class},
        (proxy, method, args) -> {
          if (method.getName().equals("close")) {
            return null;
          }
          if (method.getName().equals("partitions")) {
            return 16;
          }
          if (CompletionStage.class.isAssignableFrom(method.getReturnType())) {
            return CompletableFuture.failedFuture(method.getName().equals("list")
                ? new IllegalStateException("bug in /srv/secret/list.java")
                : new StoreException("disk I/O error on /srv/secret/slotted.db"));
          }
          throw new UnsupportedOperationException(method.getName());
        });
  }

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(dir, "slotted.http.auth-token = \"" + TOKEN + "\"", s -> failingStore());
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void apiCallsWithoutTheTokenAre401() throws Exception {
    for (HttpResponse<String> r : java.util.List.of(
        server.get("/api/v1/jobs/1"),
        server.get("/api/v1/queues", "Authorization", "Bearer wrong"),
        server.get("/api/v1/queues", "Authorization", TOKEN),
        server.post("/api/v1/jobs", "{\"queue\": \"demo\"}"),
        server.get("/api/v1/no-such-route"))) {
      assertThat(r.statusCode()).isEqualTo(401);
      HttpApiTest.assertProblem(r, 401);
      assertThat(r.headers().firstValue("WWW-Authenticate").orElse("")).startsWith("Bearer");
    }
  }

  @Test
  void theTokenLetsTheCallThrough() throws Exception {
    HttpResponse<String> r = server.get("/api/v1/runners", "Authorization", "Bearer " + TOKEN);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(server.get("/metrics").statusCode()).as("metrics are outside /api").isEqualTo(200);
  }

  @Test
  void cliSendsTheTokenAndExplainsA401() {
    String url = "--server=" + server.base;
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine ok = SlottedCommand.commandLine();
    ok.setOut(new java.io.PrintWriter(out, true));
    ok.setErr(new java.io.PrintWriter(err, true));
    assertThat(ok.execute("runners", url, "--token", TOKEN)).as(err.toString()).isZero();
    assertThat(out.toString()).contains("host-a-17");

    assertThat(ok.execute("runners", url)).isEqualTo(1);
    assertThat(err.toString()).contains("401").contains("SLOTTED_AUTH_TOKEN");

    err.getBuffer().setLength(0);
    assertThat(ok.execute("job", "1", url, "--token", TOKEN)).as("a store failure").isEqualTo(1);
    assertThat(err.toString()).contains("503").doesNotContain("/srv/secret");
  }

  @Test
  void storeFailureIs503ProblemWithoutInternals() throws Exception {
    HttpResponse<String> r = server.get("/api/v1/jobs/1", "Authorization", "Bearer " + TOKEN);
    assertThat(r.statusCode()).isEqualTo(503);
    HttpApiTest.assertProblem(r, 503);
    assertThat(r.body()).doesNotContain("/srv/secret", "Exception", "\tat ");

    HttpResponse<String> submit = server.post("/api/v1/jobs", "{\"queue\": \"demo\"}", "Authorization", "Bearer " + TOKEN);
    assertThat(submit.statusCode()).isEqualTo(503);
    assertThat(server.woken).isEmpty();
  }

  @Test
  void unexpectedFailureIs500ProblemWithoutInternals() throws Exception {
    HttpResponse<String> r = server.get("/api/v1/jobs", "Authorization", "Bearer " + TOKEN);
    assertThat(r.statusCode()).isEqualTo(500);
    HttpApiTest.assertProblem(r, 500);
    assertThat(r.body()).doesNotContain("/srv/secret", "Exception", "\tat ");
  }
}
