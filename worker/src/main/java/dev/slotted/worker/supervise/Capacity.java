package dev.slotted.worker.supervise;

import dev.slotted.protocol.WorkerProtocol.CapacityReport;
import java.util.HashMap;
import java.util.Map;

/**
 * The WorkerSupervisor's accounting (not thread-safe: the actor's own state). A worker is busy while
 * it runs an attempt (including one being stopped) or backs off after a crash; a buffered job was
 * claimed and waits for a worker. Per limited queue it counts the same, so the room it reports never
 * lets the orchestrator over-claim a queue: at most {@code concurrency} of its jobs run, and at most
 * {@code concurrency} more wait in the buffer, ready to start the moment one ends.
 */
final class Capacity {

  private static final class QueueLimit {
    final int limit;
    int running;
    int buffered;
    long received;

    QueueLimit(int limit) {
      this.limit = limit;
    }

    /** One limit's worth may wait in the buffer, besides the attempts running. */
    int room() {
      return Math.max(0, limit - buffered);
    }
  }

  private final int capacity;
  private final Map<String, QueueLimit> limits = new HashMap<>();
  private int running;
  private int buffered;
  private int down;
  private long received;

  Capacity(WorkerSettings settings) {
    this.capacity = settings.capacity();
    settings.queues().forEach(
        (q, l) -> {
          if (l.concurrency() > 0) {
            limits.put(q, new QueueLimit(l.concurrency()));
          }
        });
  }

  /** What the orchestrator may claim for this supervisor, as of now. */
  CapacityReport report(boolean accepting) {
    Map<String, Integer> room = new HashMap<>();
    Map<String, Long> byQueue = new HashMap<>();
    limits.forEach((q, l) -> {
      room.put(q, accepting ? l.room() : 0);
      byQueue.put(q, l.received);
    });
    return new CapacityReport(capacity, running + down, buffered, received, room, byQueue, accepting);
  }

  /** Whether another attempt of this queue may start now. */
  boolean queueHasRoom(String queue) {
    QueueLimit l = limits.get(queue);
    return l == null || l.running < l.limit;
  }

  /** A dispatched job arrived (it is buffered until it starts). */
  void received(String queue) {
    received++;
    buffered++;
    QueueLimit l = limits.get(queue);
    if (l != null) {
      l.received++;
      l.buffered++;
    }
  }

  /** A buffered job left the buffer without starting (stopped, or handed back). */
  void unbuffered(String queue) {
    buffered--;
    QueueLimit l = limits.get(queue);
    if (l != null) {
      l.buffered--;
    }
  }

  /** A buffered job started on a worker. */
  void started(String queue) {
    unbuffered(queue);
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

  void workerDown() {
    down++;
  }

  void workerUp() {
    down--;
  }
}
