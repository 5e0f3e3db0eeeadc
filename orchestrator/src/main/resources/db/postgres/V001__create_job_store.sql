-- The job store on PostgreSQL (DESIGN §11, §12): the same tables and columns as the SQLite store
-- (db/migration/V001__create_job_store.sql explains the row layout), in the schema named by
-- slotted.store.postgres.schema. Times are UTC epoch milliseconds, as on SQLite.
-- Applied migrations are never edited: change the schema with a new V<n+1>__... file.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- Ids come from the sequence, taken before the insert (an unkeyed job's partition follows its id).
-- A sequence never hands out a value twice, so a purged id is never reused.
CREATE SEQUENCE jobs_id_seq;

CREATE TABLE jobs (
  id               BIGINT  PRIMARY KEY DEFAULT nextval('jobs_id_seq'),
  state            TEXT    NOT NULL,
  part             INTEGER NOT NULL,
  priority         INTEGER NOT NULL,
  visible_at       BIGINT  NOT NULL,
  queue            TEXT    NOT NULL,
  attempt_count    INTEGER NOT NULL DEFAULT 0,
  attempt_no       INTEGER NOT NULL DEFAULT 0,
  max_attempts     INTEGER NOT NULL,
  at_most_once     INTEGER NOT NULL DEFAULT 0,
  lease_token      TEXT,
  due_at           BIGINT,
  run_at           BIGINT  NOT NULL,
  created_at       BIGINT  NOT NULL,
  finished_at      BIGINT,
  timeout_ms       BIGINT,
  retry_policy     TEXT    NOT NULL,
  retry_initial_ms BIGINT,
  retry_multiplier DOUBLE PRECISION,
  retry_max_ms     BIGINT,
  retry_jitter     TEXT,
  idempotency_key  TEXT,
  partition_key    TEXT,
  tags             TEXT,
  att_runner       TEXT,
  att_started_at   BIGINT,
  att_worker       TEXT,
  att_ended_at     BIGINT,
  att_outcome      TEXT,
  att_error        TEXT,
  att_exit_code    INTEGER,
  att_log_tail     TEXT,
  payload          TEXT    NOT NULL
);
ALTER SEQUENCE jobs_id_seq OWNED BY jobs.id;

-- The claim walks this index in claim order and locks rows with FOR UPDATE SKIP LOCKED.
CREATE INDEX jobs_ready ON jobs (part, priority DESC, visible_at, id) WHERE state = 'ready';
CREATE INDEX jobs_scheduled ON jobs (part, visible_at) WHERE state = 'scheduled';
CREATE INDEX jobs_leased ON jobs (part, visible_at) WHERE lease_token IS NOT NULL;
CREATE UNIQUE INDEX jobs_idempotency ON jobs (queue, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX jobs_dead ON jobs (queue, id) WHERE state = 'dead';

CREATE TABLE attempts (
  job_id     BIGINT  NOT NULL,
  number     INTEGER NOT NULL,
  runner     TEXT,
  worker     TEXT,
  started_at BIGINT  NOT NULL,
  ended_at   BIGINT  NOT NULL,
  outcome    TEXT    NOT NULL,
  error      TEXT,
  exit_code  INTEGER,
  log_tail   TEXT,
  PRIMARY KEY (job_id, number)
);

-- Job counts per queue and state, kept per partition: a partition is written by the one runner
-- that owns it, so orchestrators on other partitions never wait for each other's counter rows.
-- Reads sum over the partitions.
CREATE TABLE queue_stats (
  queue TEXT    NOT NULL,
  state TEXT    NOT NULL,
  part  INTEGER NOT NULL,
  n     BIGINT  NOT NULL,
  PRIMARY KEY (queue, state, part)
);

CREATE TABLE runners (
  id           TEXT   PRIMARY KEY,
  started_at   BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL,
  status_json  TEXT
);

CREATE TABLE leader (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  runner_id  TEXT    NOT NULL,
  expires_at BIGINT  NOT NULL
);
