package dev.slotted.orchestrator.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.slotted.orchestrator.store.ClaimRequest;
import dev.slotted.orchestrator.store.JobQuery;
import dev.slotted.orchestrator.store.JobStore;
import dev.slotted.orchestrator.store.Page;
import dev.slotted.orchestrator.store.StoreException;
import dev.slotted.orchestrator.store.sqlite.SqliteJobStore;
import dev.slotted.orchestrator.store.sqlite.SqliteStoreSettings;
import dev.slotted.protocol.ClaimedJob;
import dev.slotted.protocol.Completion;
import dev.slotted.protocol.Job;
import dev.slotted.protocol.JobState;
import dev.slotted.protocol.NewJob;
import dev.slotted.protocol.RetryPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code slotted store copy}: a SQLite store with succeeded, retried, dead, cancelled, scheduled and
 * running jobs is copied into PostgreSQL, and the copy answers every read exactly as the original:
 * each job (attempts included), every page of the list, the dead-letter list, the queue counts.
 */
class StoreCopyTest {
  private static final Instant T0 = Instant.parse("2026-12-01T06:00:00Z");
  private static final Duration LEASE = Duration.ofSeconds(30);

  @TempDir Path dir;

  private static <T> T join(CompletionStage<T> s) {
    return s.toCompletableFuture().join();
  }

  @Test
  void aCopyAnswersEveryReadAsTheOriginalAndANonEmptyTargetIsRefused() {
    Path file = dir.resolve("slotted.db");
    try (SqliteJobStore src = SqliteJobStore.open(SqliteStoreSettings.defaults(file).withPartitions(4))) {
      List<NewJob> batch = new ArrayList<>();
      for (int i = 0; i < 120; i++) {
        NewJob j = NewJob.of(i % 3 == 0 ? "reports" : "mail", "{\"i\":" + i + "}").withPartitionKey("k" + (i % 7))
            .withMaxAttempts(2).withRetry(new RetryPolicy.Immediate());
        if (i % 10 == 0) {
          j = j.withIdempotencyKey("key-" + i);
        }
        if (i % 11 == 0) {
          j = j.withTags(List.of("gpu"));
        }
        batch.add(j);
      }
      join(src.submitBatch(batch, T0));
      join(src.submit(NewJob.of("mail", "{}").withRunAt(T0.plusSeconds(3600)), T0));
      Instant t = T0.plusSeconds(1);
      for (int round = 0; round < 3; round++) {
        for (int p = 0; p < 4; p++) {
          List<ClaimedJob> got = join(src.claim(new ClaimRequest(p, Set.of(), Set.of("gpu"), 100, "r#1", LEASE, t)));
          List<Completion> done = new ArrayList<>();
          for (ClaimedJob j : got) {
            int i = Integer.parseInt(j.payload().replaceAll("\\D", ""));
            if (i % 5 == 0 && round < 2) {
              done.add(Completion.failed(j, true, "boom", 1, "log tail " + i, "w-1", t.plusMillis(5)));
            } else if (i % 13 == 0) {
              continue; // stays running
            } else {
              done.add(Completion.succeeded(j, "w-1", t.plusMillis(5)));
            }
          }
          join(src.complete(done, t.plusMillis(5)));
        }
        t = t.plusSeconds(1);
      }
      Job toCancel = join(src.submit(NewJob.of("reports", "{}").withRunAt(T0.plusSeconds(7200)), t)).job();
      join(src.cancel(toCancel.id(), t));
    }

    String schema = TestPostgres.freshSchema("copy");
    PostgresStoreSettings target = PostgresStoreSettings.defaults(TestPostgres.url(), schema);
    StoreCopy.Report report = StoreCopy.copy(file, target);
    assertThat(report.rows().get("jobs")).isEqualTo(122);
    assertThat(report.rows().get("attempts")).isPositive();

    try (SqliteJobStore src = SqliteJobStore.open(SqliteStoreSettings.defaults(file));
         PostgresJobStore dst = PostgresJobStore.open(target)) {
      assertThat(dst.partitions()).isEqualTo(4);
      List<Job> all = pages(src, new JobQuery(null, null, 25, null));
      assertThat(all).hasSize(122);
      assertThat(pages(dst, new JobQuery(null, null, 25, null))).isEqualTo(all);
      assertThat(all.stream().map(Job::state).distinct()).contains(JobState.SUCCEEDED, JobState.DEAD,
          JobState.RUNNING, JobState.SCHEDULED, JobState.CANCELLED);
      for (Job j : all) {
        assertThat(join(dst.get(j.id()))).contains(j);
      }
      assertThat(pages(dst, new JobQuery("mail", JobState.DEAD, 10, null)))
          .isEqualTo(pages(src, new JobQuery("mail", JobState.DEAD, 10, null))).isNotEmpty();
      assertThat(join(dst.queueCounts(T0.plusSeconds(60)))).isEqualTo(join(src.queueCounts(T0.plusSeconds(60))));
      // New ids continue after the copied ones.
      long max = all.stream().mapToLong(j -> Long.parseLong(j.id())).max().orElseThrow();
      assertThat(Long.parseLong(join(dst.submit(NewJob.of("mail", "{}"), T0)).job().id())).isGreaterThan(max);
    }
    assertThatThrownBy(() -> StoreCopy.copy(file, target))
        .isInstanceOf(StoreException.class).hasMessageContaining("not empty");
  }

  private static List<Job> pages(JobStore s, JobQuery first) {
    List<Job> out = new ArrayList<>();
    JobQuery q = first;
    while (true) {
      Page<Job> p = join(s.list(q));
      out.addAll(p.items());
      if (p.nextCursor() == null) {
        return out;
      }
      q = new JobQuery(first.queue(), first.state(), first.limit(), p.nextCursor());
    }
  }
}
