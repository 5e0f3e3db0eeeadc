package dev.slotted.worker.handler;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.slotted.worker.JobHandler;
import dev.slotted.worker.process.PidRegistry;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Builds one queue's handler from {@code slotted.queues.<name>.handler}: either a type name ({@code
 * handler = sleep}) or an object with a {@code type} and that type's keys. Defaults come from {@code
 * slotted.handler-defaults.<type>}. Every error names the full key.
 */
final class HandlerFactory {
  static final Set<String> TYPES = Set.of("shell", "http", "java", "noop", "sleep");
  private static final Set<String> SHELL_KEYS =
      Set.of("type", "command", "workdir", "env", "non-retryable-exit-codes", "kill-grace");
  private static final Set<String> HTTP_KEYS = Set.of("type", "url", "method", "headers", "timeout");
  private static final Set<String> HTTP_METHODS = Set.of("GET", "POST", "PUT", "PATCH", "DELETE");

  private final Config root;
  private final PidRegistry pids;
  private final HandlerRegistry.LazyHttpClient http;

  HandlerFactory(Config root, PidRegistry pids, HandlerRegistry.LazyHttpClient http) {
    this.root = root;
    this.pids = pids;
    this.http = http;
  }

  JobHandler build(String queue) {
    String path = ConfigUtil.joinPath("slotted", "queues", queue, "handler");
    if (!root.hasPath(path)) {
      throw new ConfigException.Missing(path);
    }
    ConfigValue v = root.getValue(path);
    String type;
    Config own;
    if (v.valueType() == ConfigValueType.STRING) {
      type = root.getString(path);
      own = ConfigFactory.empty();
    } else if (v.valueType() == ConfigValueType.OBJECT) {
      own = root.getConfig(path);
      if (!own.hasPath("type")) {
        throw new ConfigException.Missing(path + ".type");
      }
      type = root.getString(path + ".type");
    } else {
      throw new ConfigException.WrongType(
          v.origin(), path, "a handler type (STRING) or an OBJECT with a type", v.valueType().name());
    }
    if (!TYPES.contains(type)) {
      throw new ConfigException.BadValue(
          v.origin(), path + (own.isEmpty() ? "" : ".type"),
          "unknown handler type '" + type + "' (expected one of " + new TreeSet<>(TYPES) + ")");
    }
    String defaults = "slotted.handler-defaults." + type;
    Config merged =
        own.withFallback(root.hasPath(defaults) ? root.getConfig(defaults) : ConfigFactory.empty())
            .atPath(path);
    Reader r = new Reader(merged, path);
    return switch (type) {
      case "shell" -> shell(r);
      case "http" -> http(r);
      case "java" -> java(r, own);
      case "noop" -> {
        r.onlyKeys(own, Set.of("type"));
        yield new NoopHandler();
      }
      case "sleep" -> {
        r.onlyKeys(own, Set.of("type"));
        yield new SleepHandler();
      }
      default -> throw new IllegalStateException("unhandled handler type " + type);
    };
  }

  private JobHandler shell(Reader r) {
    r.onlyKeys(r.cfg.getConfig(r.path), SHELL_KEYS);
    List<String> command = r.cfg.getStringList(r.key("command"));
    if (command.isEmpty() || command.stream().anyMatch(String::isEmpty)) {
      throw r.bad("command", "must be a non-empty list of non-empty strings (argv; no shell is involved)");
    }
    Path workdir = null;
    if (r.cfg.hasPath(r.key("workdir"))) {
      workdir = Path.of(r.cfg.getString(r.key("workdir")));
      if (!Files.isDirectory(workdir)) {
        throw r.bad("workdir", "'" + workdir + "' is not a directory");
      }
    }
    Map<String, String> env = new LinkedHashMap<>();
    if (r.cfg.hasPath(r.key("env"))) {
      for (Map.Entry<String, ConfigValue> e : r.cfg.getObject(r.key("env")).entrySet()) {
        ConfigValueType t = e.getValue().valueType();
        if (t == ConfigValueType.OBJECT || t == ConfigValueType.LIST || t == ConfigValueType.NULL) {
          throw r.bad("env." + e.getKey(), "must be a string");
        }
        env.put(e.getKey(), String.valueOf(e.getValue().unwrapped()));
      }
    }
    Set<Integer> codes = new LinkedHashSet<>();
    if (r.cfg.hasPath(r.key("non-retryable-exit-codes"))) {
      for (Integer c : r.cfg.getIntList(r.key("non-retryable-exit-codes"))) {
        if (c < 1 || c > 255) {
          throw r.bad("non-retryable-exit-codes", "exit codes are 1..255, got " + c);
        }
        codes.add(c);
      }
    }
    Duration killGrace =
        r.cfg.hasPath(r.key("kill-grace")) ? r.cfg.getDuration(r.key("kill-grace")) : Duration.ofSeconds(10);
    if (killGrace.isNegative()) {
      throw r.bad("kill-grace", "must not be negative");
    }
    return new ShellHandler(new ShellHandler.Settings(command, workdir, env, codes, killGrace), pids);
  }

