-- Training jobs. The Job message is stored whole (protobuf binary); the
-- columns beside it are what queries filter, sort and claim on.
CREATE TABLE jobs (
  seq            bigserial PRIMARY KEY,
  name           text NOT NULL UNIQUE,
  project        text NOT NULL,
  request_id     text,
  state          text NOT NULL,
  model          text NOT NULL,
  schedule       text NOT NULL DEFAULT '',
  trigger_name   text NOT NULL DEFAULT '',
  job            bytea NOT NULL,
  -- The process running it and when it last said so; a RUNNING job whose
  -- heartbeat is stale belonged to a runner that died.
  runner_id      text,
  heartbeat_at   timestamptz,
  cancel_requested boolean NOT NULL DEFAULT false,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project, request_id)
);
CREATE INDEX jobs_project_seq ON jobs (project, seq DESC);
CREATE INDEX jobs_queued ON jobs (seq) WHERE state = 'QUEUED';

CREATE TABLE job_logs (
  job   text NOT NULL REFERENCES jobs (name) ON DELETE CASCADE,
  seq   bigserial,
  time  timestamptz NOT NULL DEFAULT now(),
  text  text NOT NULL,
  PRIMARY KEY (job, seq)
);

-- Cron schedules; the Schedule message whole plus what the ticker needs.
CREATE TABLE schedules (
  name        text PRIMARY KEY,
  project     text NOT NULL,
  revision    bigint NOT NULL,
  paused      boolean NOT NULL,
  next_run_at timestamptz,
  schedule    bytea NOT NULL,
  created_seq bigserial
);
CREATE INDEX schedules_due ON schedules (next_run_at) WHERE NOT paused;

-- Event triggers.
CREATE TABLE triggers (
  name        text PRIMARY KEY,
  project     text NOT NULL,
  revision    bigint NOT NULL,
  paused      boolean NOT NULL,
  trigger     bytea NOT NULL,
  created_seq bigserial
);

-- An open debounce window of a trigger: the first matching event opens it,
-- later ones inside it only count; when fire_at passes one job is submitted
-- and the window is deleted in the same transaction.
CREATE TABLE trigger_windows (
  trigger_name text PRIMARY KEY REFERENCES triggers (name) ON DELETE CASCADE,
  opened_at    timestamptz NOT NULL,
  fire_at      timestamptz NOT NULL,
  events       integer NOT NULL,
  -- Event ids already counted, so a redelivered event is not counted twice.
  event_ids    text[] NOT NULL
);
