package dev.slotted.worker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Where attempt logs live, and how their tail is read. */
public final class AttemptLogs {
  private AttemptLogs() {}

  /**
   * {@code <logDir>/<jobId>/<attempt>.log}. The id is URL-encoded so that no job id can name a path
   * outside its own directory; ids made of {@code [A-Za-z0-9._-]} are kept as they are.
   */
  public static Path path(Path logDir, String jobId, int attempt) {
    String dir = URLEncoder.encode(jobId, StandardCharsets.UTF_8);
    if (dir.equals(".") || dir.equals("..")) {
      dir = dir.replace(".", "%2E");
    }
    return logDir.resolve(dir).resolve(attempt + ".log");
  }

  /**
   * The last {@code chars} characters of a UTF-8 file, or null if the file does not exist or is
   * empty. Reads only the end of the file, so a multi-gigabyte log costs the same as a small one.
   */
  public static String tail(Path file, int chars) {
    if (chars <= 0) {
      return null;
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size == 0) {
        return null;
      }
      // UTF-8 uses at most 4 bytes per char; a cut through a char at the start decodes to U+FFFD,
      // which the trim below drops.
      long want = Math.min(size, 4L * chars);
      ByteBuffer buf = ByteBuffer.allocate((int) want);
      long pos = size - want;
      while (buf.hasRemaining()) {
        int n = ch.read(buf, pos + buf.position());
        if (n < 0) {
          break;
        }
      }
      buf.flip();
      CharsetDecoder dec =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPLACE)
              .onUnmappableCharacter(CodingErrorAction.REPLACE);
      String s = dec.decode(buf).toString();
      if (pos > 0) {
        int i = 0;
        while (i < s.length() && i < 3 && s.charAt(i) == '\uFFFD') {
          i++;
        }
        s = s.substring(i);
      }
      return s.length() <= chars ? s : s.substring(s.length() - chars);
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the log " + file, e);
    }
  }
}
