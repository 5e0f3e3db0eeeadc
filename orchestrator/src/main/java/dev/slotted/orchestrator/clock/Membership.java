package dev.slotted.orchestrator.clock;

import dev.slotted.orchestrator.store.RunnerRow;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * Who this runner is among the live runners, and which partitions it owns (DESIGN §2). Pure.
 *
 * <p>Every runner reads the same runner rows and sorts the ids the same way, so they agree on N and
 * on each other's rank without talking to each other. The SlotClock applies a new assignment at the
 * next cycle boundary, so all runners switch at the same cycle.
 */
public final class Membership {

  private Membership() {}

  /**
   * This runner's place among the runners.
   *
   * @param index the rank of this runner's id among the sorted member ids, 0-based; {@link #NO_SLOT}
   *     for a runner that is not a member (yet, or any more): it has no window and owns nothing
   * @param count the number of members
   */
  public record Assignment(int index, int count) {

    public Assignment {
      if (count < 1) {
        throw new IllegalArgumentException(
            SlotMath.KEY_RUNNER_COUNT + " = " + count + ": must be at least 1");
      }
      if (index < NO_SLOT || index >= count) {
        throw new IllegalArgumentException(
            SlotMath.KEY_RUNNER_INDEX + " = " + index + ": must be in [0, " + count + ")");
      }
    }

    /** A runner without a slot among {@code count} members (at least 1 for the arithmetic). */
    public static Assignment none(int count) {
      return new Assignment(NO_SLOT, Math.max(1, count));
    }

    public boolean member() {
      return index != NO_SLOT;
    }

    /** The partitions {@code p} in {@code [0, partitions)} with {@code p mod count == index}. */
    public List<Integer> ownedPartitions(int partitions) {
      if (partitions < 1) {
        throw new IllegalArgumentException(
            "slotted.partitions = " + partitions + ": must be at least 1");
      }
      if (!member()) {
        return List.of();
      }
      List<Integer> owned = new ArrayList<>();
      for (int p = index; p < partitions; p += count) {
        owned.add(p);
      }
      return List.copyOf(owned);
    }

    public boolean owns(int partition) {
      return member() && ownerOf(partition, count) == index;
    }
  }

  /** The index of a runner without a slot. */
  public static final int NO_SLOT = -1;

  /**
   * Cycles after the one a runner registered in before it gets a slot: by then every member has
   * read its row (each reads the rows once a cycle), so all of them switch at the same boundary.
   */
  public static final int ADMISSION_CYCLES = 2;

  /**
   * The membership of cycle {@code cycle}, the same for every runner that read the same rows
   * (dynamic membership with a join rule): a runner is a member from {@link #ADMISSION_CYCLES}
   * cycles after the cycle it registered in (its row's {@code startedAt}) through the cycle its
   * lease expires in. Nothing depends on when a runner happened to read the rows.
   */
  public static Assignment forCycle(Collection<RunnerRow> rows, String selfId, long cycle, long cycleMs) {
    List<String> members = new ArrayList<>(rows.size());
    for (RunnerRow row : rows) {
      if (isMember(row, cycle, cycleMs)) {
        members.add(row.id());
      }
    }
    if (!members.contains(selfId)) {
      return Assignment.none(members.size());
    }
    return of(members, selfId);
  }

  /** Whether the runner of this row holds a slot in {@code cycle}. */
  public static boolean isMember(RunnerRow row, long cycle, long cycleMs) {
    long admitted = Math.floorDiv(row.startedAt().toEpochMilli(), cycleMs) + ADMISSION_CYCLES;
    long lastCycle = Math.floorDiv(row.expiresAt().toEpochMilli(), cycleMs);
    return admitted <= cycle && cycle <= lastCycle;
  }

  /** The assignment from the ids of the live runners, in any order, duplicates ignored. */
  public static Assignment of(Collection<String> liveIds, String selfId) {
    if (selfId == null || selfId.isEmpty()) {
      throw new IllegalArgumentException("the runner id must not be empty");
    }
    TreeSet<String> ids = new TreeSet<>(liveIds);
    ids.add(selfId);
    return new Assignment(ids.headSet(selfId).size(), ids.size());
  }

  /** The configured assignment (static membership); validates like the dynamic one. */
  public static Assignment fixed(int index, int count) {
    return new Assignment(index, count);
  }

  /** The rank of the runner that owns a partition among {@code count} runners. */
  public static int ownerOf(int partition, int count) {
    if (partition < 0) {
      throw new IllegalArgumentException("partition " + partition + " is negative");
    }
    if (count < 1) {
      throw new IllegalArgumentException("runner count " + count + " must be at least 1");
    }
    return partition % count;
  }

  /** The partitions of {@code [0, partitions)} that runner {@code index} of {@code count} owns. */
  public static List<Integer> ownedPartitions(int partitions, int index, int count) {
    return new Assignment(index, count).ownedPartitions(partitions);
  }
}
