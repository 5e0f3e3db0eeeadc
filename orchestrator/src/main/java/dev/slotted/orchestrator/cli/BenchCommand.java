package dev.slotted.orchestrator.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.slotted.orchestrator.bench.BurnDown;
import dev.slotted.orchestrator.store.BenchAccess;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.StoreBench;
import dev.slotted.orchestrator.store.postgres.PostgresBenchAccess;
import dev.slotted.orchestrator.store.postgres.PostgresJobStore;
import dev.slotted.orchestrator.store.postgres.PostgresStoreSettings;
import dev.slotted.orchestrator.store.postgres.RawSkipLockedLoop;
import dev.slotted.orchestrator.store.sqlite.SqliteBenchAccess;
import dev.slotted.orchestrator.store.sqlite.SqliteJobStore;
import dev.slotted.orchestrator.store.sqlite.SqliteStoreSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code slotted bench}: the project's benchmark (DESIGN §8). */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {
        "Burn-down of N no-op jobs (or, with --sleep-ms, jobs that sleep) on a fresh SQLite file, drained by R runner processes.",
        "Prints jobs, submitPerSecond, drainPerSecond, dispatchDelayP50Ms, dispatchDelayP99Ms, busyRetries, duplicates, lost",
        "(and efficiency with --sleep-ms). With --json, stdout carries one JSON document and nothing else."})
public final class BenchCommand implements Callable<Integer> {

  @Option(names = "--jobs", defaultValue = "20000", description = "Jobs to run (default ${DEFAULT-VALUE}).")
  int jobs;

  @Option(names = {"--workers", "--capacity"}, defaultValue = "256",
      description = "Worker capacity of each runner (default ${DEFAULT-VALUE}).")
  int workers;

  @Option(names = "--sleep-ms", defaultValue = "0",
      description = "Capacity-bound work: each job sleeps this long (0: no-op jobs, the default). Reports efficiency = achieved / (runners x capacity x 1000 / N).")
  int sleepMs;

  @Option(names = "--claim-ahead", defaultValue = "-1",
      description = "slotted.tdma.claim-ahead of the runners (default: the configured default).")
  int claimAhead;

  @Option(names = "--runners", defaultValue = "1", description = "Runner processes (default ${DEFAULT-VALUE}).")
  int runners;

  @ArgGroup(exclusive = true)
  Mode mode = new Mode();

  static final class Mode {
    @Option(names = "--tdma", description = "TDMA slots (default).")
    boolean tdma;

    @Option(names = "--continuous", description = "Continuous mode: claim as soon as capacity frees.")
    boolean continuous;
  }

  @Option(names = "--rate", defaultValue = "0",
      description = "Instead of a burn-down, submit the jobs through the first runner's API at this many jobs/s while it drains (measures dispatch delay).")
  int rate;

  @Option(names = "--dynamic",
      description = "Dynamic membership (runner rows) instead of static runner-index/runner-count.")
  boolean dynamic;

  @Option(names = "--partitions", defaultValue = "16", description = "Partitions of the fresh database (default ${DEFAULT-VALUE}).")
  int partitions;

