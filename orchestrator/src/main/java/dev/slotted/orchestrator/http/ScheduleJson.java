package dev.slotted.orchestrator.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import dev.slotted.orchestrator.schedule.FireTimes;
import dev.slotted.orchestrator.schedule.JobTemplate;
import dev.slotted.orchestrator.schedule.ScheduleSpec;
import dev.slotted.orchestrator.schedule.ScheduleState;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/** The API's JSON shapes of schedules (DESIGN §6, §7), written by hand like {@link Json}. */
final class ScheduleJson {
  /** How many fire times {@code GET /api/v1/schedules/{name}} shows. */
  static final int NEXT_FIRE_TIMES = 5;

  private ScheduleJson() {}

  /**
   * One schedule with its next fire times (none while paused) and, when {@code history}, its recent
   * fires, triggers and skips, oldest first.
   */
  static ObjectNode schedule(ScheduleState state, Instant now, boolean history) {
    ScheduleSpec spec = state.spec();
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("name", spec.name());
    n.put("cron", spec.cron());
    n.put("every", Json.duration(spec.every()));
    n.put("anchor", Json.instant(spec.anchor()));
    n.put("timezone", spec.timezone());
    n.set("job", job(spec.job()));
    n.put("misfire", spec.misfire().wire());
    n.put("overlap", spec.overlap().wire());
    n.put("paused", spec.paused());
    n.put("createdAt", Json.instant(state.createdAt()));
    n.put("updatedAt", Json.instant(state.updatedAt()));
    n.put("lastFire", Json.instant(state.lastFire()));
    List<Instant> next = spec.paused() ? List.of() : FireTimes.next(spec, now, history ? NEXT_FIRE_TIMES : 1);
    if (history) {
      ArrayNode times = n.putArray("nextFireTimes");
      next.forEach(t -> times.add(t.toString()));
      ArrayNode fires = n.putArray("recentFires");
      for (ScheduleState.FireRecord r : state.recentFires()) {
        ObjectNode f = fires.addObject();
        f.put("fireInstant", Json.instant(r.fireInstant()));
        f.put("kind", r.kind().name().toLowerCase(Locale.ROOT));
        f.put("jobId", r.jobId());
        f.put("reason", r.reason());
        f.put("at", Json.instant(r.at()));
      }
    } else {
      n.put("nextFireTime", next.isEmpty() ? null : next.get(0).toString());
    }
    return n;
  }

  static ObjectNode job(JobTemplate job) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("queue", job.queue());
    // printable: a schedule stored before lone surrogates were refused (issue 9) still lists.
    n.putRawValue("payload", new RawValue(dev.slotted.protocol.Text.printable(job.payload())));
    n.put("priority", job.priority());
    if (job.maxAttempts() == null) {
      n.putNull("maxAttempts");
    } else {
      n.put("maxAttempts", job.maxAttempts().intValue());
    }
    ArrayNode tags = n.putArray("tags");
    job.tags().forEach(tags::add);
    n.put("timeout", Json.duration(job.timeout()));
    return n;
  }

  /** {@code GET .../next}: each fire time as an instant and as the wall-clock time of the zone. */
  static ObjectNode next(ScheduleSpec spec, Instant from, List<Instant> times) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("name", spec.name());
    n.put("timezone", spec.timezone());
    n.put("from", from.toString());
    ZoneId zone = spec.zone();
    ArrayNode items = n.putArray("items");
    for (Instant t : times) {
      items.addObject()
          .put("instant", t.toString())
          .put("local", DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(t.atZone(zone)));
    }
    return n;
  }
}
