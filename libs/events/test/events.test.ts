// Against the real NATS JetStream on 127.0.0.1:4222; each test has its own stream.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { EchoRequestSchema } from "@fti/proto/fti/testing/v1/echo_pb";
import { silentLogger } from "@fti/logger";
import { connectNats, consumeMessages, ensureStream, natsDependency, publishMessage, type NatsConnection } from "../src/index.js";

const url = process.env.FTI_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
let nc: NatsConnection;
const streams: string[] = [];

async function freshStream() {
  const id = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const name = `TEST_EVENTS_${id}`;
  const prefix = `test.events.${id}`;
  await ensureStream(nc, { name, subjects: [`${prefix}.>`] });
  streams.push(name);
  return { name, prefix };
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
};

beforeAll(async () => {
  nc = await connectNats({ url, name: "events-test", logger: silentLogger });
});
afterAll(async () => {
  const jsm = await jetstreamManager(nc);
  for (const s of streams) await jsm.streams.delete(s).catch(() => {});
  await nc.close();
});

describe("publish", () => {
  it("stores a message once when it is retried with the same message id", async () => {
    const { name, prefix } = await freshStream();
    const first = await publishMessage(nc, `${prefix}.a`, EchoRequestSchema, { message: "once" }, { msgId: "batch-1" });
    const retry = await publishMessage(nc, `${prefix}.a`, EchoRequestSchema, { message: "once" }, { msgId: "batch-1" });
    expect(first.duplicate).toBe(false);
    expect(retry.duplicate).toBe(true);
    const info = await (await jetstreamManager(nc)).streams.info(name);
    expect(info.state.messages).toBe(1);
  });
});

describe("consume", () => {
  it("acks after the handler succeeds and redelivers after it fails", async () => {
    const { name, prefix } = await freshStream();
    const seen: { message: string; attempt: number }[] = [];
    let failures = 1;
    const sub = await consumeMessages(nc, {
      stream: name, durable: "retry", schema: EchoRequestSchema, deadLetterSubject: `${prefix}.dlq`, filterSubjects: [`${prefix}.in`], logger: silentLogger,
      retryBackoffMs: () => 10,
      async handler(m, d) {
        seen.push({ message: m.message, attempt: d.deliveryCount });
        if (failures-- > 0) throw new Error("transient");
      },
    });
    await publishMessage(nc, `${prefix}.in`, EchoRequestSchema, { message: "x" }, { msgId: "m1" });
    await until(() => seen.length === 2);
    await sub.stop();
    expect(seen).toEqual([{ message: "x", attempt: 1 }, { message: "x", attempt: 2 }]);
    const consumer = await (await jetstreamManager(nc)).consumers.info(name, "retry");
    expect(consumer.num_ack_pending).toBe(0);
    expect(consumer.num_pending).toBe(0);
  });

  it("sends poison and always-failing messages to the dead-letter subject without blocking the stream", async () => {
    const { name, prefix } = await freshStream();
    const handled: string[] = [];
    const sub = await consumeMessages(nc, {
      stream: name, durable: "dlq", schema: EchoRequestSchema, deadLetterSubject: `${prefix}.dlq`, filterSubjects: [`${prefix}.in`], logger: silentLogger,
      maxDeliver: 2, retryBackoffMs: () => 10,
      async handler(m) {
        if (m.message === "always-bad") throw new Error("cannot handle this one");
        handled.push(m.message);
      },
    });
    const js = jetstream(nc);
    await js.publish(`${prefix}.in`, new Uint8Array([0x0a, 0xff]), { msgID: "garbage" });
    await publishMessage(nc, `${prefix}.in`, EchoRequestSchema, { message: "always-bad" });
    await publishMessage(nc, `${prefix}.in`, EchoRequestSchema, { message: "good" });
    await until(() => handled.includes("good"));

    const jsm = await jetstreamManager(nc);
    const reasons: string[] = [];
    const deadline = Date.now() + 5000;
    while (reasons.length < 2 && Date.now() < deadline) {
      reasons.length = 0;
      for (let seq = 1; seq <= 10; seq++) {
        const m = await jsm.streams.getMessage(name, { seq }).catch(() => null);
        if (m?.subject === `${prefix}.dlq`) reasons.push(m.header.get("Fti-Dead-Letter-Reason"));
      }
      if (reasons.length < 2) await new Promise((r) => setTimeout(r, 50));
    }
    await sub.stop();
    expect(reasons.some((r) => r.includes("not a valid fti.testing.v1.EchoRequest"))).toBe(true);
    expect(reasons.some((r) => r.includes("failed 2 times: cannot handle this one"))).toBe(true);
    expect(handled).toEqual(["good"]);
  });

  it("resumes where a durable consumer stopped, losing nothing published meanwhile", async () => {
    const { name, prefix } = await freshStream();
    const got: string[] = [];
    const opts = {
      stream: name, durable: "resume", schema: EchoRequestSchema, deadLetterSubject: `${prefix}.dlq`, filterSubjects: [`${prefix}.in`], logger: silentLogger,
      async handler(m: { message: string }) {
        got.push(m.message);
      },
    };
    let sub = await consumeMessages(nc, opts);
    await publishMessage(nc, `${prefix}.in`, EchoRequestSchema, { message: "1" });
    await until(() => got.length === 1);
    await sub.stop();
    await publishMessage(nc, `${prefix}.in`, EchoRequestSchema, { message: "2" });
    await publishMessage(nc, `${prefix}.in`, EchoRequestSchema, { message: "3" });
    sub = await consumeMessages(nc, opts);
    await until(() => got.length === 3);
    await sub.stop();
    expect(got).toEqual(["1", "2", "3"]);
  });
});

describe("health", () => {
  it("passes while connected and fails once closed", async () => {
    const own = await connectNats({ url, name: "events-health", logger: silentLogger });
    await expect(natsDependency(own).check()).resolves.toBeUndefined();
    await own.close();
    await expect(natsDependency(own).check()).rejects.toThrow();
  });
});
