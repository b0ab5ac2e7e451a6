// NATS JetStream for the platform's events: connection, stream and durable
// consumer setup, typed protobuf publishing with message-id de-duplication, and
// a consume loop that acks only after the handler succeeds, retries with
// backoff, and moves poison messages to a dead-letter subject.
import { connect, headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg, type PubAck } from "@nats-io/jetstream";
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { UnavailableError } from "@fti/errors";
import type { Logger } from "@fti/logger";

export type { NatsConnection };

export async function connectNats(options: { url: string; name: string; logger: Logger; timeoutMs?: number }): Promise<NatsConnection> {
  try {
    const nc = await connect({ servers: options.url, name: options.name, maxReconnectAttempts: -1, reconnectTimeWait: 500, timeout: options.timeoutMs ?? 5_000 });
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect" || s.type === "reconnect") options.logger.warn("nats connection", { status: s.type });
      }
    })().catch(() => {});
    return nc;
  } catch (err) {
    throw new UnavailableError(`cannot reach NATS at ${options.url}`, { cause: err });
  }
}

export interface StreamSpec {
  name: string;
  subjects: string[];
  /** Messages older than this are discarded; 0 keeps them (the default). */
  maxAgeMs?: number;
  /** Publishes with the same message id inside this window are stored once. */
  duplicateWindowMs?: number;
}

const ns = (ms: number) => ms * 1_000_000;

/** Creates the stream, or updates its subjects and limits when it exists. */
export async function ensureStream(nc: NatsConnection, spec: StreamSpec): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    name: spec.name,
    subjects: spec.subjects,
    max_age: ns(spec.maxAgeMs ?? 0),
    duplicate_window: ns(spec.duplicateWindowMs ?? 2 * 60_000),
  };
  try {
    await jsm.streams.info(spec.name);
    await jsm.streams.update(spec.name, config);
  } catch (err) {
    if (!/stream not found/i.test(String((err as Error).message))) throw err;
    await jsm.streams.add(config);
  }
}

export interface ConsumerSpec {
  stream: string;
  /** Durable name: the consumer's position survives restarts. */
  durable: string;
  filterSubjects?: string[];
  /** Unacked messages are redelivered after this long. */
  ackWaitMs?: number;
  /** Deliveries before a message goes to the dead-letter subject. */
  maxDeliver?: number;
  /** Only messages published from now on (default: all in the stream). */
  newOnly?: boolean;
}

export async function ensureDurableConsumer(nc: NatsConnection, spec: ConsumerSpec): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const config = {
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: spec.newOnly ? DeliverPolicy.New : DeliverPolicy.All,
    ack_wait: ns(spec.ackWaitMs ?? 30_000),
    // The consume loop moves a message to the dead-letter subject itself; the
    // server's limit is a backstop one above it.
    max_deliver: (spec.maxDeliver ?? 5) + 1,
    ...(spec.filterSubjects?.length === 1 ? { filter_subject: spec.filterSubjects[0] } : spec.filterSubjects?.length ? { filter_subjects: spec.filterSubjects } : {}),
  };
  try {
    await jsm.consumers.info(spec.stream, spec.durable);
    await jsm.consumers.update(spec.stream, spec.durable, config);
  } catch (err) {
    if (!/consumer not found/i.test(String((err as Error).message))) throw err;
    await jsm.consumers.add(spec.stream, config);
  }
}

/**
 * Publishes a protobuf message. `msgId` de-duplicates: a retry with the same id
 * inside the stream's duplicate window is stored once (`duplicate` is then true).
 */
