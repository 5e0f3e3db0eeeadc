package dev.slotted.orchestrator.store.sqlite;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A separate JVM in the multi-process race: {@code RaceChild <db> <runnerId> <total> <out> <seed>}.
 * Announces itself with a ready file, then waits for the go file beside the database, so every
 * process starts claiming at once, then writes
 * one line per claim ({@code C id token A|N}) and a summary line to {@code out}.
 */
public final class RaceChild {
  private RaceChild() {}

  public static void main(String[] args) throws Exception {
    Path db = Path.of(args[0]);
    String runner = args[1];
    int total = Integer.parseInt(args[2]);
    Path out = Path.of(args[3]);
    long seed = Long.parseLong(args[4]);
    // Separate processes contend for the write lock (no TDMA here): wait longer than the default.
    List<Duration> backoff = List.of(1, 2, 5, 10, 20, 50, 100, 200, 400, 800).stream()
        .map(Duration::ofMillis).toList();
    SqliteStoreSettings settings = SqliteStoreSettings.defaults(db).withPartitions(4).withBusyBackoff(backoff);
    try (SqliteJobStore store = SqliteJobStore.open(settings)) {
      Files.writeString(db.resolveSibling("ready-" + runner), "ready");
      Path go = db.resolveSibling("go");
      long deadline = System.currentTimeMillis() + 60_000;
      while (!Files.exists(go) && System.currentTimeMillis() < deadline) {
        Thread.sleep(2);
      }
      RaceWorker.Report r = new RaceWorker(store, runner, store.partitions(), 0.03, seed,
          RaceWorker.allSucceeded(store, "race", total)).run();
      try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out, StandardCharsets.UTF_8))) {
        for (RaceWorker.Claim c : r.claims()) {
          w.println("C " + c.jobId() + " " + c.token() + " " + (c.abandoned() ? "A" : "N"));
        }
        w.println("S " + r.accepted() + " " + r.refusedNormal() + " " + r.staleRefused() + " " + r.staleAccepted()
            + " " + r.storeErrors() + " " + store.busyRetries() + " " + store.leaseRejections());
      }
    }
  }
}
