-- Every registry resource in one table: projects, feature group / feature view /
-- model versions, training datasets and deployments. The protobuf message is
-- the stored body (bytea: exact round trip, cheap to decode); the columns
-- beside it exist for lookups, keyset pagination and filters.

-- One number per committed change across the registry: etags are made from
-- it, and events carry it so consumers can spot stale or missing events.
CREATE SEQUENCE changes;

CREATE TABLE resources (
  -- Full resource name, e.g. "projects/fraud/featureGroups/tx/versions/2".
  name        text PRIMARY KEY,
  -- project, feature_group, feature_view, training_dataset, model, deployment.
  kind        text NOT NULL,
  -- The owning project's name; NULL for projects. The foreign key stops a
  -- project from being deleted while it holds anything.
  project     text REFERENCES resources (name),
  -- What versions are numbered within: the unversioned name of a feature
  -- group / view / model ("projects/p/featureGroups/tx"), the feature view
  -- version of a training dataset; the name itself for unversioned kinds.
  collection  text NOT NULL,
  -- The id sorted by when listing, e.g. "tx".
  id          text NOT NULL,
  -- 1, 2, ... for versioned kinds; 0 otherwise.
  version     integer NOT NULL DEFAULT 0,
  owner       text NOT NULL DEFAULT '',
  tags        jsonb NOT NULL DEFAULT '{}',
  -- Per-kind filterable fields as text, e.g. {"online_enabled": "true"}.
  attrs       jsonb NOT NULL DEFAULT '{}',
  -- The change number of the last write (the etag is derived from it).
  revision    bigint NOT NULL,
  body        bytea NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  update_time timestamptz NOT NULL DEFAULT now(),
  UNIQUE (collection, version)
);
CREATE INDEX resources_by_project ON resources (kind, project, id, version);

-- "downstream was built from (or serves) upstream": a feature view reads a
-- feature group, a training dataset belongs to a view, a model was trained on
-- a dataset, a deployment routes to a model. Drives lineage, referential
-- checks and some filters. Deleting an upstream that still has dependents is
-- refused by the foreign key even if two requests race.
CREATE TABLE dependencies (
  upstream   text NOT NULL REFERENCES resources (name),
  downstream text NOT NULL REFERENCES resources (name) ON DELETE CASCADE,
  PRIMARY KEY (upstream, downstream)
);
CREATE INDEX dependencies_by_downstream ON dependencies (downstream);

-- Every revision of every deployment, immutable, so a rollback restores one
-- exactly.
CREATE TABLE deployment_revisions (
  deployment  text NOT NULL REFERENCES resources (name) ON DELETE CASCADE,
  revision    bigint NOT NULL,
  body        bytea NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (deployment, revision)
);

-- Publish in insertion order: a later change to the same resource (taken under
-- its row lock) always gets a larger number than the earlier one.
ALTER TABLE outbox ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
DROP INDEX outbox_unpublished;
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
