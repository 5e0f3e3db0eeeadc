package dev.slotted.worker.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OrphanReaperTest {
  @TempDir Path dir;
  private final List<Process> started = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    started.forEach(p -> {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    });
  }

  private Process start(String... argv) throws Exception {
    Process p = new ProcessBuilder(argv).start();
    started.add(p);
    return p;
  }

  /** A "runner" that has exited: its pid and start instant no longer match a live process. */
  private record DeadRunner(long pid, Instant start) {}

  private static DeadRunner deadRunner() throws Exception {
    Process p = new ProcessBuilder("sleep", "100").start();
    Instant start = p.toHandle().info().startInstant().orElseThrow();
    p.destroyForcibly().waitFor();
    return new DeadRunner(p.pid(), start);
  }

  @Test
  void killsTheRecordedTreeOfADeadRunnerAndIgnoresAReusedPid() throws Exception {
    DeadRunner runner = deadRunner();
    PidRegistry previousLife = PidRegistry.openAs(dir, runner.pid(), runner.start());

    Process orphan = start("sh", "-c", "sleep 100 & sleep 100");
    previousLife.record(orphan.toHandle(), "sh -c sleep");
    // Wait until the shell has its background child, so the whole tree is at stake.
    long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (orphan.descendants().count() < 1 && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    List<ProcessHandle> tree = orphan.descendants().toList();
    assertThat(tree).isNotEmpty();

    // Same pid as recorded, different start instant: a reused pid, which must survive.
    Process bystander = start("sleep", "100");
    previousLife.record(bystander.toHandle(), "sleep 100");
    Path entry = dir.resolve(bystander.pid() + ".pid");
    Properties p = new Properties();
    try (var in = Files.newBufferedReader(entry)) {
      p.load(in);
    }
    p.setProperty("start", Instant.parse(p.getProperty("start")).minusSeconds(3600).toString());
    try (var out = Files.newBufferedWriter(entry)) {
      p.store(out, null);
    }

    // An entry of the live runner sharing the directory (this JVM) is not touched.
    Process mine = start("sleep", "100");
    PidRegistry live = PidRegistry.open(dir);
    live.record(mine.toHandle(), "sleep 100");

    OrphanReaper.Result r = OrphanReaper.reap(live, Duration.ofSeconds(2));

    assertThat(r.killed()).isEqualTo(1);
    assertThat(r.stale()).isEqualTo(1);
    assertThat(r.keptForLiveRunner()).isEqualTo(1);
    assertThat(ProcessTree.isRunning(orphan.toHandle())).isFalse();
    assertThat(tree).noneMatch(ProcessTree::isRunning);
    assertThat(bystander.isAlive()).isTrue();
    assertThat(mine.isAlive()).isTrue();
    assertThat(live.entries()).extracting(PidRegistry.Entry::pid).containsExactly(mine.pid());
  }

  @Test
  void entriesOfProcessesThatEndedAreDropped() throws Exception {
    DeadRunner runner = deadRunner();
    PidRegistry previousLife = PidRegistry.openAs(dir, runner.pid(), runner.start());
    Process done = start("true");
    previousLife.record(done.toHandle(), "true");
    done.waitFor();
    Files.writeString(dir.resolve("garbage.pid"), "not=an entry");

    OrphanReaper.Result r = OrphanReaper.reap(PidRegistry.open(dir), Duration.ofSeconds(1));
    assertThat(r.killed()).isZero();
    assertThat(r.stale()).isEqualTo(1);
    try (var files = Files.list(dir)) {
      assertThat(files).isEmpty();
    }
  }
}
