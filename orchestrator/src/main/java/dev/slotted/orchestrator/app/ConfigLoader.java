package dev.slotted.orchestrator.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import dev.slotted.orchestrator.config.ConfigError;
import java.io.File;

/**
 * Loads the configuration: system properties ({@code -Dslotted.x=y}) over the given file (or the
 * installation's {@code conf/application.conf}) over every module's {@code reference.conf}.
 */
public final class ConfigLoader {
  private ConfigLoader() {}

  public static Config load(File file) {
    File f = file;
    if (f == null) {
      String home = System.getProperty("slotted.home");
      File candidate = new File(home == null ? "." : home, "conf/application.conf");
      f = candidate.isFile() ? candidate : null;
    } else if (!f.isFile()) {
      throw new ConfigError("-c", f.getPath(), "no such configuration file");
    }
    Config app = f == null
        ? ConfigFactory.empty()
        : ConfigFactory.parseFile(f, ConfigParseOptions.defaults().setAllowMissing(false));
    ConfigFactory.invalidateCaches();
    return ConfigFactory.load(withOverrides(app));
  }

  /**
   * {@code config} over Slotted's settings of Pekko and plugin keys ({@code
   * slotted-overrides.conf}), which must win over every library's reference.conf.
   */
  public static Config withOverrides(Config config) {
    return config.withFallback(ConfigFactory.parseResources(ConfigLoader.class.getClassLoader(), "slotted-overrides.conf"));
  }
}
