package dev.slotted.orchestrator.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.slotted.orchestrator.store.JobQuery;
import dev.slotted.orchestrator.store.Page;
import dev.slotted.orchestrator.store.QueueCounts;
import dev.slotted.protocol.Job;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.SourceQueueWithComplete;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard's live feed ({@code GET /api/v1/events}): one shared ticker reads a snapshot of the
 * store (queue counts, the slot table, the newest job id) once per interval and pushes it to every
 * connected client as a Server-Sent Event. However many dashboards are open, the store sees one
 * set of small reads per interval, and none at all beyond the history sampling while nobody
 * watches.
 *
 * <p>It also keeps a short history of finished jobs per queue (succeeded and dead, from the deltas
 * of the counts between samples) for the overview's charts. The counts are the store's, so the
 * history covers every runner on the database; a purge or a requeue lowers a count and is not
 * counted as negative work.
 */
final class LiveFeed {
  private static final Logger LOG = LoggerFactory.getLogger(LiveFeed.class);

  static final Duration INTERVAL = Duration.ofSeconds(1);
  /** While no client is connected, only every n-th tick samples (for the history). */
  private static final int IDLE_EVERY = 5;
  static final long BUCKET_MS = 10_000;
  static final int BUCKETS = 90;
  /** Snapshots a slow client may fall behind before the oldest is dropped. */
  private static final int CLIENT_BUFFER = 4;

  private final ApiContext ctx;
  private final Set<SourceQueueWithComplete<ServerSentEvent>> clients = new CopyOnWriteArraySet<>();
  private final AtomicReference<ServerSentEvent> latest = new AtomicReference<>();
  private final AtomicBoolean inFlight = new AtomicBoolean();
  private final AtomicLong seq = new AtomicLong();
  private final Cancellable ticker;
  private long ticks;
  /** Backs off when the store is slow: the feed takes at most about a fifth of a reader's time. */
  private volatile long notBeforeNanos;
  private boolean failing;
  // History: touched only by the completion of one snapshot at a time (inFlight).
  private final Map<String, long[]> succeeded = new TreeMap<>();
  private final Map<String, long[]> dead = new TreeMap<>();
  private final Map<String, long[]> previous = new TreeMap<>();
  private long bucket = -1;

  LiveFeed(ActorSystem<?> system, ApiContext ctx) {
    this.ctx = ctx;
    this.ticker = system.scheduler().scheduleWithFixedDelay(Duration.ZERO, INTERVAL, this::tick,
        system.executionContext());
    CoordinatedShutdown.get(system.classicSystem()).addTask(CoordinatedShutdown.PhaseServiceUnbind(),
        "dashboard-feed-stop", () -> {
          stop();
          return CompletableFuture.completedFuture(Done.getInstance());
        });
  }

  /** One client's stream: the latest snapshot at once, then one per interval. */
  Source<ServerSentEvent, NotUsed> source() {
    return Source.<ServerSentEvent>queue(CLIENT_BUFFER, OverflowStrategy.dropHead())
        .watchTermination((queue, done) -> {
          clients.add(queue);
          ServerSentEvent now = latest.get();
          if (now != null) {
            queue.offer(now);
          }
          done.whenComplete((d, e) -> clients.remove(queue));
          return NotUsed.getInstance();
        })
        .keepAlive(Duration.ofSeconds(15), ServerSentEvent::heartbeat);
  }

  void stop() {
    ticker.cancel();
    clients.forEach(SourceQueueWithComplete::complete);
    clients.clear();
  }

  private void tick() {
    boolean idle = clients.isEmpty();
    if (idle && ticks++ % IDLE_EVERY != 0) {
      return;
    }
    long started = System.nanoTime();
    if (started - notBeforeNanos < 0) {
      return;
    }
    if (!inFlight.compareAndSet(false, true)) {
      return; // the previous read is still running: skip rather than queue reads up
    }
    Instant now = ctx.clock().instant();
    CompletionStage<List<QueueCounts>> counts = ctx.store().queueCounts(now);
    CompletionStage<ObjectNode> snapshot = idle
        ? counts.thenApply(c -> {
          record(now, c);
          return null;
        })
        : counts.thenCombine(ctx.runners().get(), (c, r) -> new Object[] {c, r})
            .thenCombine(ctx.store().list(new JobQuery(null, null, 1, null)), (cr, newest) -> {
              @SuppressWarnings("unchecked")
              List<QueueCounts> c = (List<QueueCounts>) cr[0];
              @SuppressWarnings("unchecked")
              List<RunnerView> r = (List<RunnerView>) cr[1];
              record(now, c);
              return snapshot(now, c, r, newest);
            });
    snapshot.whenComplete((s, e) -> {
      long took = System.nanoTime() - started;
      notBeforeNanos = started + Math.max(INTERVAL.toNanos(), 5 * took) - INTERVAL.toNanos() / 10;
      inFlight.set(false);
      if (e != null) {
        if (!failing) {
          LOG.warn("Dashboard snapshot failed (retrying every {}): {}", INTERVAL, e.toString());
        }
        failing = true;
        return;
      }
      failing = false;
      if (s != null) {
        ServerSentEvent event = ServerSentEvent.create(Json.text(s), "snapshot");
        latest.set(event);
        clients.forEach(q -> q.offer(event));
      }
    });
  }

