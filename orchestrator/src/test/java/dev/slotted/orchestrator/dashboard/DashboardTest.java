package dev.slotted.orchestrator.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.slotted.orchestrator.app.SlottedApp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web dashboard in a real browser (headless Chromium) against a whole runner in this JVM: the
 * pages load from the jar, show the store's figures, and follow changes live through the
 * Server-Sent Events feed without a reload. Screenshots of each page land in
 * target/dashboard-screenshots/.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir static Path dir;
  private static SlottedApp app;
  private static ChromeDriver browser;
  private static String base;

  @BeforeAll
  static void start() {
    app = SlottedApp.start(config("dash-one", dir.resolve("one")));
    base = "http://127.0.0.1:" + app.port();
    browser = Chromium.start(dir.resolve("chrome-profile"));
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.quit();
    }
    if (app != null) {
      app.close();
    }
  }

  static Config config(String node, Path own) {
    return ConfigFactory.parseString(String.join("\n",
            "slotted {",
            "  node-id = " + node,
            "  store.sqlite.path = \"" + dir.resolve("slotted.db") + "\"",
            "  schedules.journal-path = \"" + own.resolve("journal.db") + "\"",
            "  http.port = 0",
            "  workers.log-dir = \"" + own.resolve("logs") + "\"",
            "  workers.pid-dir = \"" + own.resolve("pids") + "\"",
            "  queues {",
            "    reports { handler = noop }",
            "    emails { handler = noop }",
            "    flaky { handler = sleep, max-attempts = 1 }",
            "  }",
            "}",
            "pekko.management.http.port = 0"))
        .withFallback(ConfigFactory.load());
  }

  @Test
  @Order(1)
  void theOverviewLoadsAndShowsTheConfiguredQueues() {
    browser.get(base + "/");
    await(Duration.ofSeconds(10), () -> rows("#queue-rows tr[data-queue]").size() >= 3);
    assertThat(rows("#queue-rows tr[data-queue]")).extracting(e -> e.getAttribute("data-queue"))
        .contains("reports", "emails", "flaky");
    assertThat(browser.findElement(By.id("live")).getText()).isEqualTo("live");
    assertThat(browser.findElements(By.cssSelector("#throughput svg"))).hasSize(1);
    Chromium.screenshot(browser, "overview");

    // Dark when the system is dark (prefers-color-scheme).
    String light = (String) browser.executeScript("return getComputedStyle(document.documentElement).backgroundColor");
    browser.executeCdpCommand("Emulation.setEmulatedMedia",
        Map.of("features", List.of(Map.of("name", "prefers-color-scheme", "value", "dark"))));
    assertThat(browser.executeScript("return getComputedStyle(document.documentElement).backgroundColor")).isNotEqualTo(light);
    Chromium.screenshot(browser, "overview-dark");
    browser.executeCdpCommand("Emulation.setEmulatedMedia", Map.of("features", List.of()));

    // From the keyboard: g then j opens the jobs, / focuses the search box.
    new Actions(browser).sendKeys("g").sendKeys("j").perform();
    await(Duration.ofSeconds(5), () -> browser.getCurrentUrl().endsWith("#/jobs"));
    new Actions(browser).sendKeys("/").perform();
    await(Duration.ofSeconds(5), () -> "f-find".equals(browser.switchTo().activeElement().getAttribute("id")));
  }

  @Test
  @Order(2)
  void aJobSubmittedThroughTheApiAppearsInTheJobListWithinTwoSecondsWithoutAReload() throws Exception {
    browser.get(base + "/#/jobs");
    await(Duration.ofSeconds(10), () -> !rows("#job-rows tr").isEmpty());
    browser.executeScript("window.__sameDocument = true");

    JsonNode job = post("/api/v1/jobs", "{\"queue\":\"reports\",\"payload\":{\"day\":\"2026-12-01\"},"
        + "\"idempotencyKey\":\"report-2026-12-01\"}", 201);
    String id = job.get("id").asText();
    long t0 = System.nanoTime();
    await(Duration.ofSeconds(2), () -> !rows("#job-rows tr[data-job='" + id + "']").isEmpty());
    long tookMs = (System.nanoTime() - t0) / 1_000_000;
    assertThat(tookMs).isLessThan(2000);
    assertThat(browser.executeScript("return window.__sameDocument === true")).isEqualTo(true);
    Chromium.screenshot(browser, "jobs");

    // Find by idempotency key opens the job's page.
    WebElement find = browser.findElement(By.id("f-find"));
    find.sendKeys("report-2026-12-01\n");
    await(Duration.ofSeconds(5), () -> browser.getCurrentUrl().endsWith("#/jobs/" + id));
    await(Duration.ofSeconds(5), () -> !rows("#payload").isEmpty());
    assertThat(browser.findElement(By.id("payload")).getText()).contains("2026-12-01");
  }

  @Test
  @Order(3)
  void aDeadJobIsRequeuedByClickingAndItsStateChangesOnScreen() throws Exception {
    // Fails its first attempt, and the queue allows one: dead. Its second attempt succeeds.
    String id = post("/api/v1/jobs", "{\"queue\":\"flaky\",\"payload\":{\"ms\":5,\"failFirst\":1}}", 201)
        .get("id").asText();
    awaitState(id, "dead");

    browser.get(base + "/#/dead");
    await(Duration.ofSeconds(10), () -> !rows("#dead-rows tr[data-job='" + id + "']").isEmpty());
    Chromium.screenshot(browser, "dead");

    browser.get(base + "/#/jobs/" + id);
    await(Duration.ofSeconds(10), () -> "dead".equals(state()));
    browser.findElement(By.id("requeue")).click();
    await(Duration.ofSeconds(10), () -> "succeeded".equals(state()));
    assertThat(rows("#attempts tbody tr")).hasSize(2);
    Chromium.screenshot(browser, "job");
  }

  @Test
  @Order(3)
  void aSelectionOfDeadJobsIsRequeuedAtOnce() throws Exception {
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 2; i++) {
      ids.add(post("/api/v1/jobs", "{\"queue\":\"flaky\",\"payload\":{\"ms\":1,\"failFirst\":1}}", 201)
          .get("id").asText());
    }
    for (String id : ids) {
      awaitState(id, "dead");
    }
    browser.get(base + "/#/dead?queue=flaky");
    await(Duration.ofSeconds(10), () -> ids.stream().allMatch(id -> !rows("#dead-rows tr[data-job='" + id + "']").isEmpty()));
    for (String id : ids) {
      browser.findElement(By.cssSelector("#dead-rows tr[data-job='" + id + "'] input[type=checkbox]")).click();
    }
    WebElement requeue = browser.findElement(By.id("requeue-selected"));
    assertThat(requeue.getText()).isEqualTo("Requeue selected (2)");
    requeue.click();
    await(Duration.ofSeconds(10), () -> ids.stream().allMatch(id -> rows("#dead-rows tr[data-job='" + id + "']").isEmpty()));
    assertThat(browser.findElement(By.tagName("main")).getText()).contains("Requeued 2 jobs.");
    for (String id : ids) {
      awaitState(id, "succeeded");
    }
  }

  @Test
  @Order(4)
  void withTwoRunnersOnOneFileTheTimelineShowsTwoWindowsAndOneDisappearsWhenItsRunnerStops() throws Exception {
    browser.get(base + "/#/runners");
    await(Duration.ofSeconds(10), () -> windows() == 1);
    SlottedApp second = SlottedApp.start(config("dash-two", dir.resolve("two")));
    try {
      // Two windows, one per slot of a cycle shared by two.
      await(Duration.ofSeconds(20), () -> windows() == 2
          && rows("#timeline g[data-count='2'][data-index='0'] rect.window").size() == 1
          && rows("#timeline g[data-count='2'][data-index='1'] rect.window").size() == 1);
      assertThat(rows("#runner-rows tr[data-runner]")).extracting(WebElement::getText)
          .anySatisfy(t -> assertThat(t).contains(second.runnerId()));
      Chromium.screenshot(browser, "runners");
    } finally {
      second.close();
    }
    await(Duration.ofSeconds(20), () -> windows() == 1);
    // ...and the one left takes the whole cycle again.
    await(Duration.ofSeconds(20), () -> rows("#timeline g[data-count='1'] rect.window").size() == 1);
    assertThat(browser.findElement(By.cssSelector("#timeline g[data-runner] rect.window"))
        .findElement(By.xpath("..")).getAttribute("data-runner")).isEqualTo(app.runnerId());
  }

  @Test
  @Order(5)
  void theSchedulesPageListsASchedulesAndPreviewsItsFireTimes() throws Exception {
    post("/api/v1/schedules", "{\"name\":\"nightly-report\",\"cron\":\"30 2 * * *\",\"timezone\":\"Europe/Paris\","
        + "\"job\":{\"queue\":\"reports\",\"payload\":{}}}", 201);
    browser.get(base + "/#/schedules");
    await(Duration.ofSeconds(10), () -> !rows("#schedule-rows tr[data-schedule='nightly-report']").isEmpty());
    browser.findElement(By.cssSelector("#schedule-rows tr[data-schedule='nightly-report'] button.link")).click();
    await(Duration.ofSeconds(10), () -> !rows("#preview-from").isEmpty());
    WebElement from = browser.findElement(By.id("preview-from"));
    from.clear();
    // Across the end of summer time in Paris (2026-10-25).
    from.sendKeys("2026-10-23T00:00:00Z\n");
    await(Duration.ofSeconds(10), () -> rows("#preview tbody tr").size() == 10);
    // 02:30 happens twice on 2026-10-25: it fires once, at the first (summer time) occurrence.
    assertThat(rows("#preview tbody tr").get(2).getText()).contains("2026-10-25T02:30:00+02:00").contains("2026-10-25 00:30:00Z");
    assertThat(rows("#preview tbody tr").get(3).getText()).contains("2026-10-26T02:30:00+01:00").contains("2026-10-26 01:30:00Z");
    Chromium.screenshot(browser, "schedules");

    // Pause and resume from the list.
    By pause = By.xpath("//tr[@data-schedule='nightly-report']//button[text()='Pause']");
    browser.findElement(pause).click();
    await(Duration.ofSeconds(10), () -> !rows("#schedule-rows tr[data-schedule='nightly-report'] .badge[data-state='paused']").isEmpty());
    browser.findElement(By.xpath("//tr[@data-schedule='nightly-report']//button[text()='Resume']")).click();
    await(Duration.ofSeconds(10), () -> !rows("#schedule-rows tr[data-schedule='nightly-report'] .badge[data-state='active']").isEmpty());
  }

  @Test
  @Order(6)
  void theOverviewCountsFinishedJobsInItsCharts() throws Exception {
    StringBuilder batch = new StringBuilder("{\"jobs\":[");
    for (int i = 0; i < 300; i++) {
      batch.append(i == 0 ? "" : ",").append(i % 30 == 0
          ? "{\"queue\":\"flaky\",\"payload\":{\"ms\":1,\"failFirst\":1}}"
          : "{\"queue\":\"" + (i % 2 == 0 ? "reports" : "emails") + "\",\"payload\":{}}");
    }
    post("/api/v1/jobs/batch", batch.append("]}").toString(), 201);
    browser.get(base + "/");
    // Earlier tests left bars and an empty queue on the page: wait for this batch's jobs to finish.
    await(Duration.ofSeconds(30), () -> rows("#throughput rect.bar-ok").size() > 0
        && rows("#throughput rect.bar-bad").size() > 0
        && "150".equals(text("#queue-rows tr[data-queue='emails'] td[data-state='succeeded']"))
        && "0".equals(browser.findElement(By.cssSelector("[data-total='ready'] .n")).getText())
        && "0".equals(browser.findElement(By.cssSelector("[data-total='running'] .n")).getText()));
    assertThat(browser.findElement(By.cssSelector("#queue-rows tr[data-queue='reports'] td[data-state='succeeded']"))
        .getText()).isNotEqualTo("0");
    // Every job of the batch counted in the charts' figures: emails had no job before it.
    assertThat(browser.findElement(By.cssSelector("#queue-rows tr[data-queue='emails'] td[data-k='done']")).getText())
        .isEqualTo("150");
    Chromium.screenshot(browser, "overview-busy");
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private static String text(String css) {
    List<WebElement> found = rows(css);
    return found.isEmpty() ? null : found.get(0).getText();
  }

  private static long windows() {
    return rows("#timeline rect.window").size();
  }

  private static String state() {
    List<WebElement> b = rows("#job-state .badge");
    return b.isEmpty() ? null : b.get(0).getAttribute("data-state");
  }

  static List<WebElement> rows(String css) {
    return browser.findElements(By.cssSelector(css));
  }

  static void await(Duration timeout, java.util.function.BooleanSupplier condition) {
    new WebDriverWait(browser, timeout, Duration.ofMillis(50)).until(d -> {
      try {
        return condition.getAsBoolean();
      } catch (org.openqa.selenium.StaleElementReferenceException e) {
        return false;
      }
    });
  }

  private static void awaitState(String id, String state) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/jobs/" + id)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (state.equals(JSON.readTree(r.body()).path("state").asText())) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("job " + id + " did not reach " + state);
  }

  private static JsonNode post(String path, String body, int expected) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(expected);
    return JSON.readTree(r.body());
  }
}
