package dev.slotted.orchestrator.schedule;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.slotted.protocol.FieldError;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Schedules declared in HOCON ({@code slotted.schedules.declared}): a list of objects with the
 * API's field names, created or updated at start. For example:
 *
 * <pre>
 * slotted.schedules.declared = [
 *   { name = nightly-report, cron = "0 3 * * *", timezone = Europe/Berlin,
 *     job { queue = reports, payload { kind = daily }, maxAttempts = 3, timeout = 1h } }
 *   { name = heartbeat, every = 30s, misfire = skip, job { queue = demo } }
 * ]
 * </pre>
 *
 * A bad entry fails the start with a message naming the key and the value.
 */
public final class DeclaredSchedules {

  public static final String KEY = "slotted.schedules.declared";

  private static final Set<String> FIELDS = Set.of(
      "name", "cron", "every", "anchor", "timezone", "job", "misfire", "overlap", "paused");
  private static final Set<String> JOB_FIELDS = Set.of(
      "queue", "payload", "priority", "maxAttempts", "tags", "timeout");

  private DeclaredSchedules() {}

  /** The declared specs, valid and with distinct names; throws {@link IllegalArgumentException}. */
  public static List<ScheduleSpec> fromConfig(Config root, int maxPayloadBytes) {
    List<ScheduleSpec> specs = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    Set<String> names = new HashSet<>();
    List<? extends ConfigObject> entries;
    try {
      entries = root.getObjectList(KEY);
    } catch (ConfigException e) {
      throw new IllegalArgumentException(KEY + " must be a list of objects: " + e.getMessage(), e);
    }
    for (int i = 0; i < entries.size(); i++) {
      String prefix = KEY + "[" + i + "].";
      try {
        ScheduleSpec spec = parse(entries.get(i), prefix);
        for (FieldError e : spec.validate(maxPayloadBytes)) {
          problems.add(prefix + e.field() + ": " + e.message());
        }
        if (spec.name() != null && !names.add(spec.name())) {
          problems.add(prefix + "name: '" + spec.name() + "' is declared twice");
        }
        specs.add(spec);
      } catch (IllegalArgumentException | ConfigException e) {
        problems.add(e.getMessage());
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("invalid declared schedules: " + String.join("; ", problems));
    }
    return List.copyOf(specs);
  }

  private static ScheduleSpec parse(ConfigObject entry, String prefix) {
    unknownFields(entry, FIELDS, prefix);
    Config c = entry.toConfig();
    JobTemplate job = null;
    if (c.hasPath("job")) {
      ConfigObject jobObject = c.getObject("job");
      unknownFields(jobObject, JOB_FIELDS, prefix + "job.");
      job = parseJob(jobObject.toConfig(), prefix + "job.");
    }
    return new ScheduleSpec(
        string(c, "name"),
        string(c, "cron"),
        c.hasPath("every") ? duration(c, "every", prefix) : null,
        c.hasPath("anchor") ? instant(c, "anchor", prefix) : null,
        string(c, "timezone"),
        job,
        c.hasPath("misfire") ? policy(() -> MisfirePolicy.parse(c.getString("misfire")), prefix + "misfire") : null,
        c.hasPath("overlap") ? policy(() -> OverlapPolicy.parse(c.getString("overlap")), prefix + "overlap") : null,
        c.hasPath("paused") && c.getBoolean("paused"));
  }

  private static JobTemplate parseJob(Config c, String prefix) {
    String payload = "null";
    if (c.hasPath("payload")) {
      ConfigValue v = c.getValue("payload");
      // A string is taken as the JSON text itself, anything else is rendered as JSON.
      payload = v.valueType() == ConfigValueType.STRING
          ? (String) v.unwrapped()
          : v.render(ConfigRenderOptions.concise());
    }
    return new JobTemplate(
        string(c, "queue"),
        payload,
        c.hasPath("priority") ? c.getInt("priority") : 0,
        c.hasPath("maxAttempts") ? c.getInt("maxAttempts") : null,
        c.hasPath("tags") ? c.getStringList("tags") : List.of(),
        c.hasPath("timeout") ? duration(c, "timeout", prefix) : null);
  }

  private static void unknownFields(ConfigObject o, Set<String> known, String prefix) {
    for (String k : o.keySet()) {
      if (!known.contains(k)) {
        throw new IllegalArgumentException(prefix + k + ": unknown field (expected one of "
            + String.join(", ", known.stream().sorted().toList()) + ")");
      }
    }
  }

  private static String string(Config c, String key) {
    return c.hasPath(key) ? c.getString(key) : null;
  }

  /** HOCON durations ({@code 30s}, {@code 5m}) or ISO-8601 ({@code PT30S}). */
  private static Duration duration(Config c, String key, String prefix) {
    String raw = c.getString(key);
    try {
      return raw.startsWith("P") || raw.startsWith("p") ? Duration.parse(raw) : c.getDuration(key);
    } catch (DateTimeException | ConfigException e) {
      throw new IllegalArgumentException(prefix + key + ": not a duration: '" + raw + "'", e);
    }
  }

  private static Instant instant(Config c, String key, String prefix) {
    String raw = c.getString(key);
    try {
      return Instant.parse(raw);
    } catch (DateTimeException e) {
      throw new IllegalArgumentException(prefix + key + ": not an ISO-8601 instant: '" + raw + "'", e);
    }
  }

  private static <T> T policy(Supplier<T> parse, String key) {
    try {
      return parse.get();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
    }
  }
}
