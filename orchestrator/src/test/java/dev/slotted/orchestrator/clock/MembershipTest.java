package dev.slotted.orchestrator.clock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.slotted.orchestrator.store.RunnerRow;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MembershipTest {

  private static final long C = 1000;
  /** A cycle start. */
  private static final long T0 = 1_700_000_000_000L;
  private static final long K = T0 / C;

  private static RunnerRow row(String id, long startedAt, long expiresAt) {
    return new RunnerRow(id, Instant.ofEpochMilli(startedAt), Instant.ofEpochMilli(startedAt),
        Instant.ofEpochMilli(expiresAt), "{}", true);
  }

  @Test
  void indexIsTheRankOfTheIdAmongTheMembersOfTheCycle() {
    List<RunnerRow> rows = List.of(
        row("host-c", T0 - 10_000, T0 + 5_000), row("host-a", T0 - 10_000, T0 + 5_000),
        row("host-b", T0 - 10_000, T0 - 1), row("host-d", T0 - 10_000, T0 + 5_000));
    assertThat(Membership.forCycle(rows, "host-a", K, C)).isEqualTo(new Membership.Assignment(0, 3));
    assertThat(Membership.forCycle(rows, "host-c", K, C)).isEqualTo(new Membership.Assignment(1, 3));
    assertThat(Membership.forCycle(rows, "host-d", K, C)).isEqualTo(new Membership.Assignment(2, 3));
    Membership.Assignment expired = Membership.forCycle(rows, "host-b", K, C);
    assertThat(expired.member()).isFalse();
    assertThat(expired.count()).isEqualTo(3);
    assertThat(expired.ownedPartitions(16)).isEmpty();
    assertThat(expired.owns(0)).isFalse();
  }

  @Test
  void aNewRunnerGetsASlotTwoCyclesAfterTheCycleItRegisteredIn() {
    List<RunnerRow> rows = List.of(row("a", T0 - 10_000, T0 + 9_000), row("b", T0 + 700, T0 + 5_700));
    assertThat(Membership.forCycle(rows, "b", K, C).member()).isFalse();
    assertThat(Membership.forCycle(rows, "a", K + 1, C)).isEqualTo(new Membership.Assignment(0, 1));
    assertThat(Membership.forCycle(rows, "b", K + 1, C).member()).isFalse();
    assertThat(Membership.forCycle(rows, "a", K + 2, C)).isEqualTo(new Membership.Assignment(0, 2));
    assertThat(Membership.forCycle(rows, "b", K + 2, C)).isEqualTo(new Membership.Assignment(1, 2));
    // Its lease ends in cycle K + 5: a member through that cycle, gone from the next.
    assertThat(Membership.forCycle(rows, "a", K + 5, C).count()).isEqualTo(2);
    assertThat(Membership.forCycle(rows, "a", K + 6, C)).isEqualTo(new Membership.Assignment(0, 1));
  }

  @Test
  void everyRunnerDerivesTheSameMembershipWhateverItsReadingTime() {
    // Rows as two runners read them a heartbeat apart: the membership of the next cycle is the same.
    List<RunnerRow> early = List.of(row("a", T0 - 10_000, T0 + 4_100), row("b", T0 - 10_000, T0 + 4_600));
    List<RunnerRow> late = List.of(row("a", T0 - 10_000, T0 + 5_100), row("b", T0 - 10_000, T0 + 5_600));
    for (String self : List.of("a", "b")) {
      assertThat(Membership.forCycle(early, self, K + 1, C)).isEqualTo(Membership.forCycle(late, self, K + 1, C));
    }
  }

  @Test
  void aJoinWriteFallsInTheGapBetweenTwoWindows() {
    long guard = 20;
    // Three members: windows [20, 313), [353, 646), [686, 980); boundaries at 0, 333, 666.
    assertThat(SlotMath.joinAt(T0 + 100, C, 3, guard)).isEqualTo(T0 + 333 - 5);
    assertThat(SlotMath.joinAt(T0 + 700, C, 3, guard)).isEqualTo(T0 + 1000 - 5);
    for (int members = 2; members <= 8; members++) {
      for (long now = T0; now < T0 + C; now += 37) {
        long at = SlotMath.joinAt(now, C, members, guard);
        assertThat(at).isGreaterThanOrEqualTo(now).isLessThan(now + C);
        for (int i = 0; i < members; i++) {
          assertThat(SlotMath.ofMillis(C, members, i, guard).isOpen(at)).as("member %d of %d at %d", i, members, at)
              .isFalse();
        }
      }
    }
    assertThat(SlotMath.joinAt(T0 + 123, C, 1, guard)).isEqualTo(T0 + 123); // a lone member has no gap
    assertThat(SlotMath.joinAt(T0 + 123, C, 0, guard)).isEqualTo(T0 + 123);
  }

  @Test
  void duplicatesAndOrderDoNotMatter() {
    assertThat(Membership.of(List.of("b", "a", "b", "c", "a"), "b"))
        .isEqualTo(new Membership.Assignment(1, 3));
  }

  @Test
  void everyRunnerAgreesOnADistinctIndex() {
    SplittableRandom random = new SplittableRandom(11);
    for (int n = 0; n < 200; n++) {
      int size = 1 + random.nextInt(12);
      List<String> ids = new ArrayList<>();
      for (int k = 0; k < size; k++) {
        ids.add("runner-" + random.nextInt(1_000_000));
      }
      Set<Integer> indexes = new HashSet<>();
      Set<String> distinct = new HashSet<>(ids);
      for (String self : distinct) {
        List<String> shuffled = new ArrayList<>(ids);
        Collections.shuffle(shuffled, new Random(random.nextLong()));
        Membership.Assignment a = Membership.of(shuffled, self);
        assertThat(a.count()).isEqualTo(distinct.size());
        indexes.add(a.index());
      }
      assertThat(indexes).hasSize(distinct.size());
    }
  }

  @Test
  void partitionsGoToTheRunnerOfRankPModN() {
    assertThat(Membership.ownedPartitions(16, 0, 3)).containsExactly(0, 3, 6, 9, 12, 15);
    assertThat(Membership.ownedPartitions(16, 1, 3)).containsExactly(1, 4, 7, 10, 13);
    assertThat(Membership.ownedPartitions(16, 2, 3)).containsExactly(2, 5, 8, 11, 14);
    assertThat(Membership.ownedPartitions(2, 2, 3)).isEmpty();
    assertThat(Membership.fixed(0, 1).ownedPartitions(4)).containsExactly(0, 1, 2, 3);
    assertThat(Membership.fixed(1, 3).owns(7)).isTrue();
    assertThat(Membership.fixed(1, 3).owns(8)).isFalse();
    assertThat(Membership.ownerOf(13, 4)).isEqualTo(1);
  }

  @Test
  void everyPartitionHasExactlyOneOwner() {
    SplittableRandom random = new SplittableRandom(12);
    for (int n = 0; n < 300; n++) {
      int partitions = 1 + random.nextInt(256);
      int count = 1 + random.nextInt(20);
      int[] owners = new int[partitions];
      for (int i = 0; i < count; i++) {
        for (int p : Membership.ownedPartitions(partitions, i, count)) {
          owners[p]++;
          assertThat(Membership.ownerOf(p, count)).isEqualTo(i);
        }
      }
      for (int p = 0; p < partitions; p++) {
        assertThat(owners[p]).as("partition %d of %d, %d runners", p, partitions, count).isOne();
      }
    }
  }

  @Test
  void invalidAssignmentsNameTheirKey() {
    assertThatThrownBy(() -> Membership.fixed(0, 0))
        .hasMessageStartingWith("slotted.tdma.runner-count = 0");
    assertThatThrownBy(() -> Membership.fixed(2, 2))
        .hasMessageStartingWith("slotted.tdma.runner-index = 2");
    assertThatThrownBy(() -> Membership.ownedPartitions(0, 0, 1))
        .hasMessageStartingWith("slotted.partitions = 0");
    assertThatThrownBy(() -> Membership.of(List.of("a"), ""))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
