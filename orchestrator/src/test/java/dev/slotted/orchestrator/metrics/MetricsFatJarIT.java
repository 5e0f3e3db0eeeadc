package dev.slotted.orchestrator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Kamon inside the shaded jar: its reference.conf files concatenated with ours, the Kanela agent
 * jar nested as a resource and attached at runtime, Slotted's Kamon overlay found on the
 * classpath. The JVM flags are the ones the launcher passes.
 */
class MetricsFatJarIT {

  /** What ./slotted must pass to java for Kamon's agent (see the launcher). */
  static final List<String> LAUNCHER_FLAGS =
      List.of("-XX:+EnableDynamicAgentLoading", "-Djdk.attach.allowAttachSelf=true");

  @Test
  void actorAndSlottedMetricsWorkFromTheFatJar() throws Exception {
    String jar = System.getProperty("slotted.jar");
    assertThat(new File(jar)).isFile();
    String testClasses = Path.of(FatJarProbe.class.getProtectionDomain().getCodeSource()
        .getLocation().toURI()).toString();

    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(LAUNCHER_FLAGS);
    cmd.addAll(List.of("-cp", jar + File.pathSeparator + testClasses,
        FatJarProbe.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    System.out.println(out.lines().filter(l -> l.startsWith("INIT_MILLIS") || l.contains("Metrics started"))
        .toList());

    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("ACTOR_METRICS=true").contains("LISTENING=[]");
    String scrape = out.substring(out.indexOf("SCRAPE-BEGIN"), out.indexOf("SCRAPE-END"));
    Exposition e = Exposition.parse(scrape.substring(scrape.indexOf('\n') + 1));
    assertThat(e.named("pekko_actor_processing_time_seconds_count"))
        .anySatisfy(s -> assertThat(s.labels()).containsEntry("path", "slotted/user/runtime/reconciler-1"));
    assertThat(e.types()).containsKeys(Metrics.STORE_BUSY_RETRIES, Metrics.SLOT_OVERRUNS,
        Metrics.ACTOR_MAILBOX_SIZE, Metrics.ACTOR_TIME_IN_MAILBOX);
    // Kamon's status page and Prometheus server would log their start; the overlay keeps them off.
    assertThat(out).doesNotContain("Status Page").doesNotContain("embedded HTTP server");
  }
}
