// The transactional outbox every service uses for its events. A service
// writes an event row (enqueueEvent) in the same transaction as the change it
// describes; the relay publishes committed rows to NATS JetStream, oldest
// first, with the row id as Nats-Msg-Id so a retry after a crash or a lost ack
// is stored once. While NATS is down the rows wait and the relay retries with
// backoff: nothing is lost, and nothing is published for a change that rolled
// back (its row never committed).
//
// The service's own migrations create the table:
//   CREATE TABLE outbox (id text PRIMARY KEY, subject text NOT NULL,
//     payload bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
//     published_at timestamptz, seq bigserial);
import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Pool, Queryable } from "@fti/db";
import type { Logger } from "@fti/logger";
import { EventSchema } from "@fti/proto/fti/events/v1/events_pb";
import { ensureStream, publishMessage, type NatsConnection } from "./index.js";

type Payload = MessageInitShape<typeof EventSchema>["payload"];

export interface EnqueuedEvent {
  /** The event type, e.g. "ingestion.commit". */
  type: string;
  /** Subject tokens after the type, e.g. [project, group, version]. */
  subjectTokens: string[];
  /** The resource the event is about. */
  resource: string;
  time: Date;
  payload: Payload;
}

/**
 * Queues one event in the outbox; it is published only if the surrounding
 * transaction commits. The subject is "<subjectPrefix>.<type>.<tokens...>".
 */
export async function enqueueEvent(db: Queryable, publisher: { source: string; subjectPrefix: string }, event: EnqueuedEvent): Promise<void> {
  const id = randomUUID();
  const subject = [publisher.subjectPrefix, event.type, ...event.subjectTokens].join(".");
  const message = create(EventSchema, { id, time: timestampFromDate(event.time), source: publisher.source, type: event.type, subject, resource: event.resource, payload: event.payload });
  await db.query("INSERT INTO outbox (id, subject, payload, created_at) VALUES ($1, $2, $3, $4)", [id, subject, toBinary(EventSchema, message), event.time]);
}

export interface OutboxRelayOptions {
  pool: Pool;
  nats: NatsConnection;
  logger: Logger;
  /** The JetStream stream holding the events, e.g. FTI_EVENTS. */
  stream: string;
  /** Its subjects, e.g. "fti.events" (the stream takes "<prefix>.>"). */
  subjectPrefix: string;
  /** How often to look for rows nobody told us about (other replicas, restarts). */
  pollIntervalMs?: number;
  /** Longest wait between attempts while NATS or Postgres is down. */
  maxBackoffMs?: number;
  batchSize?: number;
  publishTimeoutMs?: number;
}

export interface OutboxRelay {
  /** Publish soon: a change was just committed. */
  notify(): void;
  /** Publishes every row committed so far (for tests and shutdown). */
  flush(): Promise<void>;
  /** Stops after the batch in hand. */
  stop(): Promise<void>;
}

export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { pool, nats, logger } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  const batchSize = options.batchSize ?? 100;
  let streamReady = false;
  let stopped = false;
  let failures = 0;
  let wake: (() => void) | undefined;
  let pending = false;

  /** Publishes one batch; returns how many rows it published. */
  async function publishBatch(): Promise<number> {
    if (!streamReady) {
      await ensureStream(nats, { name: options.stream, subjects: [`${options.subjectPrefix}.>`] });
      streamReady = true;
    }
    const { rows } = await pool.query<{ id: string; subject: string; payload: Uint8Array }>(
      "SELECT id, subject, payload FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1",
      [batchSize],
    );
    for (const row of rows) {
      // Sequential on purpose: events of one resource keep their order.
      await publishMessage(nats, row.subject, EventSchema, fromBinary(EventSchema, row.payload), { msgId: row.id, timeoutMs: options.publishTimeoutMs ?? 2_000 });
      await pool.query("UPDATE outbox SET published_at = now() WHERE id = $1", [row.id]);
    }
    return rows.length;
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const loop = (async () => {
    while (!stopped) {
      pending = false;
      let published = 0;
      try {
        published = await publishBatch();
        if (failures) logger.info("outbox relay publishing again", { afterFailures: failures });
        failures = 0;
      } catch (err) {
        failures++;
        if (failures === 1 || failures % 20 === 0) logger.warn("outbox relay cannot publish; will retry", { error: err instanceof Error ? err.message : String(err), failures });
      }
      if (stopped) break;
      if (failures) await sleep(Math.min(100 * 2 ** Math.min(failures, 10), maxBackoffMs));
      else if (published === 0 && !pending) await sleep(pollIntervalMs);
    }
  })();

  return {
    notify() {
      pending = true;
      if (!failures) wake?.();
    },
    async flush() {
      while (!stopped) {
        const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL");
        if (rows[0]!.n === "0") return;
        pending = true;
        wake?.();
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