  private ObjectNode snapshot(Instant now, List<QueueCounts> counts, List<RunnerView> runners, Page<Job> newest) {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("seq", seq.incrementAndGet());
    n.put("now", now.toEpochMilli());
    Map<String, QueueCounts> byName = new TreeMap<>();
    for (String q : ctx.settings().queues().keySet()) {
      byName.put(q, new QueueCounts(q, 0, 0, 0, 0, 0, 0, 0));
    }
    counts.forEach(c -> byName.put(c.queue(), c));
    StringBuilder version = new StringBuilder();
    ArrayNode queues = n.putArray("queues");
    for (QueueCounts c : byName.values()) {
      ObjectNode q = Json.queue(c);
      boolean configured = ctx.settings().queues().containsKey(c.queue());
      q.put("configured", configured);
      // Jobs waiting in a queue nothing serves any more (removed from the configuration).
      q.put("unroutable", configured ? 0 : c.scheduled() + c.ready());
      queues.add(q);
      version.append(c.queue()).append(':').append(c.scheduled()).append(',').append(c.ready()).append(',')
          .append(c.running()).append(',').append(c.succeeded()).append(',').append(c.dead()).append(',')
          .append(c.cancelled()).append(';');
    }
    ArrayNode rs = n.putArray("runners");
    runners.forEach(r -> rs.add(Json.runner(r)));
    String newestId = newest.items().isEmpty() ? null : newest.items().get(0).id();
    n.put("newestJobId", newestId);
    // Changes whenever a job is added or changes state: the pages showing jobs refetch on it.
    n.put("jobsVersion", Integer.toHexString(version.append(newestId).toString().hashCode()));
    ObjectNode h = n.putObject("history");
    h.put("bucketMs", BUCKET_MS);
    h.put("end", (bucket + 1) * BUCKET_MS);
    series(h.putObject("succeeded"), succeeded);
    series(h.putObject("dead"), dead);
    return n;
  }

  private static void series(ObjectNode out, Map<String, long[]> data) {
    data.forEach((q, values) -> {
      ArrayNode a = out.putArray(q);
      for (long v : values) {
        a.add(v);
      }
    });
  }

  /** Adds the succeeded and dead deltas since the previous sample to the current bucket. */
  private void record(Instant now, List<QueueCounts> counts) {
    long b = Math.floorDiv(now.toEpochMilli(), BUCKET_MS);
    // The first sample only sets the baseline; after it, a queue seen for the first time started
    // from nothing (the store lists only queues that hold jobs).
    boolean first = bucket < 0;
    if (bucket >= 0 && b > bucket) {
      int shift = (int) Math.min(BUCKETS, b - bucket);
      for (Map<String, long[]> m : List.of(succeeded, dead)) {
        m.values().forEach(a -> {
          System.arraycopy(a, shift, a, 0, BUCKETS - shift);
          java.util.Arrays.fill(a, BUCKETS - shift, BUCKETS, 0);
        });
      }
    }
    bucket = Math.max(bucket, b);
    for (QueueCounts c : counts) {
      long[] prev = previous.put(c.queue(), new long[] {c.succeeded(), c.dead()});
      if (prev == null && !first) {
        prev = new long[2];
      }
      long[] s = succeeded.computeIfAbsent(c.queue(), k -> new long[BUCKETS]);
      long[] d = dead.computeIfAbsent(c.queue(), k -> new long[BUCKETS]);
      if (prev != null) {
        s[BUCKETS - 1] += Math.max(0, c.succeeded() - prev[0]);
        d[BUCKETS - 1] += Math.max(0, c.dead() - prev[1]);
      }
    }
    for (String q : ctx.settings().queues().keySet()) {
      succeeded.computeIfAbsent(q, k -> new long[BUCKETS]);
      dead.computeIfAbsent(q, k -> new long[BUCKETS]);
    }
  }
}
