package dev.slotted.orchestrator.store.sqlite;

import static dev.slotted.orchestrator.store.JobStoreContractTest.at;

import dev.slotted.orchestrator.store.ClaimRequest;
import dev.slotted.orchestrator.store.CompletionResult;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.QueueCounts;
import dev.slotted.orchestrator.store.StoreException;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.function.BooleanSupplier;

/**
 * One claimer in a race: claims from the partitions in turn, completes what it claims, and now and
 * then abandons a claim (as a runner that died would) with a lease that expires at once. Someone's
 * reaper then takes the job back and another claim runs it. As soon as the claimer sees its
 * abandoned attempt ended (reaped), it presents the stale token, typically while another claimer
 * holds the job: it must be refused, and the holder's own completion must still be accepted. Used by threads in one JVM and by child processes.
 */
final class RaceWorker {
  static final Duration LONG_LEASE = Duration.ofHours(1);
  static final Duration EXPIRED_LEASE = Duration.ofMillis(1);

  /** One claim seen by this worker: abandoned or run to success. */
  record Claim(String jobId, String token, boolean abandoned) {}

  record Report(List<Claim> claims, int accepted, int refusedNormal, int staleRefused, int staleAccepted, int storeErrors) {
    @Override
    public String toString() {
      return "Report[" + claims.size() + " claims, accepted=" + accepted + ", refusedNormal=" + refusedNormal
          + ", staleRefused=" + staleRefused + ", staleAccepted=" + staleAccepted + ", storeErrors=" + storeErrors + "]";
    }
  }

  private final JobStore store;
  private final String runnerId;
  private final int partitions;
  private final double abandonRate;
  private final Random random;
  private final BooleanSupplier done;

  RaceWorker(JobStore store, String runnerId, int partitions, double abandonRate, long seed, BooleanSupplier done) {
    this.store = store;
    this.runnerId = runnerId;
    this.partitions = partitions;
    this.abandonRate = abandonRate;
    this.random = new Random(seed);
    this.done = done;
  }

  /** Done when the store counts {@code total} succeeded jobs in {@code queue}. */
  static BooleanSupplier allSucceeded(JobStore store, String queue, int total) {
    return () -> store.queueCounts(Instant.now()).toCompletableFuture().join().stream()
        .filter(q -> q.queue().equals(queue)).mapToLong(QueueCounts::succeeded).sum() >= total;
  }

  Report run() {
    List<Claim> claims = new ArrayList<>();
    List<ClaimedJob> abandoned = new ArrayList<>();
    staleRefused = 0;
    staleAccepted = 0;
    int accepted = 0;
    int refusedNormal = 0;
    int storeErrors = 0;
    int p = random.nextInt(partitions);
    int idle = 0;
    while (true) {
      p = (p + 1) % partitions;
      boolean abandon = random.nextDouble() < abandonRate;
      List<ClaimedJob> got;
      try {
        got = store.claim(new ClaimRequest(p, Set.of(), Set.of(), 1 + random.nextInt(20), runnerId,
            abandon ? EXPIRED_LEASE : LONG_LEASE), at(Instant.now())).toCompletableFuture().join();
      } catch (CompletionException e) {
        storeErrors += busyOrThrow(e);
        continue;
      }
      for (ClaimedJob j : got) {
        claims.add(new Claim(j.id(), j.leaseToken(), abandon));
      }
      staleRefused += presentReapedStaleTokens(abandoned, 3);
      if (abandon) {
        abandoned.addAll(got);
      } else if (!got.isEmpty()) {
        List<Completion> completions = new ArrayList<>();
        for (ClaimedJob j : got) {
          completions.add(Completion.succeeded(j, runnerId, Instant.now()));
        }
        // A completion that met an exhausted busy retry wrote nothing: present it again.
        while (true) {
          try {
            for (CompletionResult r : store.complete(completions, at(Instant.now())).toCompletableFuture().join()) {
              if (r.accepted() && r.newState() == JobState.SUCCEEDED) {
                accepted++;
              } else {
                refusedNormal++;
              }
            }
            break;
          } catch (CompletionException e) {
            storeErrors += busyOrThrow(e);
          }
        }
      }
      // A breath between rounds: without it, on a loaded machine one process can hold SQLite's lock
      // back to back and drain everything before the other's busy retry ever finds it free, and
      // the race this test is about would not happen.
      java.util.concurrent.locks.LockSupport.parkNanos(300_000);
      if (got.isEmpty() || random.nextInt(8) == 0) {
        try {
          store.reapExpired(p, at(Instant.now())).toCompletableFuture().join();
        } catch (CompletionException e) {
          storeErrors += busyOrThrow(e);
        }
      }
      if (got.isEmpty() && ++idle % partitions == 0) {
        if (done.getAsBoolean()) {
          break;
        }
        sleepQuietly(1);
      } else if (!got.isEmpty()) {
        idle = 0;
      }
    }
    for (ClaimedJob j : abandoned) {
      CompletionResult r = store.complete(List.of(Completion.succeeded(j, runnerId, Instant.now())), at(Instant.now()))
          .toCompletableFuture().join().get(0);
      if (r.accepted()) {
        staleAccepted++;
      } else {
        staleRefused++;
      }
    }
    return new Report(claims, accepted, refusedNormal, staleRefused, staleAccepted, storeErrors);
  }

  private int staleRefused;
  private int staleAccepted;

  /**
   * Presents the tokens of up to {@code max} abandoned claims whose attempt has ended (been reaped).
   * Returns how many were refused; an accepted one is counted in {@code staleAccepted}.
   */
  private int presentReapedStaleTokens(List<ClaimedJob> abandoned, int max) {
    int refused = 0;
    for (int i = 0; i < abandoned.size() && max-- > 0; ) {
      ClaimedJob j = abandoned.get(i);
      Job now;
      try {
        now = store.get(j.id()).toCompletableFuture().join().orElseThrow();
      } catch (CompletionException e) {
        busyOrThrow(e);
        return refused;
      }
      boolean reaped = now.attempts().stream().anyMatch(a -> a.number() == j.attempt() && a.endedAt() != null);
      if (!reaped) {
        i++;
        continue;
      }
      abandoned.remove(i);
      try {
        CompletionResult r = store.complete(List.of(Completion.succeeded(j, runnerId, Instant.now())), at(Instant.now()))
            .toCompletableFuture().join().get(0);
        if (r.accepted()) {
          staleAccepted++;
        } else {
          refused++;
        }
      } catch (CompletionException e) {
        busyOrThrow(e);
        abandoned.add(j);
      }
    }
    return refused;
  }

  private static int busyOrThrow(CompletionException e) {
    if (e.getCause() instanceof StoreException s && s.getMessage().contains("busy")) {
      return 1;
    }
    throw e;
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
