package dev.slotted.orchestrator.store;

import dev.slotted.orchestrator.store.sqlite.SqliteJobStore;
import dev.slotted.orchestrator.store.sqlite.SqliteStoreSettings;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.NewJob;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.stream.Stream;

/**
 * Store microbenchmark: claim+complete and submit throughput of the SQLite store at several batch
 * sizes, each the median of a few timed runs on a fresh database. One caller, one store: it
 * measures the store's single-writer path (what one runner's Reconcilers can get out of it), not
 * the runtime around it. {@code ./slotted bench --store} runs it; so does {@link #main}.
 */
public final class StoreBench {
  private StoreBench() {}

  /**
   * @param duration how long each timed run lasts
   * @param runs timed runs per figure; the median is reported
   * @param claimBatches claim sizes for claim+complete
   * @param submitBatches batch sizes for submit
   * @param synchronous PRAGMA synchronous (NORMAL or FULL)
   * @param raw also run the raw SQLite reference loops (PERF-NOTES.md) for comparison
   */
  public record Options(
      Duration duration,
      int runs,
      List<Integer> claimBatches,
      List<Integer> submitBatches,
      int partitions,
      String synchronous,
      boolean raw) {
    public Options {
      claimBatches = List.copyOf(claimBatches);
      submitBatches = List.copyOf(submitBatches);
      if (runs < 1) {
        throw new IllegalArgumentException("runs must be >= 1: " + runs);
      }
    }

    public static Options defaults() {
      return new Options(Duration.ofSeconds(3), 3, List.of(1, 10, 100), List.of(1, 100, 1000), 16, "NORMAL", true);
    }

    public Options withDuration(Duration d) {
      return new Options(d, runs, claimBatches, submitBatches, partitions, synchronous, raw);
    }

    public Options withRuns(int n) {
      return new Options(duration, n, claimBatches, submitBatches, partitions, synchronous, raw);
    }
  }

  /** One figure: jobs per second of every run, and their median. */
  public record Measurement(String operation, int batch, List<Double> jobsPerSecond, double median) {
    public Measurement {
      jobsPerSecond = List.copyOf(jobsPerSecond);
    }
  }

  public record Result(Instant date, String machine, Options options, List<Measurement> measurements) {
    public Result {
      measurements = List.copyOf(measurements);
    }

    public String table() {
      StringBuilder b = new StringBuilder();
      b.append(String.format(Locale.ROOT, "%-16s %6s  %-30s %10s%n", "operation", "batch", "runs (jobs/s)", "median"));
      for (Measurement m : measurements) {
        StringBuilder runs = new StringBuilder();
        for (double r : m.jobsPerSecond()) {
          runs.append(String.format(Locale.ROOT, "%.0f ", r));
        }
        b.append(String.format(Locale.ROOT, "%-16s %6d  %-30s %10.0f%n", m.operation(), m.batch(), runs.toString().trim(), m.median()));
      }
      return b.toString();
    }

    public String json() {
      StringBuilder b = new StringBuilder("{\"date\":\"").append(date).append("\",\"machine\":\"")
          .append(machine.replace("\\", "\\\\").replace("\"", "\\\"")).append("\",\"secondsPerRun\":")
          .append(options.duration().toMillis() / 1000.0).append(",\"runs\":").append(options.runs())
          .append(",\"synchronous\":\"").append(options.synchronous()).append("\",\"results\":[");
      for (int i = 0; i < measurements.size(); i++) {
        Measurement m = measurements.get(i);
        b.append(i == 0 ? "" : ",").append("{\"operation\":\"").append(m.operation()).append("\",\"batch\":")
            .append(m.batch()).append(",\"jobsPerSecond\":[");
        for (int j = 0; j < m.jobsPerSecond().size(); j++) {
          b.append(j == 0 ? "" : ",").append(Math.round(m.jobsPerSecond().get(j)));
        }
        b.append("],\"median\":").append(Math.round(m.median())).append('}');
      }
      return b.append("]}").toString();
    }
  }

