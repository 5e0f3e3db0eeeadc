package dev.slotted.orchestrator.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.slotted.orchestrator.http.TestServer;
import dev.slotted.orchestrator.http.TestStores;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/** With {@code slotted.http.auth-token} set, the dashboard shows nothing until the token is entered. */
class DashboardAuthTest {
  @TempDir static Path dir;
  private static TestServer server;
  private static ChromeDriver browser;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(dir, "slotted.http.auth-token = \"s3cret-token\"", TestStores.sqlite(dir));
    browser = Chromium.start(dir.resolve("chrome-profile"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (browser != null) {
      browser.quit();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void thePageShowsNothingUntilTheTokenIsEntered() throws Exception {
    assertThat(server.get("/api/v1/events").statusCode()).isEqualTo(401);
    browser.get(server.base + "/");
    await(() -> !browser.findElements(By.id("token")).isEmpty());
    assertThat(browser.findElement(By.id("nav")).isDisplayed()).isFalse();
    assertThat(browser.findElements(By.id("queues"))).isEmpty();
    assertThat(browser.findElement(By.tagName("body")).getText()).doesNotContain("reports").doesNotContain("dlq");
    Chromium.screenshot(browser, "sign-in");

    browser.findElement(By.id("token")).sendKeys("wrong\n");
    await(() -> browser.findElement(By.tagName("main")).getText().contains("refused"));
    assertThat(browser.findElements(By.id("queues"))).isEmpty();

    browser.findElement(By.id("token")).sendKeys("s3cret-token\n");
    await(() -> browser.findElements(By.cssSelector("#queue-rows tr[data-queue='reports']")).size() == 1);
    assertThat(browser.findElement(By.id("nav")).isDisplayed()).isTrue();
    assertThat(browser.findElement(By.id("live")).getText()).isEqualTo("live");
  }

  private static void await(java.util.function.BooleanSupplier condition) {
    new WebDriverWait(browser, Duration.ofSeconds(10), Duration.ofMillis(50)).until(d -> condition.getAsBoolean());
  }
}
