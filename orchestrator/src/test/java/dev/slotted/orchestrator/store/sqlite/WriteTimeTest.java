package dev.slotted.orchestrator.store.sqlite;

import static dev.slotted.orchestrator.store.JobStoreContractTest.at;
import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.orchestrator.store.ClaimRequest;
import dev.slotted.orchestrator.store.Lease;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.NewJob;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * G2/G3 need the time a write stores to be the time it ran (issue 13): a claim, renewal or
 * completion decided now but written after a wait (here another process holding the SQLite write
 * lock, which costs busy retries) must store the time it got the lock, and a lease must never be
 * written shorter than asked. The store reads the clock inside the transaction; before, the caller
 * passed an instant read when it decided, and every assertion below on "after the lock was freed"
 * failed by the length of the wait.
 */
class WriteTimeTest {
  private static final Duration LEASE = Duration.ofSeconds(30);

  @TempDir Path dir;

  /**
   * Holds the write lock from another connection until the store has met it (a busy retry was
   * counted), then a little longer; returns once the lock is held.
   */
  private static final class LockHolder implements AutoCloseable {
    private final Thread thread;
    private final AtomicReference<Instant> releasedAt = new AtomicReference<>();

    LockHolder(Path file, SqliteJobStore store) throws InterruptedException {
      CountDownLatch held = new CountDownLatch(1);
      long retries = store.busyRetries();
      thread = new Thread(() -> {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            Statement st = c.createStatement()) {
          st.execute("BEGIN IMMEDIATE");
          held.countDown();
          long deadline = System.nanoTime() + 10_000_000_000L;
          while (store.busyRetries() == retries && System.nanoTime() < deadline) {
            Thread.sleep(5);
          }
          Thread.sleep(50);
          releasedAt.set(Instant.now()); // before COMMIT: nobody else can have the lock yet
          st.execute("COMMIT");
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      thread.start();
      assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
    }

    Instant releasedAt() throws InterruptedException {
      thread.join(10_000);
      return releasedAt.get();
    }

    @Override
    public void close() throws InterruptedException {
      thread.join(10_000);
    }
  }

  private static <T> T join(CompletionStage<T> s) throws Exception {
    return s.toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @Test
  void claimsRenewalsAndCompletionsStoreTheTimeTheyGotTheLockNotTheTimeTheyWereAskedFor() throws Exception {
    Path file = dir.resolve("t.db");
    Clock clock = Clock.systemUTC();
    // Long busy waits: the write must outlast the holder even on a loaded machine.
    SqliteStoreSettings settings = SqliteStoreSettings.defaults(file).withPartitions(1)
        .withBusyBackoff(List.of(Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(2), Duration.ofSeconds(5)));
    try (SqliteJobStore store = SqliteJobStore.open(settings)) {
      List<NewJob> jobs = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        jobs.add(NewJob.of("q", "{}"));
      }
      join(store.submitBatch(jobs, clock));
      ClaimRequest req = new ClaimRequest(0, Set.of(), Set.of(), 4, "r#1", LEASE);

      // A claim asked for while another process holds the lock.
      long retriesBefore = store.busyRetries();
      List<ClaimedJob> claimed;
      Instant freed;
      try (LockHolder lock = new LockHolder(file, store)) {
        Instant asked = clock.instant();
        claimed = join(store.claim(req, clock));
        freed = lock.releasedAt();
        assertThat(freed).as("the claim really waited").isAfter(asked);
      }
      assertThat(store.busyRetries()).as("the wait was SQLITE_BUSY retries").isGreaterThan(retriesBefore);
      assertThat(claimed).hasSize(4).allSatisfy(j -> assertThat(j.claimedAt()).isAfterOrEqualTo(freed));
      // The lease runs a full LEASE from the claim's stored time: not reaped 1 ms before, reaped at it.
      Instant claimedAt = claimed.get(0).claimedAt();
      assertThat(claimed).allSatisfy(j -> assertThat(j.claimedAt()).isEqualTo(claimedAt));
      assertThat(join(store.reapExpired(0, at(claimedAt.plus(LEASE).minusMillis(1))))).isEmpty();

      // A renewal asked for under the lock extends from when it ran.
      List<Lease> leases = claimed.stream().map(j -> new Lease(j.id(), j.leaseToken())).toList();
      Instant renewFreed;
      try (LockHolder lock = new LockHolder(file, store)) {
        assertThat(join(store.renewLeases("r#1", leases.subList(0, 2), LEASE, clock))).isEmpty();
        renewFreed = lock.releasedAt();
      }
      assertThat(join(store.reapExpired(0, at(renewFreed.plus(LEASE).minusMillis(1)))))
          .as("a renewed lease lasts LEASE from the time the renewal got the lock")
          .containsExactlyInAnyOrder(claimed.get(2).id(), claimed.get(3).id());

      // A completion asked for under the lock ends the job when it was written.
      ClaimedJob j = claimed.get(0);
      Instant completeFreed;
      try (LockHolder lock = new LockHolder(file, store)) {
        join(store.complete(List.of(Completion.succeeded(j, "w-1", clock.instant())), clock));
        completeFreed = lock.releasedAt();
      }
      Job done = join(store.get(j.id())).orElseThrow();
      assertThat(done.finishedAt()).isAfterOrEqualTo(completeFreed);
    }
  }
}
