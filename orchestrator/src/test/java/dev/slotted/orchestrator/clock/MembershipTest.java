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

  private static RunnerRow row(String id, boolean alive) {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");
    return new RunnerRow(id, now, now, now.plusSeconds(5), "{}", alive);
  }

  @Test
  void indexIsTheRankOfTheIdAmongTheLiveRunners() {
    List<RunnerRow> rows =
        List.of(
            row("host-c", true), row("host-a", true), row("host-b", false), row("host-d", true));
    assertThat(Membership.fromRows(rows, "host-a")).isEqualTo(new Membership.Assignment(0, 3));
    assertThat(Membership.fromRows(rows, "host-c")).isEqualTo(new Membership.Assignment(1, 3));
    assertThat(Membership.fromRows(rows, "host-d")).isEqualTo(new Membership.Assignment(2, 3));
  }

  @Test
  void aRunnerCountsItselfWhenItsOwnRowIsMissingOrExpired() {
    List<RunnerRow> rows = List.of(row("host-a", true), row("host-b", false));
    assertThat(Membership.fromRows(rows, "host-b")).isEqualTo(new Membership.Assignment(1, 2));
    assertThat(Membership.of(List.of(), "solo")).isEqualTo(new Membership.Assignment(0, 1));
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
