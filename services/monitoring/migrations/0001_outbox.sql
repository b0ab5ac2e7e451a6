-- Transactional outbox: an event row is written in the same transaction as the
-- change it describes; a relay publishes it to NATS with its id as Nats-Msg-Id
-- and marks it published. No event is lost when NATS is down, and none is
-- published for a change that rolled back.
CREATE TABLE outbox (
  id           text PRIMARY KEY,
  -- Commit order, which the relay publishes in.
  seq          bigserial NOT NULL,
  subject      text NOT NULL,
  payload      bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
