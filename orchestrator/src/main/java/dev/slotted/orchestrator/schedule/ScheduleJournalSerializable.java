package dev.slotted.orchestrator.schedule;

/**
 * Marker of what the schedule journal stores (events and snapshot state), bound to Pekko's
 * {@code jackson-json} serializer in {@code reference.conf}. The journal keys each payload by class
 * name, so renaming or moving these classes needs a Jackson migration.
 */
public interface ScheduleJournalSerializable {}
