// Streaming feature pipelines over NATS: one durable JetStream consumer over
// "<prefix>.ingest.>", messages grouped per subject (one feature group
// version) into micro-batches by size and time, each written as one commit.
// A message is acked only after its commit's offline and online writes; a
// message that can never be written is dead-lettered (and acked) alone, so it
// never blocks the stream; a message whose id an earlier commit holds is
// acked without writing (redelivery after a crash, re-publish).
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import type { Pool } from "@fti/db";
import { isUnavailable, NotFoundError } from "@fti/errors";
import { ensureStream, type NatsConnection } from "@fti/events";
import type { Logger } from "@fti/logger";
import { DeadLetterSchema, IngestMessageSchema, type IngestMessage } from "@fti/proto/fti/ingestion/v1/stream_pb";
import { isValidId } from "@fti/aip";
import type { ColumnBatch, FeatureGroupSchema, Value } from "@fti/schema";
import { committedMessageIds, pruneMessageIds } from "./commit-store.js";
import type { FeatureGroups, ResolvedGroup } from "./feature-groups.js";
import type { Ingestion } from "./ingestion.js";

export interface StreamConsumerOptions {
  nats: NatsConnection;
  pool: Pool;
  groups: FeatureGroups;
  ingestion: Ingestion;
  logger: Logger;
  /** JetStream stream of feature rows, e.g. FTI_INGEST over "fti.ingest.>". */
  stream: string;
  /** e.g. "fti.ingest": subjects are "<subjectPrefix>.<project>.<group>.<version>". */
  subjectPrefix: string;
  /** e.g. FTI_DEADLETTER over "fti.deadletter.ingest.>". */
  deadLetterStream: string;
  deadLetterPrefix: string;
  /** Durable consumer name; its position survives restarts. */
  durable: string;
  microBatchRows: number;
  microBatchMs: number;
  maxBatchRows: number;
  ackWaitMs: number;
  dedupRetentionHours: number;
}

export interface StreamConsumer {
  /** Stops taking messages, finishes the micro-batches in hand; unacked messages stay in the stream. */
  stop(): Promise<void>;
}

/** A delivered message, decoded once on arrival (or why it could not be). */
interface Delivered {
  msg: JsMsg;
  message?: IngestMessage;
  decodeError?: string;
}

interface Pending {
  messages: Delivered[];
  rows: number;
  timer: NodeJS.Timeout | undefined;
  flushing: boolean;
  /** When the oldest waiting message arrived. */
  firstAt: number;
}

