package dev.slotted.orchestrator.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Only the store ({@code dev.slotted.orchestrator.store} and its subpackages) touches JDBC: a scan
 * of every main source file of the build for {@code java.sql} or {@code javax.sql}, imported or
 * written out in full.
 */
class OnlyTheStoreTouchesJdbcTest {
  private static final Pattern JDBC = Pattern.compile("\\bjavax?\\.sql\\b");
  private static final Path STORE = Path.of("dev", "slotted", "orchestrator", "store");

  @Test
  void noMainSourceOutsideTheStoreUsesJavaSql() {
    List<Path> roots = Stream.of("src/main/java", "../worker/src/main/java", "../protocol/src/main/java")
        .map(Path::of).toList();
    assertThat(roots.get(0)).as("run from the orchestrator module").isDirectory();
    List<String> found = new ArrayList<>();
    int scanned = 0;
    for (Path root : roots) {
      if (Files.isDirectory(root)) {
        scanned += sources(root).size();
        found.addAll(violations(root));
      }
    }
    assertThat(scanned).as("main sources scanned").isGreaterThan(100);
    assertThat(found).as("main sources outside %s that use java.sql / javax.sql", STORE).isEmpty();
  }

  @Test
  void theScanFindsAnImportAndAFullyQualifiedUseOutsideTheStoreButNotInside(@TempDir Path root) throws IOException {
    write(root.resolve("dev/slotted/orchestrator/schedule/A.java"), "package x;\nimport java.sql.Connection;\n");
    write(root.resolve("dev/slotted/orchestrator/http/B.java"), "class B { javax.sql.DataSource ds; }\n");
    write(root.resolve("dev/slotted/orchestrator/store/sqlite/C.java"), "import java.sql.ResultSet;\n");
    write(root.resolve("dev/slotted/orchestrator/storefront/D.java"), "class D { java.sql.Date d; }\n");
    write(root.resolve("dev/slotted/orchestrator/app/E.java"), "class E { String mysql = \"java_sql\"; }\n");
    assertThat(violations(root)).containsExactlyInAnyOrder(
        "dev/slotted/orchestrator/schedule/A.java:2: import java.sql.Connection;",
        "dev/slotted/orchestrator/http/B.java:1: class B { javax.sql.DataSource ds; }",
        "dev/slotted/orchestrator/storefront/D.java:1: class D { java.sql.Date d; }");
  }

  /** "path:line: text" of every use of JDBC in a source file outside the store package. */
  static List<String> violations(Path root) {
    List<String> out = new ArrayList<>();
    for (Path file : sources(root)) {
      Path rel = root.relativize(file);
      if (rel.startsWith(STORE)) {
        continue;
      }
      try {
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
          Matcher m = JDBC.matcher(lines.get(i));
          if (m.find()) {
            out.add(rel.toString().replace('\\', '/') + ":" + (i + 1) + ": " + lines.get(i).strip());
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  private static List<Path> sources(Path root) {
    try (Stream<Path> files = Files.walk(root)) {
      return files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void write(Path file, String text) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
  }
}
