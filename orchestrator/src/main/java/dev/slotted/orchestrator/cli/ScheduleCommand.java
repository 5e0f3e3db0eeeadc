package dev.slotted.orchestrator.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code slotted schedule add|list|show|pause|resume|delete|trigger|next}: the schedules of
 * DESIGN §6 through the HTTP API. Values are checked by the server (exit 2 when it rejects them).
 */
@Command(name = "schedule", mixinStandardHelpOptions = true,
    description = "Create, inspect and control schedules (cron or fixed interval, in a time zone).",
    subcommands = {
        ScheduleCommand.Add.class,
        ScheduleCommand.ListSchedules.class,
        ScheduleCommand.Show.class,
        ScheduleCommand.Pause.class,
        ScheduleCommand.Resume.class,
        ScheduleCommand.Delete.class,
        ScheduleCommand.Trigger.class,
        ScheduleCommand.Next.class})
final class ScheduleCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "a subcommand is required: add, list, show, pause, resume, delete, trigger or next");
  }

  static String path(String name) {
    return "/api/v1/schedules/" + ApiClient.segment(name);
  }

  /** "cron 0 3 * * *" or "every 30s". */
  static String when(JsonNode s) {
    String cron = text(s, "cron");
    return cron != null ? "cron " + cron : "every " + ClientCommand.shortDuration(text(s, "every"));
  }

  private static String text(JsonNode n, String field) {
    return ClientCommand.text(n, field);
  }

  // ---- add ---------------------------------------------------------------------------------------

  @Command(name = "add", mixinStandardHelpOptions = true,
      description = "Create a schedule. Exit 0 when created, 1 when the name is taken, 2 when rejected.")
  static final class Add extends ClientCommand {

    @Parameters(index = "0", paramLabel = "NAME", description = "Unique name: [a-z0-9][a-z0-9._-]{0,63}.")
    String name;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Timing timing;

    static final class Timing {
      @Option(names = "--cron", paramLabel = "EXPR",
          description = "5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or @hourly, @daily, ...")
      String cron;

      @Option(names = "--every", paramLabel = "D", description = "A fixed interval of at least 1s (30s, 5m, 1h, PT1H).")
      String every;
    }

    @Option(names = "--timezone", paramLabel = "ZONE", description = "IANA time zone the cron is read in (default UTC).")
    String timezone;

    @Option(names = "--queue", paramLabel = "Q", required = true, description = "The queue of the submitted jobs.")
    String queue;

    @Option(names = "--payload", paramLabel = "JSON|@FILE",
        description = "The jobs' payload: JSON text, @FILE to read it from a file, or @- from stdin.")
    String payload;

    @Option(names = "--priority", paramLabel = "N", description = "-1000..1000 (default 0).")
    Integer priority;

    @Option(names = "--max-attempts", paramLabel = "N", description = "1..1000 (default: the queue's).")
    Integer maxAttempts;

    @Option(names = "--tag", paramLabel = "T", description = "A capability the worker must have (repeatable).")
    List<String> tags;

    @Option(names = "--timeout", paramLabel = "D", description = "Maximum run time of one attempt (default: the queue's).")
    String timeout;

    @Option(names = "--misfire", paramLabel = "P",
        description = "What to do with fire times missed while no runner was up: fire-once (default), skip, catch-up.")
    String misfire;

    @Option(names = "--overlap", paramLabel = "P",
        description = "allow (default), or skip a fire while the previous fire's job is unfinished.")
    String overlap;

    @Option(names = "--paused", description = "Create it paused.")
    boolean paused;

    @Override
    int execute(ApiClient api) {
      ObjectNode body = ApiClient.MAPPER.createObjectNode();
      body.put("name", name);
      if (timing.cron != null) {
        body.put("cron", timing.cron);
      } else {
        body.put("every", timing.every);
      }
      if (timezone != null) {
        body.put("timezone", timezone);
      }
      ObjectNode job = body.putObject("job");
      job.put("queue", queue);
      if (payload != null) {
        job.set("payload", readPayload(payload));
      }
      if (priority != null) {
        job.put("priority", priority);
      }
      if (maxAttempts != null) {
        job.put("maxAttempts", maxAttempts);
      }
      if (tags != null) {
        tags.forEach(job.putArray("tags")::add);
      }
      if (timeout != null) {
        job.put("timeout", timeout);
      }
      if (misfire != null) {
        body.put("misfire", misfire);
      }
      if (overlap != null) {
        body.put("overlap", overlap);
      }
      if (paused) {
        body.put("paused", true);
      }
      return show(api.post("/api/v1/schedules", body.toString()), s -> {
        JsonNode next = s.path("nextFireTimes");
        out().println("Created schedule " + text(s, "name") + " (" + when(s) + ", " + text(s, "timezone") + ")"
            + (s.path("paused").asBoolean() ? ", paused"
                : next.isEmpty() ? "" : ", next fire " + next.get(0).asText()));
      });
    }
  }

  // ---- list / show -------------------------------------------------------------------------------

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the schedules.")
  static final class ListSchedules extends ClientCommand {
    @Override
    int execute(ApiClient api) {
      return show(api.get("/api/v1/schedules"), page -> {
        Table t = new Table("NAME", "WHEN", "TIMEZONE", "QUEUE", "NEXT FIRE", "LAST FIRE", "STATE");
        for (JsonNode s : page.path("items")) {
          t.row(text(s, "name"), when(s), text(s, "timezone"), text(s.path("job"), "queue"),
              text(s, "nextFireTime"), text(s, "lastFire"), s.path("paused").asBoolean() ? "paused" : "active");
        }
        if (t.isEmpty()) {
          out().println("No schedules.");
        } else {
          t.print(out());
        }
      });
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true,
      description = "Show a schedule, its next fire times and its recent fires.")
  static final class Show extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    int execute(ApiClient api) {
      return show(api.get(path(name)), s -> print(s, out()));
    }

    static void print(JsonNode s, PrintWriter out) {
      JsonNode job = s.path("job");
      List<String[]> fields = new ArrayList<>();
      fields.add(new String[] {"name", text(s, "name")});
      fields.add(new String[] {"when", when(s)});
      fields.add(new String[] {"timezone", text(s, "timezone")});
      if (text(s, "anchor") != null) {
        fields.add(new String[] {"anchor", text(s, "anchor")});
      }
      fields.add(new String[] {"state", s.path("paused").asBoolean() ? "paused" : "active"});
      fields.add(new String[] {"misfire", text(s, "misfire")});
      fields.add(new String[] {"overlap", text(s, "overlap")});
      fields.add(new String[] {"queue", text(job, "queue")});
      fields.add(new String[] {"payload", job.path("payload").toString()});
      fields.add(new String[] {"priority", text(job, "priority")});
      fields.add(new String[] {"maxAttempts", text(job, "maxAttempts") == null ? "queue default" : text(job, "maxAttempts")});
      List<String> tags = new ArrayList<>();
      job.path("tags").forEach(t -> tags.add(t.asText()));
      fields.add(new String[] {"tags", tags.isEmpty() ? null : String.join(", ", tags)});
      fields.add(new String[] {"timeout", text(job, "timeout") == null ? "queue default" : shortDuration(text(job, "timeout"))});
      fields.add(new String[] {"createdAt", text(s, "createdAt")});
      fields.add(new String[] {"updatedAt", text(s, "updatedAt")});
      fields.add(new String[] {"lastFire", text(s, "lastFire")});
      int width = fields.stream().mapToInt(f -> f[0].length()).max().orElse(0);
      for (String[] f : fields) {
        out.println(f[0] + ":" + " ".repeat(width - f[0].length() + 2) + Table.cell(f[1]));
      }
      out.println();
      JsonNode next = s.path("nextFireTimes");
      if (next.isEmpty()) {
        out.println("No next fire times" + (s.path("paused").asBoolean() ? " (paused)." : "."));
      } else {
        out.println("Next fire times:");
        next.forEach(t -> out.println("  " + t.asText()));
      }
      out.println();
      JsonNode fires = s.path("recentFires");
      if (fires.isEmpty()) {
        out.println("No fires yet.");
        return;
      }
      Table t = new Table("FIRE TIME", "KIND", "JOB", "REASON", "AT");
      for (JsonNode f : fires) {
        t.row(text(f, "fireInstant"), text(f, "kind"), text(f, "jobId"), text(f, "reason"), text(f, "at"));
      }
      t.print(out);
    }
  }

  // ---- control -----------------------------------------------------------------------------------

  @Command(name = "pause", mixinStandardHelpOptions = true,
      description = "Pause a schedule: no fire on any runner until it is resumed.")
  static final class Pause extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    int execute(ApiClient api) {
      return show(api.post(path(name) + "/pause", null), s -> out().println("Paused schedule " + text(s, "name")));
    }
  }

  @Command(name = "resume", mixinStandardHelpOptions = true,
      description = "Resume a schedule; the fire times that passed while it was paused are not fired.")
  static final class Resume extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    int execute(ApiClient api) {
      return show(api.post(path(name) + "/resume", null), s -> {
        JsonNode next = s.path("nextFireTimes");
        out().println("Resumed schedule " + text(s, "name") + (next.isEmpty() ? "" : ", next fire " + next.get(0).asText()));
      });
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true,
      description = "Delete a schedule (its jobs stay). Exit 1 when there is no such schedule.")
  static final class Delete extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    int execute(ApiClient api) {
      ApiClient.Response r = api.delete(path(name));
      if (!r.ok()) {
        return problem(r);
      }
      if (options.json) {
        ObjectNode n = ApiClient.MAPPER.createObjectNode();
        n.put("deleted", name);
        out().println(n);
      } else {
        out().println("Deleted schedule " + name);
      }
      return OK;
    }
  }

  @Command(name = "trigger", mixinStandardHelpOptions = true,
      description = "Submit the schedule's job now (also while paused); it is recorded in the schedule's history.")
  static final class Trigger extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    int execute(ApiClient api) {
      return show(api.post(path(name) + "/trigger", null), job -> out().println("Triggered schedule " + name
          + ": job " + text(job, "id") + " on " + text(job, "queue") + " (" + text(job, "state") + ")"));
    }
  }

  @Command(name = "next", mixinStandardHelpOptions = true,
      description = "The fire times after an instant, with their wall-clock time: check a cron and a time zone against DST.")
  static final class Next extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--from", paramLabel = "INSTANT", description = "Start after this instant (default: now).")
    String from;

    @Option(names = "--count", paramLabel = "N", description = "How many, 1..100 (default 10).")
    Integer count;

    @Override
    int execute(ApiClient api) {
      Map<String, Object> q = new LinkedHashMap<>();
      q.put("from", from);
      q.put("count", count);
      return show(api.get(path(name) + "/next" + ApiClient.query(q)), n -> {
        Table t = new Table("FIRE TIME (UTC)", "LOCAL TIME (" + text(n, "timezone") + ")");
        n.path("items").forEach(i -> t.row(text(i, "instant"), text(i, "local")));
        t.print(out());
      });
    }
  }
}
