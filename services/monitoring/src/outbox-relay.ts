// Publishes committed outbox rows to NATS JetStream, oldest first, with the
// row id as Nats-Msg-Id so a retry after a crash or a lost ack is stored once.
// While NATS is down it keeps the rows and retries with backoff; nothing is
// lost and nothing is published for a change that rolled back (its row never
// committed).
import { fromBinary } from "@bufbuild/protobuf";
import type { Pool } from "@fti/db";
import { ensureStream, publishMessage, type NatsConnection } from "@fti/events";
import type { Logger } from "@fti/logger";
import { EventSchema } from "@fti/proto/fti/events/v1/events_pb";

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
