package dev.slotted.orchestrator.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.orchestrator.store.Submitted;
import dev.slotted.orchestrator.store.sqlite.SqliteJobStore;
import dev.slotted.orchestrator.store.sqlite.SqliteStoreSettings;
import dev.slotted.protocol.NewJob;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The write gate holds every write of the store until the runner's window is open (G5). */
class SlotGateTest {
  @TempDir Path dir;

  @Test
  void aWriteOutsideTheWindowWaitsForTheNextWindowAndReadsDoNot() throws Exception {
    Clock clock = Clock.systemUTC();
    SlotGate gate = new SlotGate(clock, Duration.ofMillis(2));
    try (SqliteJobStore store = SqliteJobStore.open(SqliteStoreSettings.defaults(dir.resolve("s.db")))) {
      store.partitions(); // migrations ran before the gate exists
      store.gateWrites(gate);

      CompletableFuture<Submitted> held = store.submit(NewJob.of("q", "{}"), clock.instant()).toCompletableFuture();
      Thread.sleep(300);
      assertThat(held).as("a write while the window is closed").isNotDone();
      // Reads never wait for the window.
      assertThat(store.list(new dev.slotted.orchestrator.store.JobQuery(null, null, 10, null))
          .toCompletableFuture().get(5, TimeUnit.SECONDS).items()).isEmpty();

      gate.opened(clock.instant().plusSeconds(10));
      assertThat(held.get(5, TimeUnit.SECONDS).created()).isTrue();

      // A window about to close (less than the margin left) does not start a write either.
      gate.opened(clock.instant().plusMillis(1));
      CompletableFuture<Submitted> late = store.submit(NewJob.of("q", "{}"), clock.instant()).toCompletableFuture();
      Thread.sleep(200);
      assertThat(late).isNotDone();
      gate.closed();
      Thread.sleep(100);
      assertThat(late).isNotDone();

      gate.opened(Instant.MAX); // an endless window (a lone runner)
      assertThat(late.get(5, TimeUnit.SECONDS).created()).isTrue();

      gate.closed();
      CompletableFuture<Submitted> atShutdown = store.submit(NewJob.of("q", "{}"), clock.instant()).toCompletableFuture();
      gate.release(); // shutdown: nothing may wait on a stopped clock
      assertThat(atShutdown.get(5, TimeUnit.SECONDS).created()).isTrue();
    }
  }
}
