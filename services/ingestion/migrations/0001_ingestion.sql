-- Commits of every feature group version, keyed by the caller's batch id. A
-- row is written (commit_id NULL) before the offline Delta append and
-- completed with the Delta version after it, so a crash in between is
-- recovered on restart by looking the batch id up in the Delta log.
CREATE TABLE commits (
  feature_group text     NOT NULL,
  batch_id      text     NOT NULL,
  -- The Delta version; NULL while the offline write is in progress.
  commit_id     bigint,
  kind          smallint NOT NULL,
  source        smallint NOT NULL,
  -- fti.ingestion.v1.Commit.OnlineState: 1 not enabled, 2 pending, 3 written.
  online_state  smallint NOT NULL,
  commit_time   timestamptz,
  -- The whole Commit message (counts, validation report, statistics).
  commit        bytea    NOT NULL,
  -- For deletes: the key RecordBatch, to complete the online delete after a crash.
  delete_keys   bytea,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (feature_group, batch_id)
);
CREATE UNIQUE INDEX commits_by_version ON commits (feature_group, commit_id);
CREATE INDEX commits_unfinished ON commits (feature_group) WHERE commit_id IS NULL OR online_state = 2;

-- Message ids of NATS messages already committed, so a redelivery after a
-- crash or a re-publish outside JetStream's duplicate window is not written twice.
CREATE TABLE stream_messages (
  feature_group text NOT NULL,
  message_id    text NOT NULL,
  batch_id      text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (feature_group, message_id)
);
CREATE INDEX stream_messages_by_batch ON stream_messages (feature_group, batch_id);
CREATE INDEX stream_messages_by_age ON stream_messages (created_at);

-- Transactional outbox (libs/events enqueueEvent + startOutboxRelay): an event row is written in the
-- transaction that records the commit; the relay publishes it with its id as
-- Nats-Msg-Id.
CREATE TABLE outbox (
  seq          bigserial,
  id           text PRIMARY KEY,
  subject      text NOT NULL,
  payload      bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

-- Offline → online copies. Progress is checkpointed per data file, so a job
-- interrupted by a restart continues with the next file. The worker running a
-- job holds a session advisory lock on its id (released when it dies).
CREATE TABLE materialization_jobs (
  seq            bigserial,
  id             text PRIMARY KEY,
  feature_group  text     NOT NULL,
  request_id     text     NOT NULL DEFAULT '',
  incremental    boolean  NOT NULL,
  range_start    timestamptz,
  range_end      timestamptz,
  -- Planned when the job starts: commits after from_commit_id up to to_commit_id.
  from_commit_id bigint,
  to_commit_id   bigint,
  -- fti.common.v1.JobState.
  state          smallint NOT NULL,
  rows_done      bigint   NOT NULL DEFAULT 0,
  rows_total     bigint   NOT NULL DEFAULT 0,
  files_done     integer  NOT NULL DEFAULT 0,
  failure_reason text     NOT NULL DEFAULT '',
  create_time    timestamptz NOT NULL DEFAULT now(),
  start_time     timestamptz,
  end_time       timestamptz
);
CREATE UNIQUE INDEX materialization_jobs_request ON materialization_jobs (feature_group, request_id) WHERE request_id <> '';
CREATE INDEX materialization_jobs_by_group ON materialization_jobs (feature_group, seq DESC);
CREATE INDEX materialization_jobs_active ON materialization_jobs (seq) WHERE state IN (1, 2);