  private JobHandler http(Reader r) {
    r.onlyKeys(r.cfg.getConfig(r.path), HTTP_KEYS);
    String url = r.cfg.getString(r.key("url"));
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw r.bad("url", "not a URI: " + e.getMessage());
    }
    if (!uri.isAbsolute() || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
      throw r.bad("url", "must be an absolute http:// or https:// URL, got '" + url + "'");
    }
    String method = r.cfg.hasPath(r.key("method")) ? r.cfg.getString(r.key("method")).toUpperCase() : "POST";
    if (!HTTP_METHODS.contains(method)) {
      throw r.bad("method", "expected one of " + new TreeSet<>(HTTP_METHODS) + ", got '" + method + "'");
    }
    Map<String, String> headers = new LinkedHashMap<>();
    if (r.cfg.hasPath(r.key("headers"))) {
      for (Map.Entry<String, ConfigValue> e : r.cfg.getObject(r.key("headers")).entrySet()) {
        ConfigValueType t = e.getValue().valueType();
        if (t == ConfigValueType.OBJECT || t == ConfigValueType.LIST || t == ConfigValueType.NULL) {
          throw r.bad("headers." + e.getKey(), "must be a string");
        }
        headers.put(e.getKey(), String.valueOf(e.getValue().unwrapped()));
      }
    }
    Duration timeout = null;
    if (r.cfg.hasPath(r.key("timeout"))) {
      timeout = r.cfg.getDuration(r.key("timeout"));
      if (timeout.isNegative() || timeout.isZero()) {
        throw r.bad("timeout", "must be positive");
      }
    }
    return new HttpHandler(new HttpHandler.Settings(uri, method, headers, timeout), http.get());
  }

  /**
   * A class implementing JobHandler, with a public constructor taking either nothing or the
   * handler's Config block (for its own keys).
   */
  private JobHandler java(Reader r, Config own) {
    String name = r.cfg.getString(r.key("class"));
    Class<?> cls;
    try {
      cls = Class.forName(name, true, classLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      throw r.bad("class", "cannot load class '" + name + "': " + e);
    }
    if (!JobHandler.class.isAssignableFrom(cls)) {
      throw r.bad("class", "'" + name + "' does not implement " + JobHandler.class.getName());
    }
    try {
      try {
        Constructor<?> withConfig = cls.getConstructor(Config.class);
        return (JobHandler) withConfig.newInstance(own);
      } catch (NoSuchMethodException e) {
        return (JobHandler) cls.getConstructor().newInstance();
      }
    } catch (NoSuchMethodException e) {
      throw r.bad("class", "'" + name + "' needs a public no-argument constructor (or one taking a Config)");
    } catch (InvocationTargetException e) {
      throw r.bad("class", "the constructor of '" + name + "' threw " + e.getCause());
    } catch (ReflectiveOperationException e) {
      throw r.bad("class", "cannot instantiate '" + name + "': " + e);
    }
  }

  private static ClassLoader classLoader() {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    return cl != null ? cl : HandlerFactory.class.getClassLoader();
  }

  /** Reads keys under one handler's full path, so that errors name the full key. */
  private static final class Reader {
    final Config cfg;
    final String path;

    Reader(Config cfg, String path) {
      this.cfg = cfg;
      this.path = path;
    }

    String key(String k) {
      return path + "." + k;
    }

    ConfigException bad(String k, String problem) {
      return new ConfigException.BadValue(key(k), problem);
    }

    void onlyKeys(Config block, Set<String> allowed) {
      for (String k : block.root().keySet()) {
        if (!allowed.contains(k)) {
          throw bad(k, "unknown key (this handler type takes " + new TreeSet<>(allowed) + ")");
        }
      }
    }
  }
}
