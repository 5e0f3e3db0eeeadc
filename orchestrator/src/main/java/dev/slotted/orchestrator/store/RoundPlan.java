package dev.slotted.orchestrator.store;

import dev.slotted.protocol.ClaimedJob;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How the claims of one {@link JobStore#round} share its bounds: the round's total and the caps of
 * the limited queues. Each request becomes a sequence of steps (its uncapped queues first, then one
 * step per capped queue it serves), and each step is sized, when it runs, from what the steps before
 * it took. Used inside one transaction, by one thread.
 */
public final class RoundPlan {
  private final List<ClaimRequest> steps = new ArrayList<>();
  /** For each step, the capped queue it claims, or null for the uncapped queues. */
  private final List<String> stepQueue = new ArrayList<>();
  private final List<Integer> stepOf = new ArrayList<>();
  private final int[] takenByRequest;
  private final List<ClaimRequest> requests;
  private final Map<String, Integer> capsLeft;
  private int totalLeft;

  public RoundPlan(List<ClaimRequest> claims, Map<String, Integer> queueCaps, int total) {
    if (total < 0) {
      throw new IllegalArgumentException("total must be >= 0: " + total);
    }
    this.requests = List.copyOf(claims);
    this.capsLeft = new HashMap<>(queueCaps);
    this.totalLeft = total;
    this.takenByRequest = new int[requests.size()];
    for (int r = 0; r < requests.size(); r++) {
      ClaimRequest req = requests.get(r);
      if (req.queues().isEmpty() && !queueCaps.isEmpty()) {
        throw new IllegalArgumentException("a claim of every queue cannot honour queue caps: name its queues");
      }
      Set<String> uncapped = new HashSet<>(req.queues());
      uncapped.removeAll(queueCaps.keySet());
      if (req.queues().isEmpty() || !uncapped.isEmpty()) {
        add(r, req.withQueues(uncapped), null);
      }
      for (String q : req.queues()) {
        if (queueCaps.containsKey(q)) {
          add(r, req.withQueues(Set.of(q)), q);
        }
      }
    }
  }

  private void add(int request, ClaimRequest step, String cappedQueue) {
    steps.add(step);
    stepQueue.add(cappedQueue);
    stepOf.add(request);
  }

  /** How many steps the round runs at most. */
  public int size() {
    return steps.size();
  }

  /** Step {@code i} sized by what is left, or null when it may take nothing. */
  public ClaimRequest next(int i) {
    int request = stepOf.get(i);
    ClaimRequest step = steps.get(i);
    int n = Math.min(totalLeft, step.limit() - takenByRequest[request]);
    String q = stepQueue.get(i);
    if (q != null) {
      n = Math.min(n, capsLeft.getOrDefault(q, 0));
    }
    if (n <= 0) {
      return null;
    }
    return step.withLimit(n);
  }

  /** The best ready priority a step could take, or null when it has nothing ready. */
  @FunctionalInterface
  public interface Probe {
    Integer bestPriority(ClaimRequest step) throws java.sql.SQLException;
  }

  /**
   * The steps in the order of the best ready priority each could take (steps with nothing ready
   * left out), ties in plan order: when the round's total or a queue's cap cannot take every due
   * job, the highest priorities win across partitions, not the first partitions.
   */
  public List<Integer> byBestPriority(Probe probe) throws java.sql.SQLException {
    List<Integer> order = new ArrayList<>(size());
    Map<Integer, Integer> best = new HashMap<>();
    for (int i = 0; i < size(); i++) {
      ClaimRequest step = next(i);
      if (step == null) {
        continue;
      }
      Integer p = probe.bestPriority(step);
      if (p != null) {
        best.put(i, p);
        order.add(i);
      }
    }
    order.sort(java.util.Comparator.comparingInt(i -> -best.get(i)));
    return order;
  }

  /** Step {@code i} took these jobs. */
  public void took(int i, List<ClaimedJob> jobs) {
    int n = jobs.size();
    totalLeft -= n;
    takenByRequest[stepOf.get(i)] += n;
    String q = stepQueue.get(i);
    if (q != null) {
      capsLeft.merge(q, -n, Integer::sum);
    }
  }
}
