package dev.slotted.orchestrator.dashboard;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's headless Chromium driven through Debian's ChromeDriver. Both paths are given, so
 * Selenium Manager never runs (nothing is downloaded). Missing binaries fail the test: CI installs
 * them ({@code .ci/run}).
 */
final class Chromium {
  static final Path BROWSER = Path.of(System.getProperty("slotted.chromium", "/usr/bin/chromium"));
  static final Path DRIVER = Path.of(System.getProperty("slotted.chromedriver", "/usr/bin/chromedriver"));
  static final Path SHOTS = Path.of("target", "dashboard-screenshots");

  private Chromium() {}

  static ChromeDriver start(Path userDataDir) {
    if (!Files.isExecutable(BROWSER) || !Files.isExecutable(DRIVER)) {
      throw new AssertionError("The dashboard tests need Debian's chromium and chromium-driver (" + BROWSER + ", "
          + DRIVER + "): apt-get install -y chromium chromium-driver (.ci/run does it)");
    }
    System.setProperty("webdriver.chrome.driver", DRIVER.toString());
    ChromeOptions options = new ChromeOptions();
    options.setBinary(BROWSER.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-quic", "--window-size=1366,900", "--user-data-dir=" + userDataDir.toAbsolutePath());
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(DRIVER.toFile())
        .usingAnyFreePort()
        .build();
    ChromeDriver driver = new ChromeDriver(service, options);
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(20));
    return driver;
  }

  /** Saves a PNG of the page under target/dashboard-screenshots/. */
  static Path screenshot(ChromeDriver driver, String name) {
    try {
      Files.createDirectories(SHOTS);
      File f = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
      Path to = SHOTS.resolve(name + ".png");
      Files.copy(f.toPath(), to, StandardCopyOption.REPLACE_EXISTING);
      return to;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
