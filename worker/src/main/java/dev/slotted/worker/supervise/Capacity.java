package dev.slotted.worker.supervise;

import dev.slotted.protocol.WorkerProtocol.Reservation;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The WorkerSupervisor's slot accounting (not thread-safe: the actor's own state). A slot is used by
 * a running attempt (including one being stopped), a dispatched job waiting for a worker, a crashed
 * worker backing off, or an outstanding reservation. Per limited queue it counts the same, so
 * reservations never promise a queue more than its concurrency leaves.
 */
final class Capacity {

  private static final class QueueLimit {
    final int limit;
    int running;
    int waiting;
    int reserved;

    QueueLimit(int limit) {
      this.limit = limit;
    }

    int free() {
      return Math.max(0, limit - running - waiting - reserved);
    }
  }

  private record Outstanding(int total, Map<String, Integer> perQueue) {}

  private final int capacity;
  private final Map<String, QueueLimit> limits = new HashMap<>();
  private final LinkedHashMap<Long, Outstanding> reservations = new LinkedHashMap<>();
  private long nextReservation = 1;
  private int running;
  private int waiting;
  private int down;
  private int reserved;

  Capacity(WorkerSettings settings) {
    this.capacity = settings.capacity();
    settings.queues().forEach(
        (q, l) -> {
          if (l.concurrency() > 0) {
            limits.put(q, new QueueLimit(l.concurrency()));
          }
        });
  }

  int free() {
    return Math.max(0, capacity - running - waiting - down - reserved);
  }

  int reserved() {
    return reserved;
  }

  /** Grants up to {@code max} free slots, with each limited queue's share of them. */
  Reservation reserve(int max) {
    int grant = Math.min(max, free());
    if (grant <= 0) {
      return new Reservation(0, 0, Map.of());
    }
    Map<String, Integer> perQueue = new HashMap<>();
    for (Map.Entry<String, QueueLimit> e : limits.entrySet()) {
      int allot = Math.min(grant, e.getValue().free());
      e.getValue().reserved += allot;
      perQueue.put(e.getKey(), allot);
    }
    long id = nextReservation++;
    reservations.put(id, new Outstanding(grant, perQueue));
    reserved += grant;
    return new Reservation(id, grant, perQueue);
  }

  /**
   * Gives back the reservation a Dispatch was claimed under: by id, or without one the oldest
   * reservation of that size. {@code reserved} always equals the sum of the outstanding
   * reservations, so a Dispatch matching none (the orchestrator dispatched without reserving) gives
   * back nothing. Returns whether one matched.
   */
  boolean release(long id, int size) {
    Outstanding o = id != 0 ? reservations.remove(id) : null;
    if (o == null && id == 0 && size > 0) {
      for (Iterator<Outstanding> it = reservations.values().iterator(); it.hasNext(); ) {
        Outstanding candidate = it.next();
        if (candidate.total() == size) {
          o = candidate;
          it.remove();
          break;
        }
      }
    }
    if (o == null) {
      return false;
    }
    reserved -= o.total();
    o.perQueue().forEach(
        (q, n) -> {
          QueueLimit l = limits.get(q);
          if (l != null) {
            l.reserved -= n;
          }
        });
    return true;
  }

  /** Whether another attempt of this queue may start now. */
  boolean queueHasRoom(String queue) {
    QueueLimit l = limits.get(queue);
    return l == null || l.running < l.limit;
  }

  void started(String queue) {
    running++;
    QueueLimit l = limits.get(queue);
    if (l != null) {
      l.running++;
    }
  }

  void ended(String queue) {
    running--;
    QueueLimit l = limits.get(queue);
    if (l != null) {
      l.running--;
    }
  }

  void waitingAdded(String queue) {
    waiting++;
    QueueLimit l = limits.get(queue);
    if (l != null) {
      l.waiting++;
    }
  }

  void waitingRemoved(String queue) {
    waiting--;
    QueueLimit l = limits.get(queue);
    if (l != null) {
      l.waiting--;
    }
  }

  void workerDown() {
    down++;
  }

  void workerUp() {
    down--;
  }
}