  /** Runs every figure in fresh databases under {@code dir} (which must exist), deleting them after. */
  public static Result run(Path dir, Options options) {
    // Warm the JIT on the hot paths first, so the first figure is not the slowest by construction.
    Duration warm = options.duration().compareTo(Duration.ofMillis(700)) < 0 ? options.duration() : Duration.ofMillis(700);
    timed(dir, options, "warmup", store -> claimComplete(store, 100, warm, options));
    timed(dir, options, "warmup", store -> submit(store, 1000, warm));
    List<Measurement> out = new ArrayList<>();
    for (int batch : options.claimBatches()) {
      List<Double> runs = new ArrayList<>();
      for (int r = 0; r < options.runs(); r++) {
        runs.add(timed(dir, options, "claim-" + batch + "-" + r,
            store -> claimComplete(store, batch, options.duration(), options)));
      }
      out.add(new Measurement("claim+complete", batch, runs, median(runs)));
    }
    for (int batch : options.submitBatches()) {
      List<Double> runs = new ArrayList<>();
      for (int r = 0; r < options.runs(); r++) {
        runs.add(timed(dir, options, "submit-" + batch + "-" + r,
            store -> submit(store, batch, options.duration())));
      }
      out.add(new Measurement("submit", batch, runs, median(runs)));
    }
    if (options.raw()) {
      out.addAll(raw(dir, options));
    }
    return new Result(Instant.now(), machine(), options, out);
  }

  /** The raw SQLite reference loops at claim batch 100 and insert batch 1000, same run count. */
  private static List<Measurement> raw(Path dir, Options o) {
    List<Double> claims = new ArrayList<>();
    List<Double> inserts = new ArrayList<>();
    for (int r = 0; r < o.runs(); r++) {
      Path sub = dir.resolve("raw-" + r);
      try {
        Files.createDirectories(sub);
        claims.add(RawSqliteBaseline.claimAck(sub.resolve("claim.db"), o.synchronous(), 100, o.duration(),
            (long) (150_000 * (o.duration().toMillis() / 1000.0))));
        inserts.add(RawSqliteBaseline.insert(sub.resolve("insert.db"), o.synchronous(), 1000, o.duration()));
      } catch (IOException | java.sql.SQLException e) {
        throw new StoreException("raw SQLite baseline failed: " + e.getMessage(), e);
      } finally {
        deleteTree(sub);
      }
    }
    return List.of(new Measurement("raw claim+ack", 100, claims, median(claims)),
        new Measurement("raw insert", 1000, inserts, median(inserts)));
  }

  private interface Body {
    double run(SqliteJobStore store);
  }

  private static double timed(Path dir, Options o, String name, Body body) {
    Path sub = dir.resolve(name);
    SqliteStoreSettings settings = SqliteStoreSettings.defaults(sub.resolve("bench.db"))
        .withPartitions(o.partitions()).withSynchronous(o.synchronous());
    try (SqliteJobStore store = SqliteJobStore.open(settings)) {
      return body.run(store);
    } finally {
      deleteTree(sub);
    }
  }