export async function startStreamConsumer(options: StreamConsumerOptions): Promise<StreamConsumer> {
  const { nats, logger } = options;
  await ensureStream(nats, { name: options.stream, subjects: [`${options.subjectPrefix}.>`] });
  await ensureStream(nats, { name: options.deadLetterStream, subjects: [`${options.deadLetterPrefix}.>`] });
  const jsm = await jetstreamManager(nats);
  const config = {
    durable_name: options.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: options.ackWaitMs * 1_000_000,
    // Unlimited: an outage (online store down) must delay messages, never drop them.
    max_deliver: -1,
    max_ack_pending: 100_000,
    filter_subject: `${options.subjectPrefix}.>`,
  };
  await jsm.consumers.add(options.stream, config).catch(async () => jsm.consumers.update(options.stream, options.durable, config));
  const js = jetstream(nats);
  const consumer = await js.consumers.get(options.stream, options.durable);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 2_000 });

  // Per subject (one feature group version): the messages waiting, and whether
  // a commit is in progress. Commits of one subject run one at a time, in
  // arrival order; messages arriving meanwhile wait and go into the next
  // micro-batch, so batches grow with the commit time instead of queueing.
  const subjects = new Map<string, Pending>();
  const inFlight = new Set<Promise<void>>();

  function pendingOf(subject: string): Pending {
    let p = subjects.get(subject);
    if (!p) subjects.set(subject, (p = { messages: [], rows: 0, timer: undefined, flushing: false, firstAt: 0 }));
    return p;
  }

  /** Commits the waiting messages now, or right after the commit in progress. */
  function trigger(subject: string) {
    const p = pendingOf(subject);
    if (p.timer) clearTimeout(p.timer);
    p.timer = undefined;
    if (p.flushing || p.messages.length === 0) return;
    const batch = p.messages;
    p.messages = [];
    p.rows = 0;
    p.flushing = true;
    const done = flush(subject, batch)
      .catch((err) => logger.error("micro-batch failed", { subject, error: String(err) }))
      .finally(() => {
        p.flushing = false;
        inFlight.delete(done);
        if (p.messages.length === 0) return;
        const age = Date.now() - p.firstAt;
        if (p.rows >= options.microBatchRows || age >= options.microBatchMs) trigger(subject);
        else p.timer = setTimeout(() => trigger(subject), options.microBatchMs - age);
      });
    inFlight.add(done);
  }

  function add(subject: string, delivered: Delivered, rows: number) {
    const p = pendingOf(subject);
    if (p.messages.length === 0) {
      p.firstAt = Date.now();
      if (!p.flushing) p.timer = setTimeout(() => trigger(subject), options.microBatchMs);
    }
    p.messages.push(delivered);
    p.rows += rows;
    if (p.rows >= options.microBatchRows) trigger(subject);
  }

  async function deadLetter(msg: JsMsg, reason: string) {
    const headers: Record<string, string> = {};
    for (const key of msg.headers?.keys() ?? []) headers[key] = msg.headers!.get(key);
    const letter = create(DeadLetterSchema, {
      originalSubject: msg.subject,
      originalData: msg.data,
      originalHeaders: headers,
      streamSequence: BigInt(msg.seq),
      deliveries: BigInt(msg.info.deliveryCount),
      reason,
      deadLetterTime: timestampFromDate(new Date()),
    });
    const subject = `${options.deadLetterPrefix}${msg.subject.slice(options.subjectPrefix.length)}`;
    await js.publish(subject, toBinary(DeadLetterSchema, letter), { msgID: `dlq-${options.stream}-${msg.seq}` });
    msg.ack();
    logger.warn("message dead-lettered", { subject: msg.subject, seq: msg.seq, reason });
  }

  /** The feature group version of a subject, or why it has none. */
  function groupNameOf(subject: string): string | undefined {
    const tokens = subject.slice(options.subjectPrefix.length + 1).split(".");
    if (tokens.length !== 3 || !isValidId(tokens[0]!) || !isValidId(tokens[1]!) || !/^[1-9][0-9]{0,9}$/.test(tokens[2]!)) return undefined;
    return `projects/${tokens[0]}/featureGroups/${tokens[1]}/versions/${tokens[2]}`;
  }

  const retryLater = (msgs: readonly JsMsg[]) => msgs.forEach((m) => m.nak(Math.min(500 * m.info.deliveryCount, 10_000)));

  async function flush(subject: string, delivered: Delivered[]): Promise<void> {
    const msgs = delivered.map((d) => d.msg);
    const name = groupNameOf(subject);
    if (!name) {
      for (const m of msgs) await deadLetter(m, `subject "${subject}" is not ${options.subjectPrefix}.<project>.<feature_group>.<version>`);
      return;
    }
    let group: ResolvedGroup;
    try {
      group = await options.groups.resolve(name);
    } catch (err) {
      if (err instanceof NotFoundError) for (const m of msgs) await deadLetter(m, `feature group version ${name} does not exist`);
      else {
        logger.warn("cannot resolve feature group; messages will be redelivered", { featureGroup: name, error: String(err) });
        retryLater(msgs);
      }
      return;
    }

    // Each message is checked alone, so a bad one is dead-lettered without its neighbours.
    const accepted: { msg: JsMsg; id: string; columns: ColumnBatch }[] = [];
    const seen = new Set<string>();
    for (const { msg, message, decodeError } of delivered) {
      const id = msg.headers?.get("Nats-Msg-Id") || `seq:${msg.seq}`;
      if (seen.has(id)) {
        msg.ack(); // the same message twice in one micro-batch
        continue;
      }
      seen.add(id);
      try {
        if (!message) throw new Error(`not a valid ${IngestMessageSchema.typeName}: ${decodeError}`);
        accepted.push({ msg, id, columns: options.ingestion.checkMessage(group, message.rows) });
      } catch (err) {
        if (isUnavailable(err)) throw err;
        await deadLetter(msg, err instanceof Error ? err.message : String(err));
      }
    }
    if (accepted.length === 0) return;

    try {
      const done = await committedMessageIds(options.pool, group.name, accepted.map((a) => a.id));
      const fresh = accepted.filter((a) => !done.has(a.id));
      for (const start of chunkStarts(fresh, options.maxBatchRows)) {
        const part = fresh.slice(start.from, start.to);
        const columns = joinBatches(group.schema, part.map((a) => a.columns));
        const batchId = `nats:${part[0]!.msg.seq}-${part.at(-1)!.msg.seq}`;
        await options.ingestion.ingestStream(group, batchId, columns, part.map((a) => a.id));
      }
      for (const a of accepted) a.msg.ack();
    } catch (err) {
      logger.warn("micro-batch not written; messages will be redelivered", { featureGroup: group.name, messages: accepted.length, error: err instanceof Error ? err.message : String(err) });
      retryLater(accepted.map((a) => a.msg));
    }
  }

  const loop = (async () => {
    for await (const msg of messages) {
      try {
        const message = fromBinary(IngestMessageSchema, msg.data);
        add(msg.subject, { msg, message }, message.rows?.rowCount ?? 0);
      } catch (err) {
        add(msg.subject, { msg, decodeError: (err as Error).message }, 1);
      }
    }
  })().catch((err) => logger.error("stream consumer stopped", { error: String(err) }));

  const pruner = setInterval(() => {
    pruneMessageIds(options.pool, options.dedupRetentionHours).catch((err) => logger.warn("cannot prune stream message ids", { error: String(err) }));
  }, 3_600_000);
  pruner.unref();

  logger.info("consuming feature pipeline streams", { stream: options.stream, subjects: `${options.subjectPrefix}.>`, durable: options.durable });
  return {
    async stop() {
      clearInterval(pruner);
      await messages.close();
      await loop;
      while (inFlight.size || [...subjects.values()].some((p) => p.messages.length)) {
        for (const subject of subjects.keys()) trigger(subject);
        await Promise.all([...inFlight]);
      }
    },
  };
}

/** Splits messages into runs of at most `maxRows` rows (a single larger message is its own run). */
function chunkStarts(items: { columns: ColumnBatch }[], maxRows: number): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  let from = 0;
  let rows = 0;
  items.forEach((item, i) => {
    if (i > from && rows + item.columns.rowCount > maxRows) {
      out.push({ from, to: i });
      from = i;
      rows = 0;
    }
    rows += item.columns.rowCount;
  });
  if (items.length > from) out.push({ from, to: items.length });
  return out;
}

/** Joins checked batches; a feature some messages omit is null in their rows. */
function joinBatches(schema: FeatureGroupSchema, batches: ColumnBatch[]): ColumnBatch {
  if (batches.length === 1) return batches[0]!;
  const rowCount = batches.reduce((n, b) => n + b.rowCount, 0);
  const columns: Record<string, Value[]> = {};
  for (const f of schema.features) {
    if (!batches.some((b) => b.columns[f.name])) continue;
    const out: Value[] = new Array(rowCount);
    let at = 0;
    for (const b of batches) {
      const column = b.columns[f.name];
      for (let i = 0; i < b.rowCount; i++) out[at++] = column ? (column[i] ?? null) : null;
    }
    columns[f.name] = out;
  }
  return { rowCount, columns };
}

