-- pekko-persistence-jdbc 1.1.1 tables for SQLite (the plugin ships DDL for other databases only).
-- Column names match its H2/Postgres schema and its reference.conf columnNames.
-- ordering is the rowid, so AUTOINCREMENT gives the global, never-reused ordering the plugin expects.
CREATE TABLE IF NOT EXISTS event_journal (
  ordering INTEGER PRIMARY KEY AUTOINCREMENT,
  persistence_id VARCHAR(255) NOT NULL,
  sequence_number BIGINT NOT NULL,
  deleted BOOLEAN DEFAULT FALSE NOT NULL,
  writer VARCHAR(255) NOT NULL,
  write_timestamp BIGINT,
  adapter_manifest VARCHAR(255),
  event_ser_id INTEGER NOT NULL,
  event_ser_manifest VARCHAR(255) NOT NULL,
  event_payload BLOB NOT NULL,
  meta_ser_id INTEGER,
  meta_ser_manifest VARCHAR(255),
  meta_payload BLOB,
  UNIQUE (persistence_id, sequence_number)
);

CREATE TABLE IF NOT EXISTS event_tag (
  event_id BIGINT NOT NULL,
  tag VARCHAR(256) NOT NULL,
  PRIMARY KEY (event_id, tag),
  CONSTRAINT fk_event_journal FOREIGN KEY (event_id) REFERENCES event_journal (ordering) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS snapshot (
  persistence_id VARCHAR(255) NOT NULL,
  sequence_number BIGINT NOT NULL,
  created BIGINT NOT NULL,
  snapshot_ser_id INTEGER NOT NULL,
  snapshot_ser_manifest VARCHAR(255) NOT NULL,
  snapshot_payload BLOB NOT NULL,
  meta_ser_id INTEGER,
  meta_ser_manifest VARCHAR(255),
  meta_payload BLOB,
  PRIMARY KEY (persistence_id, sequence_number)
);
