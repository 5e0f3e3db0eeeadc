package dev.slotted.orchestrator.store.sqlite;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Settings of the SQLite job store, read once from {@code slotted.store.sqlite.*}, {@code
 * slotted.partitions} and {@code slotted.limits.max-payload}.
 *
 * @param synchronous PRAGMA synchronous: NORMAL or FULL
 * @param readPoolSize reader connections; there is always exactly one writer connection
 * @param busyBackoff the waits before each retry of a transaction that met SQLITE_BUSY
 * @param partitions the partition count used when this store creates the database
 * @param maxPayloadBytes the largest payload accepted at submit
 */
public record SqliteStoreSettings(
    Path path,
    String synchronous,
    int readPoolSize,
    List<Duration> busyBackoff,
    int partitions,
    int maxPayloadBytes) {

  public static final List<Duration> DEFAULT_BACKOFF =
      List.of(Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200));
  public static final int DEFAULT_MAX_PAYLOAD = 256 * 1024;

  public SqliteStoreSettings {
    Objects.requireNonNull(path, "path");
    busyBackoff = List.copyOf(busyBackoff);
    synchronous = checkSynchronous(synchronous, "synchronous");
    check(readPoolSize >= 1 && readPoolSize <= 64, "read-pool-size", readPoolSize, "must be between 1 and 64");
    for (Duration d : busyBackoff) {
      check(!d.isNegative() && d.compareTo(Duration.ofMinutes(1)) <= 0, "busy-backoff", busyBackoff,
          "each wait must be between 0 and 1m");
    }
    check(partitions >= 1 && partitions <= 4096, "partitions", partitions, "must be between 1 and 4096");
    check(maxPayloadBytes >= 1, "max-payload", maxPayloadBytes, "must be positive");
  }

  /** Defaults for a database at {@code path}: the values of reference.conf. */
  public static SqliteStoreSettings defaults(Path path) {
    return new SqliteStoreSettings(path, "NORMAL", 2, DEFAULT_BACKOFF, 16, DEFAULT_MAX_PAYLOAD);
  }

  public SqliteStoreSettings withPartitions(int p) {
    return new SqliteStoreSettings(path, synchronous, readPoolSize, busyBackoff, p, maxPayloadBytes);
  }

  public SqliteStoreSettings withBusyBackoff(List<Duration> backoff) {
    return new SqliteStoreSettings(path, synchronous, readPoolSize, backoff, partitions, maxPayloadBytes);
  }

  public SqliteStoreSettings withSynchronous(String s) {
    return new SqliteStoreSettings(path, s, readPoolSize, busyBackoff, partitions, maxPayloadBytes);
  }

  public SqliteStoreSettings withMaxPayloadBytes(int max) {
    return new SqliteStoreSettings(path, synchronous, readPoolSize, busyBackoff, partitions, max);
  }

  /**
   * Reads the settings from the root config. A bad value throws {@link ConfigException.BadValue},
   * whose message names the key and says what is wrong.
   */
  public static SqliteStoreSettings fromConfig(Config root) {
    String base = "slotted.store.sqlite.";
    String pathText = root.getString(base + "path");
    if (pathText.isBlank()) {
      throw new ConfigException.BadValue(base + "path", "must not be empty");
    }
    String sync = root.getString(base + "synchronous");
    try {
      sync = checkSynchronous(sync, "synchronous");
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(base + "synchronous", "'" + sync + "': expected NORMAL or FULL");
    }
    int readers = root.getInt(base + "read-pool-size");
    if (readers < 1 || readers > 64) {
      throw new ConfigException.BadValue(base + "read-pool-size", readers + ": must be between 1 and 64");
    }
    List<Duration> backoff = root.getDurationList(base + "busy-backoff");
    for (Duration d : backoff) {
      if (d.isNegative() || d.compareTo(Duration.ofMinutes(1)) > 0) {
        throw new ConfigException.BadValue(base + "busy-backoff", d + ": each wait must be between 0 and 1m");
      }
    }
    int partitions = root.getInt("slotted.partitions");
    if (partitions < 1 || partitions > 4096) {
      throw new ConfigException.BadValue("slotted.partitions", partitions + ": must be between 1 and 4096");
    }
    int maxPayload = root.getInt("slotted.limits.max-payload");
    if (maxPayload < 1) {
      throw new ConfigException.BadValue("slotted.limits.max-payload", maxPayload + ": must be positive");
    }
    return new SqliteStoreSettings(Path.of(pathText), sync, readers, backoff, partitions, maxPayload);
  }

  private static String checkSynchronous(String value, String key) {
    String v = value == null ? "" : value.trim().toUpperCase(Locale.ROOT);
    if (!v.equals("NORMAL") && !v.equals("FULL")) {
      throw new IllegalArgumentException(key + " must be NORMAL or FULL, got '" + value + "'");
    }
    return v;
  }

  private static void check(boolean ok, String key, Object value, String problem) {
    if (!ok) {
      throw new IllegalArgumentException(key + " " + problem + ", got " + value);
    }
  }
}
