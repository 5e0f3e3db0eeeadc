package dev.slotted.worker.handler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dev.slotted.worker.JobContext;
import dev.slotted.worker.JobHandler;
import dev.slotted.worker.JobResult;
import dev.slotted.worker.process.PidRegistry;
import dev.slotted.worker.testing.Jobs;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HandlerRegistryTest {
  @TempDir Path dir;

  private static Config config(String queues) {
    return ConfigFactory.parseString("slotted.queues {" + queues + "}")
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  private static HandlerRegistry registry(String queues) {
    return HandlerRegistry.fromConfig(config(queues), PidRegistry.disabled());
  }

  private static void assertRejected(String queues, String key, String problem) {
    assertThatThrownBy(() -> registry(queues))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(key)
        .hasMessageContaining(problem);
  }

  @Test
  void buildsEveryHandlerTypeFromStringsAndObjects() {
    HandlerRegistry r =
        registry(
            """
            demo.handler = sleep
            bench.handler = noop
            "etl.daily".handler { type = shell, command = ["python3", "etl.py"], non-retryable-exit-codes = [2],
                                  env { MODE = fast, LEVEL = 3 } }
            hooks.handler { type = http, url = "http://127.0.0.1:9/hook", method = put, headers { X-A = b } }
            custom.handler { type = java, class = "dev.slotted.worker.handler.EchoHandler" }
            """);
    assertThat(r.queues()).containsExactly("bench", "custom", "demo", "etl.daily", "hooks");
    assertThat(r.handler("demo")).isInstanceOf(SleepHandler.class);
    assertThat(r.handler("bench")).isInstanceOf(NoopHandler.class);
    assertThat(r.handler("custom")).isInstanceOf(EchoHandler.class);
    assertThat(r.handler("nope")).isNull();

    ShellHandler.Settings shell = ((ShellHandler) r.handler("etl.daily")).settings();
    assertThat(shell.command()).containsExactly("python3", "etl.py");
    assertThat(shell.nonRetryableExitCodes()).containsExactly(2);
    assertThat(shell.env()).containsExactlyInAnyOrderEntriesOf(Map.of("MODE", "fast", "LEVEL", "3"));
    assertThat(shell.killGrace()).isEqualTo(Duration.ofSeconds(10));
    assertThat(shell.workdir()).isNull();

    HttpHandler.Settings http = ((HttpHandler) r.handler("hooks")).settings();
    assertThat(http.url()).isEqualTo(URI.create("http://127.0.0.1:9/hook"));
    assertThat(http.method()).isEqualTo("PUT");
    assertThat(http.headers()).containsExactly(Map.entry("X-A", "b"));
    assertThat(http.timeout()).isNull();
  }

  @Test
  void javaHandlerByClassNameRunsAndMayTakeItsConfig() throws Exception {
    HandlerRegistry r =
        registry(
            """
            echo.handler { type = java, class = "dev.slotted.worker.handler.EchoHandler" }
            greet.handler { type = java, class = "dev.slotted.worker.handler.GreetingHandler", greeting = hello }
            """);
    JobContext ctx = Jobs.context(Jobs.job("echo", "{\"x\":1}"), dir);
    assertThat(r.handler("echo").run(ctx)).isInstanceOf(JobResult.Success.class);
    ctx.closeLog();
    assertThat(Files.readString(ctx.logFile())).isEqualTo("echo {\"x\":1}");
    JobContext g = Jobs.context(Jobs.job("greet", "{}"), dir);
    assertThat(r.handler("greet").run(g).logTail()).isEqualTo("hello " + g.jobId());
  }

  @Test
  void handlersRegisteredInCodeNeedNoConfiguration() {
    JobHandler mine = ctx -> JobResult.success();
    HandlerRegistry r =
        HandlerRegistry.fromConfig(
            config("mine { concurrency = 2 }, demo.handler = noop"), PidRegistry.disabled(),
            Map.of("mine", mine, "extra", mine));
    assertThat(r.handler("mine")).isSameAs(mine);
    assertThat(r.handler("extra")).isSameAs(mine);
    assertThat(r.queues()).containsExactly("demo", "extra", "mine");
  }

  @Test
  void badHandlerConfigurationFailsNamingTheKey() {
    assertRejected("reports { concurrency = 1 }", "slotted.queues.reports.handler", "No configuration");
    assertRejected("reports.handler { type = shell }", "slotted.queues.reports.handler.command", "");
    assertRejected("reports.handler { type = shell, command = [] }", "slotted.queues.reports.handler.command",
        "non-empty");
    assertRejected("reports.handler { type = shell, command = \"python3 x.py\" }",
        "slotted.queues.reports.handler.command", "LIST");
    assertRejected("reports.handler { type = shell, command = [a], comand = [b] }",
        "slotted.queues.reports.handler.comand", "unknown key");
    assertRejected("reports.handler { type = shell, command = [a], workdir = \"/nonexistent/dir\" }",
        "slotted.queues.reports.handler.workdir", "not a directory");
    assertRejected("reports.handler { type = shell, command = [a], non-retryable-exit-codes = [0] }",
        "slotted.queues.reports.handler.non-retryable-exit-codes", "1..255");
    assertRejected("reports.handler { type = shell, command = [a], kill-grace = soon }",
        "slotted.queues.reports.handler.kill-grace", "");
    assertRejected("reports.handler = cron", "slotted.queues.reports.handler", "unknown handler type 'cron'");
    assertRejected("reports.handler { command = [a] }", "slotted.queues.reports.handler.type", "");
    assertRejected("reports.handler { type = http }", "slotted.queues.reports.handler.url", "");
    assertRejected("reports.handler { type = http, url = \"ftp://x/y\" }", "slotted.queues.reports.handler.url",
        "http");
    assertRejected("reports.handler { type = http, url = \"http://x/y\", method = BREW }",
        "slotted.queues.reports.handler.method", "BREW");
    assertRejected("reports.handler { type = java, class = com.acme.Missing }",
        "slotted.queues.reports.handler.class", "cannot load");
    assertRejected("reports.handler { type = java, class = java.lang.String }",
        "slotted.queues.reports.handler.class", "does not implement");
    assertRejected("reports.handler { type = sleep, ms = 5 }", "slotted.queues.reports.handler.ms", "unknown key");
    assertRejected("Reports.handler = noop", "slotted.queues.Reports", "must match");
  }

  @Test
  void shellDefaultsComeFromReferenceConfAndCanBeOverridden() {
    HandlerRegistry r = registry("a.handler { type = shell, command = [x], kill-grace = 250ms, workdir = \""
        + dir + "\" }");
    ShellHandler.Settings s = ((ShellHandler) r.handler("a")).settings();
    assertThat(s.killGrace()).isEqualTo(Duration.ofMillis(250));
    assertThat(s.workdir()).isEqualTo(dir);
    assertThat(s.nonRetryableExitCodes()).isEqualTo(Set.of());
    assertThat(s.command()).isEqualTo(List.of("x"));
  }
}
