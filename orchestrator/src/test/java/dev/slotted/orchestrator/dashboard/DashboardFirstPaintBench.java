package dev.slotted.orchestrator.dashboard;

import static dev.slotted.orchestrator.store.JobStoreContractTest.at;

import dev.slotted.orchestrator.http.TestServer;
import dev.slotted.orchestrator.http.TestStores;
import dev.slotted.protocol.NewJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * Not part of {@code mvn verify} (no *Test name): the dashboard's first paint with a big store, for
 * BENCHMARKS.md. Run: {@code mvn -B -q -pl orchestrator -am -Dtest=DashboardFirstPaintBench
 * -Dsurefire.failIfNoSpecifiedTests=false -Dbench.jobs=100000 test}; prints the numbers.
 */
class DashboardFirstPaintBench {
  private static final String[] QUEUES = {"reports", "demo", "paging"};

  @Test
  void firstPaint() throws Exception {
    int jobs = Integer.getInteger("bench.jobs", 100_000);
    int runs = Integer.getInteger("bench.runs", 7);
    Path dir = Files.createTempDirectory("dash-bench");
    try (TestServer server = TestServer.start(dir, "", TestStores.sqlite(dir))) {
      long t0 = System.nanoTime();
      Instant now = Instant.now();
      for (int i = 0; i < jobs; i += 1000) {
        List<NewJob> batch = new ArrayList<>();
        for (int k = i; k < Math.min(jobs, i + 1000); k++) {
          batch.add(NewJob.of(QUEUES[k % QUEUES.length], "{\"n\":" + k + "}"));
        }
        server.store.submitBatch(batch, at(now)).toCompletableFuture().get(60, TimeUnit.SECONDS);
      }
      System.out.printf("seeded %d jobs in %d ms%n", jobs, (System.nanoTime() - t0) / 1_000_000);
      for (String path : List.of("/api/v1/jobs?limit=50", "/api/v1/jobs?limit=50&queue=demo",
          "/api/v1/jobs?limit=50&state=ready", "/api/v1/jobs?limit=50&cursor=" + (jobs / 100), "/api/v1/jobs?limit=50&state=succeeded", "/api/v1/queues",
          "/api/v1/dead?limit=50")) {
        long[] ms = new long[runs];
        for (int r = 0; r < runs; r++) {
          long a = System.nanoTime();
          server.get(path);
          ms[r] = (System.nanoTime() - a) / 1_000_000;
        }
        Arrays.sort(ms);
        System.out.printf("GET %-40s median %d ms, max %d ms%n", path, ms[runs / 2], ms[runs - 1]);
      }
      // Let the feed take a snapshot of the seeded store before the first page load.
      Thread.sleep(1500);
      ChromeDriver browser = Chromium.start(dir.resolve("chrome-profile"));
      try {
        measure(server, browser, server.base + "/#/jobs", "slotted:jobs-painted", runs);
        measure(server, browser, server.base + "/", "slotted:overview-painted", runs);
        Chromium.screenshot(browser, "bench-overview-" + jobs);
      } finally {
        browser.quit();
      }
    }
  }

  private static void measure(TestServer server, ChromeDriver browser, String url, String mark, int runs) throws Exception {
    long[] data = new long[runs];
    long[] fcp = new long[runs];
    for (int r = 0; r < runs; r++) {
      browser.get("about:blank");
      browser.get(url);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      Object t = null;
      while (t == null && System.nanoTime() < deadline) {
        t = browser.executeScript("const e = performance.getEntriesByName(arguments[0]); return e.length ? e[0].startTime : null;", mark);
        if (t == null) {
          Thread.sleep(10);
        }
      }
      if (t == null) {
        long a = System.nanoTime();
        System.out.println("server answers: " + server.get("/api/v1/jobs?limit=50").statusCode() + " in "
            + (System.nanoTime() - a) / 1_000_000 + " ms");
        System.out.println("browser fetch: " + browser.executeAsyncScript(
            "const cb = arguments[arguments.length - 1]; const t = performance.now();"
            + "fetch('/api/v1/jobs?limit=5').then(r => r.text()).then(x => cb((performance.now() - t) + ' ' + x.length), e => cb('err ' + e));"));
        throw new AssertionError("no " + mark + " on " + url + ": " + browser.executeScript(
            "return JSON.stringify(performance.getEntries().map(e => e.name)) + document.body.innerText"));
      }
      data[r] = Math.round(((Number) t).doubleValue());
      Object f = browser.executeScript("const e = performance.getEntriesByName('first-contentful-paint'); return e.length ? e[0].startTime : -1;");
      fcp[r] = Math.round(((Number) f).doubleValue());
    }
    Arrays.sort(data);
    Arrays.sort(fcp);
    System.out.printf("%s: first contentful paint median %d ms (max %d); data painted (%s) median %d ms, max %d ms, all %s%n",
        url, fcp[runs / 2], fcp[runs - 1], mark, data[runs / 2], data[runs - 1], Arrays.toString(data));
  }
}
