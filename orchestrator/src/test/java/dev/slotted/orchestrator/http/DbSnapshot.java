package dev.slotted.orchestrator.http;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;

/**
 * What a SQLite file holds, read through its own JDBC connection (not the store's): per table, the
 * row count and a SHA-256 over every row's values in rowid order. Two equal snapshots mean nothing
 * was committed in between (G7's oracle).
 */
public final class DbSnapshot {
  private DbSnapshot() {}

  /** {@code table -> "rows=N sha=..."} for every table of each file that exists. */
  public static TreeMap<String, String> of(Path... files) throws Exception {
    TreeMap<String, String> out = new TreeMap<>();
    for (Path file : files) {
      if (!Files.exists(file)) {
        continue;
      }
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
          Statement s = c.createStatement()) {
        s.execute("PRAGMA query_only = 1");
        List<String> tables = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")) {
          while (rs.next()) {
            tables.add(rs.getString(1));
          }
        }
        for (String t : tables) {
          out.put(file.getFileName() + "/" + t, table(s, t));
        }
      }
    }
    return out;
  }

  private static String table(Statement s, String table) throws SQLException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    long rows = 0;
    try (ResultSet rs = s.executeQuery("SELECT * FROM \"" + table + "\"")) {
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        rows++;
        for (int i = 1; i <= n; i++) {
          byte[] v = rs.getBytes(i);
          sha.update(v == null ? new byte[] {(byte) 0xff} : v);
          sha.update((byte) 0);
        }
        sha.update("\n".getBytes(StandardCharsets.UTF_8));
      }
    }
    return "rows=" + rows + " sha=" + HexFormat.of().formatHex(sha.digest());
  }
}