  @Option(names = "--timeout", defaultValue = "600", description = "Seconds to wait for the drain (default ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Option(names = "--dir", description = "Directory for the database and runner logs (default: a fresh temporary directory).")
  Path dir;

  @Option(names = "--json", description = "Print a JSON object.")
  boolean json;

  @Option(names = "--store-kind", defaultValue = "sqlite",
      description = "sqlite (a fresh file, the default) or postgres (a fresh schema on --pg-url; also runs the raw FOR UPDATE SKIP LOCKED claim+ack loop on the same server and reports rawSkipLockedPerSecond).")
  String storeKind;

  @Option(names = "--pg-url", defaultValue = "${env:SLOTTED_PG_URL}",
      description = "With --store-kind postgres: JDBC URL with user and password, e.g. jdbc:postgresql://127.0.0.1:5432/slotted?user=slotted&password=... (default: $SLOTTED_PG_URL).")
  String pgUrl;

  @Option(names = "--raw-connections", defaultValue = "4",
      description = "With --store-kind postgres: connections of the raw loop (default ${DEFAULT-VALUE}, batch 100).")
  int rawConnections;

  @Option(names = "--store",
      description = "Instead: the store microbenchmark (claim+complete at batch 1, 10, 100; submit at 1, 100, 1000), in this process.")
  boolean store;

  @Option(names = "--seconds", defaultValue = "3", description = "With --store: seconds per measured run (default ${DEFAULT-VALUE}).")
  double seconds;

  @Override
  public Integer call() throws Exception {
    if (jobs < 1 || runners < 1 || workers < 1) {
      throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
          "--jobs, --runners and --workers must be at least 1");
    }
    if (sleepMs < 0 || sleepMs > 3_600_000) {
      throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
          "--sleep-ms must be between 0 and 3600000");
    }
    if (store) {
      java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("--seconds", Double.toString(seconds)));
      if (dir != null) {
        args.addAll(java.util.List.of("--dir", dir.toString()));
      }
      if (json) {
        args.add("--json");
      }
      StoreBench.main(args.toArray(String[]::new));
      return 0;
    }
    Path d = dir != null ? dir : Files.createTempDirectory("slotted-bench-");
    BurnDown.Options options = new BurnDown.Options(jobs, workers, runners, !mode.continuous, d, rate,
        Duration.ofSeconds(timeoutSeconds), partitions, dynamic, sleepMs, claimAhead);
    BurnDown.Result result;
    Map<String, Object> m;
    if (storeKind.equals("postgres")) {
      if (pgUrl == null || !pgUrl.startsWith("jdbc:postgresql://")) {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
            "--store-kind postgres needs --pg-url jdbc:postgresql://... (or SLOTTED_PG_URL)");
      }
      String schema = "bench_" + Long.toString(System.currentTimeMillis(), 36);
      PostgresStoreSettings pg = PostgresStoreSettings.defaults(pgUrl, schema).withPartitions(partitions);
      result = new BurnDown(options, postgres(pg)).run();
      m = new java.util.LinkedHashMap<>(result.asMap());
      m.put("store", "postgres");
      PostgresStoreSettings raw = PostgresStoreSettings.defaults(pgUrl, schema + "_raw");
      m.put("rawSkipLockedPerSecond", Math.round(RawSkipLockedLoop.drain(raw, jobs, 100, rawConnections)));
      m.put("rawConnections", rawConnections);
      new PostgresBenchAccess(raw).dropSchema();
    } else if (storeKind.equals("sqlite")) {
      result = new BurnDown(options, sqlite(partitions)).run();
      m = result.asMap();
    } else {
      throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
          "--store-kind must be sqlite or postgres, got " + storeKind);
    }
    if (json) {
      System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m));
    } else {
      m.forEach((k, v) -> System.out.printf("%-21s %s%n", k, v));
      System.out.println("dir                   " + d);
    }
    return result.lost() == 0 && result.duplicates() == 0 ? 0 : 1;
  }

  /** A fresh SQLite file in the run's directory. */
  static BurnDown.Target sqlite(int partitions) {
    return new BurnDown.Target() {
      @Override
      public JobStore open(Path dir) {
        return SqliteJobStore.open(SqliteStoreSettings.defaults(dir.resolve("slotted.db")).withPartitions(partitions));
      }

      @Override
      public BenchAccess access(Path dir) {
        return new SqliteBenchAccess(dir.resolve("slotted.db"));
      }

      @Override
      public String runnerConf(Path dir) {
        return "  store.sqlite.path = \"" + dir.resolve("slotted.db").toString().replace("\\", "\\\\") + "\"";
      }
    };
  }

  /** A fresh schema on a PostgreSQL server, dropped after the run. */
  static BurnDown.Target postgres(PostgresStoreSettings pg) {
    return new BurnDown.Target() {
      @Override
      public JobStore open(Path dir) {
        return PostgresJobStore.open(pg);
      }

      @Override
      public BenchAccess access(Path dir) {
        return new PostgresBenchAccess(pg);
      }

      @Override
      public String runnerConf(Path dir) {
        return "  store.kind = postgres\n  store.postgres { url = \"" + pg.url() + "\", user = \"\", password = \"\", schema = "
            + pg.schema() + " }";
      }

      @Override
      public void cleanUp() throws Exception {
        new PostgresBenchAccess(pg).dropSchema();
      }
    };
  }
}
