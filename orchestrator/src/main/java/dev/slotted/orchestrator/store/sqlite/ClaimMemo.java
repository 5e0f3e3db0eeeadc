package dev.slotted.orchestrator.store.sqlite;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What this store instance remembers about the leases it handed out: the queue and the delivery
 * of the job, by lease token. Both are fixed for the life of a job, so a completion presenting a
 * remembered token needs no read before its update; whether the token is still current is decided
 * by the token-guarded update itself. A forgotten token (evicted, claimed by another process or
 * before a restart) only means the completion reads the row first. Used on the write lane only.
 */
final class ClaimMemo {
  /** About two batches of a thousand runners' worth of leases; each entry is ~150 bytes. */
  static final int MAX_ENTRIES = 65_536;

  record Fact(String queue, boolean atMostOnce) {}

  private final Map<String, Fact> byToken = new LinkedHashMap<>(1024, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Fact> eldest) {
      return size() > MAX_ENTRIES;
    }
  };

  void remember(String token, String queue, boolean atMostOnce) {
    byToken.put(token, new Fact(queue, atMostOnce));
  }

  /** The fact for this token, forgetting it (a token ends one attempt at most). */
  Fact take(String token) {
    return byToken.remove(token);
  }

  int size() {
    return byToken.size();
  }
}
