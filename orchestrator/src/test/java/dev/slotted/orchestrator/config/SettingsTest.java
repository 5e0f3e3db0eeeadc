package dev.slotted.orchestrator.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.slotted.protocol.RetryPolicy;
import java.io.File;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SettingsTest {

  private static Config with(String hocon) {
    return ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()).resolve();
  }

  @Test
  void defaultsAreValid() {
    Settings s = Settings.fromConfig(with(""));
    assertThat(s.partitions()).isEqualTo(16);
    assertThat(s.tdma().cycle()).isEqualTo(Duration.ofSeconds(1));
    assertThat(s.http().port()).isEqualTo(8080);
    assertThat(s.nodeId()).isNotBlank();
  }

  @Test
  void deployConfigurationParses() {
    Config conf = ConfigFactory.parseFile(new File("../conf/application.conf"))
        .withFallback(ConfigFactory.defaultReference()).resolve();
    Settings s = Settings.fromConfig(conf);
    assertThat(s.queues()).containsKeys("demo", "noop", "echo");
    assertThat(s.queue("demo").retry()).isEqualTo(new RetryPolicy.Fixed(Duration.ofSeconds(2)));
    assertThat(s.queue("echo").handlerType()).isEqualTo("shell");
    assertThat(s.queue("echo").concurrency()).isEqualTo(4);
  }

  @Test
  void queueInheritsDefaults() {
    Settings s = Settings.fromConfig(with("slotted.queues.reports { handler = noop, max-attempts = 7 }"));
    QueueSettings q = s.queue("reports");
    assertThat(q.maxAttempts()).isEqualTo(7);
    assertThat(q.visibilityTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(q.retry()).isInstanceOf(RetryPolicy.Exponential.class);
  }

  @Test
  void guardTooLargeNamesTheKeyAndValue() {
    assertThatThrownBy(() -> Settings.fromConfig(with("slotted.tdma { cycle = 100ms, guard = 60ms }")))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("slotted.tdma.guard")
        .hasMessageContaining("60ms");
  }

  @Test
  void badValuesNameTheKey() {
    assertThatThrownBy(() -> Settings.fromConfig(with("slotted.partitions = 0")))
        .hasMessageContaining("slotted.partitions");
    assertThatThrownBy(() -> Settings.fromConfig(with("slotted.tdma.cycle = banana")))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("cycle");
    assertThatThrownBy(() -> Settings.fromConfig(with("slotted.queues.x { handler = noop, max-attempts = 0 }")))
        .hasMessageContaining("slotted.queues.x.max-attempts");
    assertThatThrownBy(() -> Settings.fromConfig(with("slotted.queues.Bad { handler = noop }")))
        .hasMessageContaining("slotted.queues.Bad");
    assertThatThrownBy(() -> Settings.fromConfig(with("slotted.queues.x { handler { command = [a] } }")))
        .hasMessageContaining("slotted.queues.x.handler.type");
    assertThatThrownBy(() -> Settings.fromConfig(with("slotted.queues.x { handler = noop, retry { policy = random } }")))
        .hasMessageContaining("slotted.queues.x.retry.policy");
    assertThatThrownBy(() -> Settings.fromConfig(with("slotted.tdma { runner-count = 2, runner-index = 2 }")))
        .hasMessageContaining("slotted.tdma.runner-index");
    assertThatThrownBy(() -> Settings.fromConfig(with("slotted.store.kind = mysql")))
        .hasMessageContaining("slotted.store.kind");
  }

  @Test
  void aQueueTimeoutMustPassTheJobTimeoutRule() {
    // Issue 9: it fills every job that gives none, and such a job would be refused.
    assertThatThrownBy(() -> Settings.fromConfig(with("slotted.queues.x { handler = noop, timeout = 31d }")))
        .isInstanceOf(ConfigError.class).hasMessageContaining("slotted.queues.x.timeout");
    assertThatThrownBy(() -> Settings.fromConfig(with("slotted.queues.x { handler = noop, timeout = 100us }")))
        .isInstanceOf(ConfigError.class).hasMessageContaining("slotted.queues.x.timeout");
  }
}
