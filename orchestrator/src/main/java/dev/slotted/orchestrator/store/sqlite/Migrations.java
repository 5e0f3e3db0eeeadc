package dev.slotted.orchestrator.store.sqlite;

import dev.slotted.orchestrator.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Versioned schema migrations: {@code db/migration/V<n>__<description>.sql} on the classpath, each
 * applied once, in order, in its own transaction, and recorded in {@code schema_migrations} with a
 * checksum. An applied file must never change (its checksum is checked at every start), and a
 * database that has a version this build does not know is refused, since its schema may no longer
 * match what this code reads and writes.
 *
 * <p>Hand-rolled rather than Flyway: the whole job is ~150 lines, it needs SQLite's {@code BEGIN
 * IMMEDIATE} (so two processes starting on a fresh file at once serialize cleanly under the store's
 * own busy retry), and Flyway would add a dependency whose SQLite support is tied to its version.
 */
public final class Migrations {
  private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);
  static final String LOCATION = "db/migration";
  private static final Pattern FILE = Pattern.compile("V(\\d+)__([A-Za-z0-9_]+)\\.sql");

  /** One migration file: its version, description, text and SHA-256 checksum. */
  public record Migration(int version, String description, String sql, String checksum) {}

  private static final String CREATE_TABLE = """
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version     INTEGER PRIMARY KEY,
        description TEXT    NOT NULL,
        checksum    TEXT    NOT NULL,
        applied_at  INTEGER NOT NULL
      )""";

  private Migrations() {}

  /** Every migration on the classpath, ordered by version. */
  static List<Migration> load(ClassLoader loader) {
    return load(loader, LOCATION);
  }

  /**
   * Every migration in {@code location} on the classpath, ordered by version: the one loader both
   * stores use (the PostgreSQL store reads {@code db/postgres}).
   */
  public static List<Migration> load(ClassLoader loader, String location) {
    Map<Integer, Migration> byVersion = new TreeMap<>();
    try {
      Enumeration<URL> roots = loader.getResources(location);
      for (URL root : Collections.list(roots)) {
        for (Map.Entry<String, String> file : list(root).entrySet()) {
          Matcher m = FILE.matcher(file.getKey());
          if (!m.matches()) {
            throw new StoreException("unexpected file in " + location + ": " + file.getKey()
                + " (expected V<version>__<description>.sql)");
          }
          int version = Integer.parseInt(m.group(1));
          String sql = file.getValue();
          Migration mig = new Migration(version, m.group(2).replace('_', ' '), sql, checksum(sql));
          Migration previous = byVersion.put(version, mig);
          if (previous != null && !previous.checksum().equals(mig.checksum())) {
            throw new StoreException("two different migrations have version " + version);
          }
        }
      }
    } catch (IOException | URISyntaxException e) {
      throw new StoreException("cannot read the migrations in " + location + ": " + e.getMessage(), e);
    }
    if (byVersion.isEmpty()) {
      throw new StoreException("no migrations found in " + location + " on the classpath");
    }
    return List.copyOf(byVersion.values());
  }

  /** File name to text, for a classpath directory or a directory inside a jar. */
  static Map<String, String> list(URL root) throws IOException, URISyntaxException {
    Map<String, String> files = new HashMap<>();
    switch (root.getProtocol()) {
      case "file" -> {
        try (var paths = Files.list(Path.of(root.toURI()))) {
          for (Path p : paths.toList()) {
            if (Files.isRegularFile(p)) {
              files.put(p.getFileName().toString(), Files.readString(p, StandardCharsets.UTF_8));
            }
          }
        }
      }
      case "jar" -> {
        JarURLConnection conn = (JarURLConnection) root.openConnection();
        conn.setUseCaches(false);
        // The application class loader names the directory with a trailing slash, others without.
        String entry = conn.getEntryName();
        String prefix = entry.endsWith("/") ? entry : entry + "/";
        try (JarFile jar = conn.getJarFile()) {
          for (JarEntry e : Collections.list(jar.entries())) {
            String name = e.getName();
            if (!e.isDirectory() && name.startsWith(prefix) && name.indexOf('/', prefix.length()) < 0) {
              try (InputStream in = jar.getInputStream(e)) {
                files.put(name.substring(prefix.length()), new String(in.readAllBytes(), StandardCharsets.UTF_8));
              }
            }
          }
        }
      }
      default -> throw new StoreException("cannot list migrations at " + root);
    }
    return files;
  }

  static String checksum(String sql) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest(sql.replace("\r", "").getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }

  /**
   * Brings the database to the newest known version. Runs inside the caller's write transaction
   * check-by-check: each pending migration is applied in its own {@code BEGIN IMMEDIATE}
   * transaction, and whether it is pending is decided inside that transaction, so a second process
   * migrating at the same moment simply finds the work done. Returns the versions applied now.
   */
  static List<Integer> migrate(Conn c, List<Migration> known, String dbName) throws SQLException {
    c.exec(CREATE_TABLE);
    int newestKnown = known.get(known.size() - 1).version();
    List<Integer> applied = new ArrayList<>();
    for (Migration m : known) {
      c.exec("BEGIN IMMEDIATE");
      boolean done = false;
      try {
        Map<Integer, String> existing = appliedChecksums(c);
        int newestApplied = existing.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
        if (newestApplied > newestKnown) {
          throw new StoreException("the database " + dbName + " has schema version " + newestApplied
              + ", newer than this version of Slotted knows (up to " + newestKnown + "): it was created"
              + " or upgraded by a newer Slotted. Run that version, or point slotted.store.sqlite.path"
              + " at another file.");
        }
        String sum = existing.get(m.version());
        if (sum == null) {
          c.exec(m.sql());
          PreparedStatement ins = c.prepare(
              "INSERT INTO schema_migrations(version, description, checksum, applied_at) VALUES (?, ?, ?, ?)");
          ins.setInt(1, m.version());
          ins.setString(2, m.description());
          ins.setString(3, m.checksum());
          ins.setLong(4, System.currentTimeMillis());
          ins.executeUpdate();
          applied.add(m.version());
        } else if (!sum.equals(m.checksum())) {
          throw new StoreException("migration V" + m.version() + " (" + m.description() + ") was changed"
              + " after it was applied to " + dbName + ": applied migrations must never be edited;"
              + " add a new one instead");
        }
        c.exec("COMMIT");
        done = true;
      } finally {
        if (!done) {
          try {
            c.exec("ROLLBACK");
          } catch (SQLException ignored) {
            // the original failure is what matters
          }
        }
      }
    }
    if (!applied.isEmpty()) {
      LOG.info("Applied schema migrations {} to [{}]", applied, dbName);
    }
    return applied;
  }

  private static Map<Integer, String> appliedChecksums(Conn c) throws SQLException {
    Map<Integer, String> out = new HashMap<>();
    try (ResultSet rs = c.prepare("SELECT version, checksum FROM schema_migrations").executeQuery()) {
      while (rs.next()) {
        out.put(rs.getInt(1), rs.getString(2));
      }
    }
    return out;
  }
}
