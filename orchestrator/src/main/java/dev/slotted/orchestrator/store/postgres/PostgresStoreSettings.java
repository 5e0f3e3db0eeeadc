package dev.slotted.orchestrator.store.postgres;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the PostgreSQL job store, read once from {@code slotted.store.postgres.*}, {@code
 * slotted.partitions} and {@code slotted.limits.max-payload}.
 *
 * @param url the JDBC URL, {@code jdbc:postgresql://host:port/database}
 * @param user the database user; empty when the URL carries it
 * @param password the password; empty when the URL carries it or none is needed
 * @param poolSize HikariCP connections (keep equal to the store dispatcher's threads)
 * @param schema the schema holding the tables, created when missing
 * @param connectPatience how long opening keeps retrying an unreachable server
 */
public record PostgresStoreSettings(
    String url,
    String user,
    String password,
    int poolSize,
    String schema,
    Duration connectPatience,
    int partitions,
    int maxPayloadBytes) {

  private static final String BASE = "slotted.store.postgres.";

  public PostgresStoreSettings {
    Objects.requireNonNull(url, "url");
    user = user == null ? "" : user;
    password = password == null ? "" : password;
    if (!url.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException("url must start with jdbc:postgresql:, got " + url);
    }
    if (poolSize < 1 || poolSize > 256) {
      throw new IllegalArgumentException("pool-size must be between 1 and 256, got " + poolSize);
    }
    if (!schema.matches("[a-z_][a-z0-9_]{0,62}")) {
      throw new IllegalArgumentException("schema must match [a-z_][a-z0-9_]{0,62}, got " + schema);
    }
    if (partitions < 1 || partitions > 4096) {
      throw new IllegalArgumentException("partitions must be between 1 and 4096, got " + partitions);
    }
  }

  /** Defaults for a database at {@code url} (credentials in the URL or none). */
  public static PostgresStoreSettings defaults(String url, String schema) {
    return new PostgresStoreSettings(url, "", "", 4, schema, Duration.ofSeconds(60), 16, 256 * 1024);
  }

  public PostgresStoreSettings withPartitions(int p) {
    return new PostgresStoreSettings(url, user, password, poolSize, schema, connectPatience, p, maxPayloadBytes);
  }

  public PostgresStoreSettings withMaxPayloadBytes(int max) {
    return new PostgresStoreSettings(url, user, password, poolSize, schema, connectPatience, partitions, max);
  }

  public PostgresStoreSettings withPoolSize(int n) {
    return new PostgresStoreSettings(url, user, password, n, schema, connectPatience, partitions, maxPayloadBytes);
  }

  public PostgresStoreSettings withConnectPatience(Duration d) {
    return new PostgresStoreSettings(url, user, password, poolSize, schema, d, partitions, maxPayloadBytes);
  }

  /** Reads and checks the settings; a bad value throws {@link ConfigException.BadValue} naming the key. */
  public static PostgresStoreSettings fromConfig(Config root) {
    String url = root.getString(BASE + "url").trim();
    if (!url.startsWith("jdbc:postgresql://")) {
      throw new ConfigException.BadValue(BASE + "url",
          "'" + url + "': expected jdbc:postgresql://host:port/database");
    }
    int pool = root.getInt(BASE + "pool-size");
    if (pool < 1 || pool > 256) {
      throw new ConfigException.BadValue(BASE + "pool-size", pool + ": must be between 1 and 256");
    }
    String schema = root.getString(BASE + "schema").trim();
    if (!schema.matches("[a-z_][a-z0-9_]{0,62}")) {
      throw new ConfigException.BadValue(BASE + "schema",
          "'" + schema + "': must be a lower-case SQL name ([a-z_][a-z0-9_]*, at most 63 characters)");
    }
    Duration patience = root.getDuration(BASE + "connect-patience");
    if (patience.isNegative()) {
      throw new ConfigException.BadValue(BASE + "connect-patience", patience + ": must not be negative");
    }
    int partitions = root.getInt("slotted.partitions");
    if (partitions < 1 || partitions > 4096) {
      throw new ConfigException.BadValue("slotted.partitions", partitions + ": must be between 1 and 4096");
    }
    int maxPayload = root.getInt("slotted.limits.max-payload");
    if (maxPayload < 1) {
      throw new ConfigException.BadValue("slotted.limits.max-payload", maxPayload + ": must be positive");
    }
    return new PostgresStoreSettings(url, root.getString(BASE + "user"), root.getString(BASE + "password"), pool,
        schema, patience, partitions, maxPayload);
  }

  @Override
  public String toString() {
    return "PostgresStoreSettings[url=" + url + ", user=" + user + ", password=" + (password.isEmpty() ? "" : "***")
        + ", poolSize=" + poolSize + ", schema=" + schema + ", partitions=" + partitions + "]";
  }
}
