package dev.slotted.orchestrator.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.slotted.orchestrator.config.ConfigError;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.postgres.TestPostgres;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/** {@code slotted.store.kind = postgres}: every bad setting is a ConfigError (exit 2) naming its key. */
class StoreFactoryTest {
  private static Config with(String hocon) {
    return ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()).resolve();
  }

  @Test
  void badPostgresSettingsNameTheirKey() {
    assertThatThrownBy(() -> StoreFactory.fromConfig(with("slotted.store.postgres.url = \"postgres://x\""), "postgres"))
        .isInstanceOf(ConfigError.class).hasMessageContaining("slotted.store.postgres.url");
    assertThatThrownBy(() -> StoreFactory.fromConfig(with("slotted.store.postgres.pool-size = 0"), "postgres"))
        .isInstanceOf(ConfigError.class).hasMessageContaining("slotted.store.postgres.pool-size");
    assertThatThrownBy(() -> StoreFactory.fromConfig(with("slotted.store.postgres.schema = \"Bad-Name\""), "postgres"))
        .isInstanceOf(ConfigError.class).hasMessageContaining("slotted.store.postgres.schema");
  }

  @Test
  void aPasswordTheServerRefusesIsAConfigErrorNamingThePassword() {
    String url = TestPostgres.url();
    String base = url.substring(0, url.indexOf('?'));
    StoreFactory f = StoreFactory.fromConfig(with("slotted.store.postgres { url = \"" + base
        + "\", user = slotted, password = wrong, connect-patience = 2s }"), "postgres");
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      assertThatThrownBy(() -> f.open(pool, java.time.Clock.systemUTC()))
          .isInstanceOf(ConfigError.class)
          .hasMessageContaining("slotted.store.postgres.password")
          .hasMessageNotContaining("wrong");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theRightSettingsOpenAPostgresStore() {
    String url = TestPostgres.url();
    StoreFactory f = StoreFactory.fromConfig(with("slotted.store.postgres { url = \"" + url + "\", user = \"\", schema = "
        + TestPostgres.freshSchema("factory") + " }"), "postgres");
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (JobStore store = f.open(pool, java.time.Clock.systemUTC())) {
      assertThat(store.partitions()).isEqualTo(16);
      assertThat(f.describe()).startsWith("postgres jdbc:postgresql://").doesNotContain("password");
    } finally {
      pool.shutdownNow();
    }
  }
}
