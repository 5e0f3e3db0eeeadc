package dev.slotted.orchestrator.metrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The TCP sockets this JVM listens on, from Linux's /proc (what {@code ss -ltnp} shows for this
 * pid): socket inodes of /proc/self/fd matched against /proc/self/net/tcp and tcp6.
 */
final class ListeningSockets {
  private static final String LISTEN = "0A";

  private ListeningSockets() {}

  static boolean supported() {
    return Files.isDirectory(Path.of("/proc/self/fd")) && Files.exists(Path.of("/proc/self/net/tcp"));
  }

  /** Local addresses as "address-hex:port" with a loopback flag, e.g. "0100007F:1F90 loopback". */
  static List<String> ofThisProcess() throws IOException {
    Set<String> inodes = new HashSet<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : (Iterable<Path>) fds::iterator) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            inodes.add(target.substring(8, target.length() - 1));
          }
        } catch (IOException e) {
          // The fd closed while listing: not a listener of interest.
        }
      }
    }
    List<String> listeners = new ArrayList<>();
    for (String table : List.of("/proc/self/net/tcp", "/proc/self/net/tcp6")) {
      Path path = Path.of(table);
      if (!Files.exists(path)) {
        continue;
      }
      List<String> lines = Files.readAllLines(path);
      for (String line : lines.subList(1, lines.size())) {
        String[] f = line.trim().split("\\s+");
        if (f[3].equals(LISTEN) && inodes.contains(f[9])) {
          listeners.add(f[1] + (isLoopback(f[1].split(":")[0]) ? " loopback" : " NOT-loopback"));
        }
      }
    }
    return listeners;
  }

  /** /proc prints each 32-bit word of the address in host (little-endian) byte order. */
  static boolean isLoopback(String hex) {
    if (hex.length() == 8) {
      return hex.endsWith("7F");
    }
    return hex.equals("00000000000000000000000001000000")
        || (hex.startsWith("0000000000000000FFFF0000") && hex.endsWith("7F"));
  }
}
