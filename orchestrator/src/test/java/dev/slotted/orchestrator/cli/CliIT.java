package dev.slotted.orchestrator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.slotted.orchestrator.http.TestServer;
import dev.slotted.orchestrator.http.TestStores;
import java.io.File;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar's client commands as real processes against a real server. */
class CliIT {
  @TempDir static Path dir;
  static TestServer server;
  static Path jar;

  record Result(int exit, String out, String err) {}

  @BeforeAll
  static void start() throws Exception {
    String prop = System.getProperty("slotted.jar");
    assertThat(prop).as("system property slotted.jar (set by failsafe)").isNotBlank();
    jar = Path.of(prop);
    assertThat(jar).exists();
    server = TestServer.start(dir, "", TestStores.sqlite(dir));
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  static Result slotted(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        // A short-lived client: C1 only starts faster on a busy machine.
        "-XX:TieredStopAtLevel=1", "-jar", jar.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
    pb.environment().remove("SLOTTED_SERVER");
    pb.environment().remove("SLOTTED_AUTH_TOKEN");
    pb.environment().putAll(env);
    File out = dir.resolve("out-" + System.nanoTime()).toFile();
    File err = dir.resolve("err-" + System.nanoTime()).toFile();
    Process p = pb.redirectOutput(out).redirectError(err).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("slotted " + String.join(" ", args) + " did not finish in 60s");
    }
    return new Result(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8),
        Files.readString(err.toPath(), StandardCharsets.UTF_8));
  }

  @Test
  void submitThenJobThenJobsJsonAsRealProcesses() throws Exception {
    String server = "--server=" + CliIT.server.base;
    Result submit = slotted(Map.of(), "submit", "cli", "--payload", "{\"day\": \"2026-11-21\"}", "--key", "it-1", server);
    assertThat(submit.exit()).as(submit.err()).isZero();
    assertThat(submit.out()).startsWith("Submitted job ").contains(" to cli (ready)");
    String id = submit.out().split(" ")[2];

    Result job = slotted(Map.of(), "job", id, server);
    assertThat(job.exit()).as(job.err()).isZero();
    assertThat(job.out()).containsPattern("(?m)^id:\\s+" + id + "$")
        .containsPattern("(?m)^payload:\\s+\\{\"day\":\"2026-11-21\"\\}$")
        .contains("No attempts yet.");

    // The server address from the environment this time.
    Result jobs = slotted(Map.of("SLOTTED_SERVER", CliIT.server.base.toString()), "jobs", "--json", "--queue", "cli");
    assertThat(jobs.exit()).as(jobs.err()).isZero();
    JsonNode page = new ObjectMapper().readTree(jobs.out());
    assertThat(page.get("items")).extracting(j -> j.get("id").asText()).contains(id);
  }

  @Test
  void noServerIsAPlainMessageAndExit1() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Result r = slotted(Map.of(), "queues", "--server", "http://127.0.0.1:" + port);
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().strip()).isEqualTo("slotted: no server at http://127.0.0.1:" + port
        + " (connection refused). Start one with ./slotted serve, or point --server / SLOTTED_SERVER at it.");
  }
}
