package dev.slotted.worker.process;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small on-disk record of the processes this runner started (one file per process, {@code
 * <pid>.pid}), so that a restarted runner can find and kill the orphans of its previous life.
 *
 * <p>Each entry holds the process's pid and start instant, and the pid and start instant of the
 * runner that started it: pids are reused, and several runners on one host may share the directory,
 * so a process is only ever killed when both its pid and start instant still match and its runner
 * is gone (see {@link OrphanReaper}).
 */
public final class PidRegistry {
  private static final Logger LOG = LoggerFactory.getLogger(PidRegistry.class);
  private static final String SUFFIX = ".pid";

  /** One recorded process. {@code start} may be null where the platform does not report it. */
  public record Entry(
      long pid, Instant start, long ownerPid, Instant ownerStart, String command, Path file) {}

  private final Path dir;
  private final long ownerPid;
  private final Instant ownerStart;

  private PidRegistry(Path dir, long ownerPid, Instant ownerStart) {
    this.dir = dir;
    this.ownerPid = ownerPid;
    this.ownerStart = ownerStart;
  }

  private PidRegistry(Path dir) {
    this(dir, ProcessHandle.current().pid(), ProcessHandle.current().info().startInstant().orElse(null));
  }

  /** A registry writing entries as if another runner process owned them (tests of the reaper). */
  static PidRegistry openAs(Path dir, long ownerPid, Instant ownerStart) {
    open(dir);
    return new PidRegistry(dir, ownerPid, ownerStart);
  }

  /** The registry in {@code dir}, created if needed. */
  public static PidRegistry open(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the pid directory " + dir, e);
    }
    return new PidRegistry(dir);
  }

  /** A registry that records nothing (embedded use without a data directory). */
  public static PidRegistry disabled() {
    return new PidRegistry(null);
  }

  public Path dir() {
    return dir;
  }

  /** Records a process this runner just started. */
  public void record(ProcessHandle ph, String command) {
    if (dir == null) {
      return;
    }
    Properties p = new Properties();
    p.setProperty("pid", Long.toString(ph.pid()));
    ph.info().startInstant().ifPresent(i -> p.setProperty("start", i.toString()));
    p.setProperty("owner", Long.toString(ownerPid));
    if (ownerStart != null) {
      p.setProperty("ownerStart", ownerStart.toString());
    }
    p.setProperty("command", command == null ? "" : command);
    Path file = dir.resolve(ph.pid() + SUFFIX);
    Path tmp = dir.resolve(ph.pid() + SUFFIX + ".tmp");
    try {
      StringWriter text = new StringWriter();
      p.store(text, null);
      Files.writeString(tmp, text.toString(), StandardCharsets.UTF_8);
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      // Losing an entry only weakens orphan clean-up after a crash; the job itself can run.
      LOG.warn("Cannot record pid [{}] in [{}]: {}", ph.pid(), dir, e.toString());
    }
  }

  /** Forgets a process that has ended. */
  public void remove(ProcessHandle ph) {
    if (dir == null) {
      return;
    }
    try {
      Files.deleteIfExists(dir.resolve(ph.pid() + SUFFIX));
    } catch (IOException e) {
      LOG.warn("Cannot remove pid [{}] from [{}]: {}", ph.pid(), dir, e.toString());
    }
  }

  /** Whether an entry's runner is this very process. */
  public boolean ownedByMe(Entry e) {
    return e.ownerPid() == ownerPid && ownerStart != null && ownerStart.equals(e.ownerStart());
  }

  /** Every recorded process; unreadable entries are skipped (and logged). */
  public List<Entry> entries() {
    List<Entry> out = new ArrayList<>();
    if (dir == null) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
      for (Path f : ds) {
        Entry e = read(f);
        if (e != null) {
          out.add(e);
        }
      }
    } catch (NoSuchFileException e) {
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the pid directory " + dir, e);
    }
    return out;
  }

  /** Deletes one entry's file. */
  public void delete(Entry e) {
    try {
      Files.deleteIfExists(e.file());
    } catch (IOException ex) {
      LOG.warn("Cannot delete pid entry [{}]: {}", e.file(), ex.toString());
    }
  }

  private static Entry read(Path f) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
      p.load(r);
      return new Entry(
          Long.parseLong(p.getProperty("pid")),
          instant(p.getProperty("start")),
          Long.parseLong(p.getProperty("owner", "-1")),
          instant(p.getProperty("ownerStart")),
          p.getProperty("command", ""),
          f);
    } catch (IOException | RuntimeException e) {
      LOG.warn("Ignoring unreadable pid entry [{}]: {}", f, e.toString());
      try {
        Files.deleteIfExists(f);
      } catch (IOException ignored) {
        // The warning above already says the entry is bad; a leftover file is harmless.
      }
      return null;
    }
  }

  private static Instant instant(String s) {
    if (s == null || s.isEmpty()) {
      return null;
    }
    try {
      return Instant.parse(s);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  @Override
  public String toString() {
    return "PidRegistry[" + dir + "]";
  }
}