  /** Claims {@code batch} jobs of a partition and completes them all, partitions in turn. */
  private static double claimComplete(SqliteJobStore store, int batch, Duration duration, Options o) {
    // Enough jobs for the run at a generous rate; a run that drains them all ends early.
    int expected = batch == 1 ? 15_000 : batch <= 10 ? 80_000 : 150_000;
    long want = Math.max(2_000, (long) (expected * (duration.toMillis() / 1000.0)));
    List<NewJob> chunk = new ArrayList<>();
    for (int i = 0; i < JobStore.MAX_BATCH; i++) {
      chunk.add(NewJob.of("bench", "{}"));
    }
    for (long n = 0; n < want; n += chunk.size()) {
      join(store.submitBatch(chunk, Clock.systemUTC()));
    }
    long deadline = System.nanoTime() + duration.toNanos();
    long start = System.nanoTime();
    long done = 0;
    int p = 0;
    int emptyInARow = 0;
    while (System.nanoTime() < deadline && emptyInARow < o.partitions()) {
      p = (p + 1) % store.partitions();
      List<ClaimedJob> claimed = join(store.claim(
          new ClaimRequest(p, Set.of(), Set.of(), batch, "bench", Duration.ofSeconds(30)), Clock.systemUTC()));
      if (claimed.isEmpty()) {
        emptyInARow++;
        continue;
      }
      emptyInARow = 0;
      List<Completion> completions = new ArrayList<>(claimed.size());
      Instant end = Instant.now();
      for (ClaimedJob j : claimed) {
        completions.add(Completion.succeeded(j, "w", end));
      }
      join(store.complete(completions, Clock.systemUTC()));
      done += claimed.size();
    }
    return done / ((System.nanoTime() - start) / 1e9);
  }

  private static double submit(SqliteJobStore store, int batch, Duration duration) {
    List<NewJob> jobs = new ArrayList<>(batch);
    for (int i = 0; i < batch; i++) {
      jobs.add(NewJob.of("bench", "{}"));
    }
    long deadline = System.nanoTime() + duration.toNanos();
    long start = System.nanoTime();
    long done = 0;
    while (System.nanoTime() < deadline) {
      if (batch == 1) {
        join(store.submit(jobs.get(0), Clock.systemUTC()));
      } else {
        join(store.submitBatch(jobs, Clock.systemUTC()));
      }
      done += batch;
    }
    return done / ((System.nanoTime() - start) / 1e9);
  }

  private static <T> T join(CompletionStage<T> stage) {
    return stage.toCompletableFuture().join();
  }

  static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static String machine() {
    Runtime rt = Runtime.getRuntime();
    return rt.availableProcessors() + " CPUs, " + System.getProperty("os.name") + " " + System.getProperty("os.arch")
        + ", Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")";
  }

  private static void deleteTree(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(x);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * {@code StoreBench [--dir DIR] [--seconds N] [--runs N] [--synchronous NORMAL|FULL]
   * [--no-raw] [--only claim|submit BATCH] [--json]}.
   * Without --dir the databases go to a fresh temporary directory, removed afterwards.
   */
  public static void main(String[] args) throws IOException {
    Options o = Options.defaults();
    Path dir = null;
    boolean json = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--dir" -> dir = Path.of(args[++i]);
        case "--seconds" -> o = o.withDuration(Duration.ofMillis((long) (Double.parseDouble(args[++i]) * 1000)));
        case "--runs" -> o = o.withRuns(Integer.parseInt(args[++i]));
        case "--synchronous" -> o = new Options(o.duration(), o.runs(), o.claimBatches(), o.submitBatches(),
            o.partitions(), args[++i], o.raw());
        case "--no-raw" -> o = new Options(o.duration(), o.runs(), o.claimBatches(), o.submitBatches(),
            o.partitions(), o.synchronous(), false);
        case "--only" -> {
          String which = args[++i];
          List<Integer> batches = List.of(Integer.parseInt(args[++i]));
          o = new Options(o.duration(), o.runs(), which.equals("claim") ? batches : List.of(),
              which.equals("submit") ? batches : List.of(), o.partitions(), o.synchronous(), o.raw());
        }
        case "--json" -> json = true;
        default -> {
          System.err.println("usage: StoreBench [--dir DIR] [--seconds N] [--runs N] [--synchronous NORMAL|FULL]"
              + " [--no-raw] [--only claim|submit BATCH] [--json]");
          System.exit(2);
        }
      }
    }
    boolean temp = dir == null;
    Path root = temp ? Files.createTempDirectory("slotted-store-bench") : Files.createDirectories(dir);
    try {
      Result r = run(root, o);
      System.out.print(r.table());
      if (json) {
        System.out.println(r.json());
      }
    } finally {
      if (temp) {
        deleteTree(root);
      }
    }
  }
}