export async function publishMessage<M extends DescMessage>(
  nc: NatsConnection,
  subject: string,
  schema: M,
  message: MessageInitShape<M>,
  options: { msgId?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<PubAck> {
  const js = jetstream(nc);
  const h = natsHeaders();
  h.set("Content-Type", "application/protobuf");
  h.set("Fti-Message-Type", schema.typeName);
  for (const [k, v] of Object.entries(options.headers ?? {})) h.set(k, v);
  try {
    return await js.publish(subject, toBinary(schema, create(schema, message)), { msgID: options.msgId, headers: h, timeout: options.timeoutMs ?? 5_000 });
  } catch (err) {
    throw new UnavailableError(`cannot publish to ${subject}`, { cause: err });
  }
}

export interface Delivery {
  subject: string;
  /** The publisher's message id (Nats-Msg-Id), when it set one. */
  msgId?: string;
  /** 1 on the first delivery. */
  deliveryCount: number;
  streamSequence: number;
  headers: Record<string, string>;
}

export interface ConsumeOptions<M extends DescMessage> extends ConsumerSpec {
  schema: M;
  /** Resolving acks the message; throwing redelivers it later. */
  handler(message: MessageShape<M>, delivery: Delivery): Promise<void>;
  /** Where unparseable messages and those failing every delivery go, with the reason in headers. */
  deadLetterSubject: string;
  logger: Logger;
  /** Delay before a failed message is redelivered, growing with each attempt. */
  retryBackoffMs?: (deliveryCount: number) => number;
}

export interface Subscription {
  /** Stops after the message in hand is handled; unacked messages stay in the stream. */
  stop(): Promise<void>;
  /** Resolves when the loop ends. */
  done: Promise<void>;
}

export async function consumeMessages<M extends DescMessage>(nc: NatsConnection, options: ConsumeOptions<M>): Promise<Subscription> {
  await ensureDurableConsumer(nc, options);
  const js = jetstream(nc);
  const consumer = await js.consumers.get(options.stream, options.durable);
  const messages = await consumer.consume({ max_messages: 256 });
  const maxDeliver = options.maxDeliver ?? 5;
  const backoff = options.retryBackoffMs ?? ((n: number) => Math.min(100 * 2 ** (n - 1), 10_000));

  const deadLetter = async (msg: JsMsg, reason: string) => {
    const h = natsHeaders();
    h.set("Fti-Dead-Letter-Reason", reason.slice(0, 1000));
    h.set("Fti-Original-Subject", msg.subject);
    h.set("Fti-Original-Sequence", String(msg.seq));
    await js.publish(options.deadLetterSubject, msg.data, { headers: h, msgID: `dlq-${options.stream}-${msg.seq}` });
    msg.term(reason.slice(0, 200));
    options.logger.warn("message dead-lettered", { subject: msg.subject, seq: msg.seq, reason });
  };

  const done = (async () => {
    for await (const msg of messages) {
      let parsed: MessageShape<M>;
      try {
        parsed = fromBinary(options.schema, msg.data);
      } catch (err) {
        await deadLetter(msg, `not a valid ${options.schema.typeName}: ${(err as Error).message}`);
        continue;
      }
      const headers: Record<string, string> = {};
      for (const key of msg.headers?.keys() ?? []) headers[key] = msg.headers!.get(key);
      const delivery: Delivery = { subject: msg.subject, msgId: headers["Nats-Msg-Id"], deliveryCount: msg.info.deliveryCount, streamSequence: msg.seq, headers };
      try {
        await options.handler(parsed, delivery);
        await msg.ackAck().catch(() => msg.ack());
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        if (delivery.deliveryCount >= maxDeliver) await deadLetter(msg, `failed ${delivery.deliveryCount} times: ${reason}`);
        else {
          options.logger.warn("message handling failed; will retry", { subject: msg.subject, seq: msg.seq, attempt: delivery.deliveryCount, error: reason });
          msg.nak(backoff(delivery.deliveryCount));
        }
      }
    }
  })();

  return {
    done,
    async stop() {
      await messages.close();
      await done;
    },
  };
}

/** A health dependency: NATS answers a round trip. */
export function natsDependency(nc: NatsConnection) {
  return {
    name: "nats",
    async check() {
      if (nc.isClosed()) throw new Error("connection closed");
      await nc.flush();
    },
  };
}

/** The platform's event stream and subject prefix: stream "<prefix>_EVENTS" over "<subject prefix>.events.>". */
export function eventNames(config: { natsStreamPrefix: string; natsSubjectPrefix: string }) {
  return { eventStream: `${config.natsStreamPrefix}_EVENTS`, eventSubjectPrefix: `${config.natsSubjectPrefix}.events` };
}

export { enqueueEvent, startOutboxRelay, type EnqueuedEvent, type OutboxRelay, type OutboxRelayOptions } from "./outbox.js";
