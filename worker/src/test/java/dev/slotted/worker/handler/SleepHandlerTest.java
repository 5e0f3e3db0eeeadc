package dev.slotted.worker.handler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.slotted.worker.Cancellation;
import dev.slotted.worker.JobContext;
import dev.slotted.worker.JobResult;
import dev.slotted.worker.NonRetryableException;
import dev.slotted.worker.testing.Jobs;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SleepHandlerTest {
  @TempDir Path logDir;
  private final SleepHandler sleep = new SleepHandler();

  private JobResult run(String payload, int attempt) throws Exception {
    return sleep.run(Jobs.context(Jobs.job("demo", payload, attempt, null), logDir));
  }

  @Test
  void failFirstFailsExactlyTheFirstAttempts() throws Exception {
    String payload = "{\"ms\": 1, \"failFirst\": 2}";
    assertThat(run(payload, 1)).isInstanceOfSatisfying(JobResult.Failure.class,
        f -> assertThat(f.retryable()).isTrue());
    assertThat(run(payload, 2)).isInstanceOf(JobResult.Failure.class);
    assertThat(run(payload, 3)).isInstanceOf(JobResult.Success.class);
  }

  @Test
  void failProbabilityOneAlwaysFailsAndZeroNever() throws Exception {
    for (int i = 0; i < 20; i++) {
      assertThat(run("{\"fail\": 1}", 1)).isInstanceOf(JobResult.Failure.class);
      assertThat(run("{\"fail\": 0}", 1)).isInstanceOf(JobResult.Success.class);
    }
  }

  @Test
  void nonObjectPayloadMeansDefaults() throws Exception {
    assertThat(run("null", 1)).isInstanceOf(JobResult.Success.class);
    assertThat(run("[1,2]", 1)).isInstanceOf(JobResult.Success.class);
  }

  @Test
  void badFieldsAreNotRetryable() {
    assertThatThrownBy(() -> run("{\"ms\": \"soon\"}", 1))
        .isInstanceOf(NonRetryableException.class).hasMessageContaining("'ms'");
    assertThatThrownBy(() -> run("{\"fail\": 2}", 1))
        .isInstanceOf(NonRetryableException.class).hasMessageContaining("'fail'");
    assertThatThrownBy(() -> run("{not json", 1)).isInstanceOf(NonRetryableException.class);
  }

  @Test
  void sleepIsCutShortByACancel() throws Exception {
    JobContext ctx = Jobs.context(Jobs.job("demo", "{\"ms\": 60000}"), logDir);
    CompletableFuture<JobResult> r = CompletableFuture.supplyAsync(() -> {
      try {
        return sleep.run(ctx);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    Thread.sleep(50);
    assertThat(r).isNotDone();
    ctx.cancellation().cancel(Cancellation.Reason.STOPPED);
    assertThat(r.get(5, TimeUnit.SECONDS)).isInstanceOf(JobResult.Failure.class);
  }
}
