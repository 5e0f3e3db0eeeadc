package dev.slotted.orchestrator.store.postgres;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The real PostgreSQL server the tests use: its JDBC URL (user and password included) comes from
 * {@code SLOTTED_TEST_PG_URL}, which {@code .ci/postgres} sets. Under CI ({@code CI=true}) a
 * missing URL fails the test; locally the test is skipped with a message saying how to run it.
 */
public final class TestPostgres {
  private static final AtomicInteger SCHEMAS = new AtomicInteger();

  private TestPostgres() {}

  /** The server's URL; fails (CI) or skips (locally) the calling test when none is set. */
  public static String url() {
    String url = System.getenv("SLOTTED_TEST_PG_URL");
    if (url == null || url.isBlank()) {
      String how = "SLOTTED_TEST_PG_URL is not set: run `source .ci/postgres` (starts a throwaway"
          + " PostgreSQL and sets it) before mvn";
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        throw new AssertionError(how + "; under CI the PostgreSQL tests must run");
      }
      assumeTrue(false, how);
    }
    return url;
  }

  /** A schema name no other test (or test JVM) uses: each store gets an empty database of its own. */
  public static String freshSchema(String prefix) {
    return prefix + "_" + ProcessHandle.current().pid() + "_" + SCHEMAS.incrementAndGet() + "_"
        + Long.toString(System.nanoTime() & 0xffffff, 36);
  }
}
