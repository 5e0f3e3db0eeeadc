package dev.slotted.orchestrator.store;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Where a job lives: CRC32 of the UTF-8 key, modulo the partition count. CRC32 is fixed by its
 * specification, so every process and every store implementation (SQLite now, PostgreSQL later)
 * agrees on the partition of a key.
 */
public final class Partitioner {
  /**
   * Jobs without a key are spread by id in runs of this many consecutive ids per partition: a claim
   * then reads neighbouring rows (few pages) while the partitions still fill evenly.
   */
  public static final int SPREAD_RUN = 64;

  private Partitioner() {}

  /** The partition of a keyed job, or -1 when both keys are null (the job is spread by id). */
  public static int partitionOf(String partitionKey, String idempotencyKey, int partitions) {
    String key = partitionKey != null ? partitionKey : idempotencyKey;
    if (key == null) {
      return -1;
    }
    CRC32 crc = new CRC32();
    crc.update(key.getBytes(StandardCharsets.UTF_8));
    return (int) (crc.getValue() % partitions);
  }

  /** The partition of an unkeyed job with this (expected) id. */
  public static int spread(long id, int partitions) {
    return (int) Math.floorMod(Math.floorDiv(id, SPREAD_RUN), (long) partitions);
  }
}
