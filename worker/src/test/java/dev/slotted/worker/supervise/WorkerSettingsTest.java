package dev.slotted.worker.supervise;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.junit.jupiter.api.Test;

class WorkerSettingsTest {
  private static final String BASE =
      """
      slotted.workers {
        capacity = 8
        log-dir = "data/logs"
        log-tail-chars = 100
        restart { min-backoff = 100ms, max-backoff = 2s, random-factor = 0.1 }
      }
      slotted.queue-defaults { concurrency = 0, timeout = 1h }
      slotted.queues {
        reports { handler = noop, concurrency = 2, timeout = 5m }
        demo.handler = sleep
      }
      """;

  private static Config config(String extra) {
    return ConfigFactory.parseString(extra)
        .withFallback(ConfigFactory.parseString(BASE))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  @Test
  void readsWorkersAndQueueLimits() {
    WorkerSettings s = WorkerSettings.fromConfig(config(""));
    assertThat(s.capacity()).isEqualTo(8);
    assertThat(s.logDir()).isEqualTo(Path.of("data/logs"));
    assertThat(s.logTailChars()).isEqualTo(100);
    assertThat(s.minBackoff()).isEqualTo(Duration.ofMillis(100));
    assertThat(s.maxBackoff()).isEqualTo(Duration.ofSeconds(2));
    assertThat(s.pidDir()).isEqualTo(Path.of("data/pids"));
    assertThat(s.stopTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.dispatcher()).isEqualTo(DispatcherSelector.fromConfig("slotted.workers.dispatcher"));
    assertThat(s.concurrency("reports")).isEqualTo(2);
    assertThat(s.timeout("reports")).isEqualTo(Duration.ofMinutes(5));
    assertThat(s.concurrency("demo")).isZero();
    assertThat(s.timeout("demo")).isEqualTo(Duration.ofHours(1));
    assertThat(s.timeout("unlisted")).isEqualTo(Duration.ofHours(1));
  }

  @Test
  void invalidValuesFailNamingTheKey() {
    assertThatThrownBy(() -> WorkerSettings.fromConfig(config("slotted.workers.capacity = -1")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("slotted.workers.capacity");
    assertThatThrownBy(() -> WorkerSettings.fromConfig(config("slotted.queues.reports.concurrency = -1")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("slotted.queues.reports.concurrency");
    assertThatThrownBy(() -> WorkerSettings.fromConfig(config("slotted.workers.restart.max-backoff = 10ms")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("slotted.workers.restart.max-backoff");
    assertThatThrownBy(() -> WorkerSettings.fromConfig(config("slotted.queues.demo.timeout = 0s")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("slotted.queues.demo.timeout");
  }
}
