-- Monitors, per-window statistics, alerts and logged predictions.

-- A monitor's config is its protobuf (bytes); the columns are what queries filter on.
CREATE TABLE monitors (
  name        text PRIMARY KEY,
  project     text NOT NULL,
  created_seq bigserial NOT NULL,
  revision    bigint NOT NULL,
  target      text NOT NULL,
  paused      boolean NOT NULL,
  monitor     bytea NOT NULL
);
CREATE INDEX monitors_project ON monitors (project, created_seq);
CREATE INDEX monitors_target ON monitors (target);

-- Mergeable statistics of one window (per model version for deployments):
-- adding rows is a merge into `features` (feature -> partial statistics), so
-- windows never rescan data. `evaluated_at` is set once drift and alerts were
-- judged for the window.
CREATE TABLE window_stats (
  monitor      text NOT NULL REFERENCES monitors (name) ON DELETE CASCADE,
  model        text NOT NULL,
  window_ms    bigint NOT NULL,
  window_start timestamptz NOT NULL,
  row_count    bigint NOT NULL,
  features     jsonb NOT NULL,
  evaluated_at timestamptz,
  PRIMARY KEY (monitor, window_ms, window_start, model)
);
CREATE INDEX window_stats_pending ON window_stats (monitor, window_start) WHERE evaluated_at IS NULL;

-- Inputs (events) already merged into a monitor's windows: delivery is at
-- least once, merging is not idempotent, so a redelivery is skipped here.
CREATE TABLE processed_inputs (
  monitor  text NOT NULL REFERENCES monitors (name) ON DELETE CASCADE,
  input_id text NOT NULL,
  at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (monitor, input_id)
);

-- Consecutive windows beyond a threshold, per monitor, kind, feature or
-- performance metric, and model version; the evidence of the current streak.
CREATE TABLE alert_streaks (
  monitor  text NOT NULL REFERENCES monitors (name) ON DELETE CASCADE,
  kind     text NOT NULL,
  subject  text NOT NULL,
  metric   text NOT NULL,
  model    text NOT NULL,
  streak   integer NOT NULL,
  evidence jsonb NOT NULL,
  PRIMARY KEY (monitor, kind, subject, metric, model)
);

CREATE TABLE alerts (
  name      text PRIMARY KEY,
  monitor   text NOT NULL REFERENCES monitors (name) ON DELETE CASCADE,
  project   text NOT NULL,
  seq       bigserial NOT NULL,
  kind      text NOT NULL,
  subject   text NOT NULL,
  metric    text NOT NULL,
  model     text NOT NULL,
  state     text NOT NULL,
  alert     bytea NOT NULL
);
-- De-duplication: at most one firing alert per monitor, kind, feature, metric and model.
CREATE UNIQUE INDEX alerts_one_firing ON alerts (monitor, kind, subject, metric, model) WHERE state = 'FIRING';
CREATE INDEX alerts_project ON alerts (project, seq DESC);

-- Predictions of deployment monitors with performance tracking, joined to
-- labels when they arrive.
CREATE TABLE predictions (
  id          bigserial PRIMARY KEY,
  monitor     text NOT NULL REFERENCES monitors (name) ON DELETE CASCADE,
  model       text NOT NULL,
  request_id  text NOT NULL,
  entity_key  text NOT NULL,
  time        timestamptz NOT NULL,
  score       double precision,
  label       double precision,
  label_time  timestamptz
);
CREATE INDEX predictions_key ON predictions (monitor, entity_key, time);
CREATE INDEX predictions_time ON predictions (monitor, time);

-- Performance windows already judged for alerts.
CREATE TABLE performance_evaluations (
  monitor      text NOT NULL REFERENCES monitors (name) ON DELETE CASCADE,
  model        text NOT NULL,
  window_ms    bigint NOT NULL,
  window_start timestamptz NOT NULL,
  PRIMARY KEY (monitor, window_ms, window_start, model)
);
