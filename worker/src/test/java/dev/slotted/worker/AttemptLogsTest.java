package dev.slotted.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AttemptLogsTest {
  @TempDir Path dir;

  @Test
  void jobIdsCannotEscapeTheLogDirectory() {
    assertThat(AttemptLogs.path(dir, "01HX-job_1.a", 3)).isEqualTo(dir.resolve("01HX-job_1.a").resolve("3.log"));
    for (String id : new String[] {"..", ".", "../../etc", "a/b", "/abs"}) {
      Path p = AttemptLogs.path(dir, id, 1).normalize();
      assertThat(p.getParent().getParent()).as(id).isEqualTo(dir);
    }
  }

  @Test
  void tailReadsTheLastCharactersEvenAcrossMultiByteCharacters() throws Exception {
    Path f = dir.resolve("x.log");
    assertThat(AttemptLogs.tail(f, 10)).isNull();
    Files.writeString(f, "ab");
    assertThat(AttemptLogs.tail(f, 10)).isEqualTo("ab");
    Files.writeString(f, "é".repeat(1000) + "end€", StandardCharsets.UTF_8);
    assertThat(AttemptLogs.tail(f, 6)).isEqualTo("ééend€");
    assertThat(AttemptLogs.tail(f, 0)).isNull();
  }
}
