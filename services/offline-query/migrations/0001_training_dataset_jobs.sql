-- Training dataset jobs: a Postgres work queue. Any replica claims a QUEUED
-- job (FOR UPDATE SKIP LOCKED), reports progress as a heartbeat, and a RUNNING
-- job whose worker stopped reporting is claimed again by another.
CREATE TABLE training_dataset_jobs (
  -- "projects/{project}/trainingDatasetJobs/{job}".
  name              text PRIMARY KEY,
  project           text NOT NULL,
  -- The registry training dataset being built.
  training_dataset  text NOT NULL,
  feature_view      text NOT NULL,
  -- QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED.
  state             text NOT NULL,
  -- JOINING, STATISTICS, FITTING, REGISTERING while RUNNING; '' otherwise.
  stage             text NOT NULL DEFAULT '',
  rows_done         bigint NOT NULL DEFAULT 0,
  rows_total        bigint NOT NULL DEFAULT 0,
  progress_percent  double precision NOT NULL DEFAULT 0,
  failure_reason    text NOT NULL DEFAULT '',
  -- The caller's idempotency key; a retry with the same key gets the same job.
  request_id        text,
  -- Which process runs it, and when it last reported.
  worker            text,
  heartbeat_time    timestamptz,
  create_time       timestamptz NOT NULL DEFAULT now(),
  start_time        timestamptz,
  end_time          timestamptz,
  UNIQUE (project, request_id)
);

CREATE INDEX training_dataset_jobs_queue ON training_dataset_jobs (state, create_time);
CREATE INDEX training_dataset_jobs_list ON training_dataset_jobs (project, create_time DESC, name DESC);
