-- The job store (DESIGN §3, §11). Times are UTC epoch milliseconds.
-- Applied migrations are never edited: change the schema with a new V<n+1>__... file.

-- Facts fixed when the database is created (the partition count).
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per job. The id is exposed as a string; AUTOINCREMENT so a purged id is never reused
-- (ids name log files and appear in other systems). Claim order follows rowid order within a
-- priority, so a claim reads neighbouring rows.
--
-- visible_at means, by state:  scheduled: when it becomes due;  ready: since when it is due (the
-- claim order within a priority);  running: when the lease expires.
-- A lease is held while lease_token is not null (state running, or succeeded for an at-most-once
-- job whose attempt still runs).
--
-- The latest attempt lives on the row (att_*, numbered attempt_no) while it runs and after it
-- ended the job (succeeded, dead, cancelled): ending an attempt is then one row update, with no
-- insert. When a job goes back to ready or scheduled (retry, expired lease with attempts left,
-- released lease, requeue), its latest attempt is moved to the attempts table and att_* cleared;
-- so a ready or scheduled job never has an attempt on its row.
CREATE TABLE jobs (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  state            TEXT    NOT NULL,   -- scheduled, ready, running, succeeded, dead, cancelled
  part             INTEGER NOT NULL,
  priority         INTEGER NOT NULL,
  visible_at       INTEGER NOT NULL,
  queue            TEXT    NOT NULL,
  attempt_count    INTEGER NOT NULL DEFAULT 0,   -- attempts since submit or the last requeue
  attempt_no       INTEGER NOT NULL DEFAULT 0,   -- number of the latest attempt (never reset)
  max_attempts     INTEGER NOT NULL,
  at_most_once     INTEGER NOT NULL DEFAULT 0,
  lease_token      TEXT,
  due_at           INTEGER,                      -- visible_at before the current claim
  run_at           INTEGER NOT NULL,
  created_at       INTEGER NOT NULL,
  finished_at      INTEGER,
  timeout_ms       INTEGER,
  retry_policy     TEXT    NOT NULL,             -- exponential, fixed, immediate
  retry_initial_ms INTEGER,                      -- exponential: initial; fixed: the delay
  retry_multiplier REAL,
  retry_max_ms     INTEGER,
  retry_jitter     TEXT,
  idempotency_key  TEXT,
  partition_key    TEXT,
  tags             TEXT,                         -- JSON array of strings, NULL when none
  att_runner       TEXT,                         -- the latest attempt: who claimed it (lease owner)
  att_started_at   INTEGER,
  att_worker       TEXT,
  att_ended_at     INTEGER,                      -- NULL while it runs
  att_outcome      TEXT,
  att_error        TEXT,
  att_exit_code    INTEGER,
  att_log_tail     TEXT,
  payload          TEXT    NOT NULL
);

-- No CHECK constraints on the hot columns: SQLite builds the IN-list of a CHECK for every row
-- written, which cost a quarter of a claim. The store alone writes these columns.

-- The claim path holds ready rows only: leased and finished rows never sit in front of due ones.
-- The rowid (id) is the implicit last column, so ORDER BY priority DESC, visible_at, id is an
-- index walk.
CREATE INDEX jobs_ready ON jobs (part, priority DESC, visible_at) WHERE state = 'ready';
-- Delayed jobs and retry backoffs, promoted to ready inside the claim transaction of their partition.
CREATE INDEX jobs_scheduled ON jobs (part, visible_at) WHERE state = 'scheduled';
-- Leases by expiry, for the reaper of each partition.
CREATE INDEX jobs_leased ON jobs (part, visible_at) WHERE lease_token IS NOT NULL;
-- G3: one job per (queue, idempotency key) while the job is retained.
CREATE UNIQUE INDEX jobs_idempotency ON jobs (queue, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- Retention purge.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
-- The dead-letter queue, newest first per queue.
CREATE INDEX jobs_dead ON jobs (queue, id) WHERE state = 'dead';

-- Ended attempts that did not end their job (see jobs.att_*), in number order per job.
CREATE TABLE attempts (
  job_id     INTEGER NOT NULL,
  number     INTEGER NOT NULL,
  runner     TEXT,
  worker     TEXT,
  started_at INTEGER NOT NULL,
  ended_at   INTEGER NOT NULL,
  outcome    TEXT    NOT NULL,  -- succeeded, failed, timed_out, lease_expired, cancelled
  error      TEXT,
  exit_code  INTEGER,
  log_tail   TEXT,
  PRIMARY KEY (job_id, number)
) WITHOUT ROWID;

-- Job counts per queue and state, kept by the same transactions that move jobs, so reading them
-- costs one row per queue and state instead of a scan of every retained job.
CREATE TABLE queue_stats (
  queue TEXT    NOT NULL,
  state TEXT    NOT NULL,
  n     INTEGER NOT NULL,
  PRIMARY KEY (queue, state)
) WITHOUT ROWID;

-- Runner lease rows (dynamic TDMA membership) and the single leader lease.
CREATE TABLE runners (
  id           TEXT    PRIMARY KEY,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  status_json  TEXT
) WITHOUT ROWID;

CREATE TABLE leader (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  runner_id  TEXT    NOT NULL,
  expires_at INTEGER NOT NULL
);
