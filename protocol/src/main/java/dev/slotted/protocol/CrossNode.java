package dev.slotted.protocol;

/**
 * Marker of every message that may cross nodes (worker-only nodes over Pekko Cluster): bound to
 * Pekko's {@code jackson-json} serializer in configuration ({@code slotted-overrides.conf}); Java
 * serialization stays off. Implementations are records (compiled with {@code -parameters}) whose
 * fields are plain values, collections, {@code java.time} types, other such records, or {@code
 * ActorRef}s (which Pekko's Jackson module serializes).
 */
public interface CrossNode {}
