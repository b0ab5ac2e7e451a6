// The prediction log against a real NATS: batches off the response path, and
// a bounded buffer that drops and counts what does not fit while no stream
// accepts the events, then reports the count with the next batch.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromBinary } from "@bufbuild/protobuf";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectNats, ensureStream, type NatsConnection } from "@fti/events";
import { silentLogger } from "@fti/logger";
import { EventSchema, type PredictionLogBatch } from "@fti/proto/fti/events/v1/events_pb";
import { decodeRecordBatch } from "@fti/record-batch";
import { createPredictionLog, type PredictionRecord } from "../src/prediction-log.js";

const natsUrl = process.env.FTI_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const id = randomBytes(4).toString("hex");
const prefix = `test.predlog.${id}.events`;
const stream = `TEST_PREDLOG_${id}`;
let nats: NatsConnection;

beforeAll(async () => {
  nats = await connectNats({ url: natsUrl, name: "prediction-log-test", logger: silentLogger });
});
afterAll(async () => {
  await (await jetstreamManager(nats)).streams.delete(stream).catch(() => {});
  await nats.close();
});

const record = (requestId: string, score: number): PredictionRecord => ({
  deployment: "projects/p/deployments/d",
  project: "p",
  deploymentId: "d",
  revision: 3n,
  model: "projects/p/models/m/versions/1",
  featureView: "projects/p/featureViews/v/versions/1",
  shadow: false,
  requestId,
  time: new Date(),
  latencyMicros: 800,
  rowCount: 1,
  entities: [{ name: "id", type: "int64", values: [1n] }],
  features: [{ name: "x", type: "double", values: [score * 2] }],
  outputs: [{ name: "score", type: "float", values: [score] }],
});

/** The prediction-log batches published from now on for deployment p/d (a stream covers the subject, so publishing succeeds). */
async function receiveBatches() {
  await ensureStream(nats, { name: stream, subjects: [`${prefix}.>`] });
  const sub = nats.subscribe(`${prefix}.serving.predictions.p.d`);
  const batches: PredictionLogBatch[] = [];
  void (async () => {
    for await (const m of sub) {
      const e = fromBinary(EventSchema, m.data);
      if (e.payload.case === "predictionLogBatch") batches.push(e.payload.value);
    }
  })();
  return { sub, batches };
}

describe("prediction log", () => {
  it("drops and counts what does not fit while NATS refuses, then publishes the rest with the count", async () => {
    let dropped = 0;
    let published = 0;
    const log = createPredictionLog({ nats, eventSubjectPrefix: prefix, logger: silentLogger, batchSize: 100, flushIntervalMs: 60_000, bufferSize: 5, onDropped: (n) => (dropped += n), onPublished: (n) => (published += n) });
    try {
      // No stream covers the subject yet: publishing fails, so the buffer keeps 5 and drops 5.
      for (let i = 0; i < 10; i++) log.append(record(`r${i}`, i));
      await log.flush();
      expect(dropped).toBe(5);
      expect(log.buffered).toBe(5);

      const { sub, batches } = await receiveBatches();
      await log.flush();
      await expect.poll(() => batches.length).toBe(1);
      sub.unsubscribe();
      expect(published).toBe(5);
      expect(batches[0]).toMatchObject({ deployment: "projects/p/deployments/d", deploymentRevision: 3n, droppedCount: 5n });
      const [entry] = batches[0]!.logs;
      expect(entry!.requestIds).toEqual(["r0", "r1", "r2", "r3", "r4"]);
      expect(decodeRecordBatch(entry!.outputs!).columns.score).toEqual([0, 1, 2, 3, 4]);
      expect(decodeRecordBatch(entry!.features!).columns.x).toEqual([0, 2, 4, 6, 8]);
    } finally {
      await log.close();
    }
  });

  it("logs the features each record has column by column: nulls kept, a column a record lacks null in its rows", async () => {
    const log = createPredictionLog({ nats, eventSubjectPrefix: prefix, logger: silentLogger, batchSize: 100, flushIntervalMs: 60_000 });
    const { sub, batches } = await receiveBatches();
    try {
      const at = new Date("2026-03-04T05:06:07.008Z");
      log.append({ ...record("a", 1), features: [{ name: "x", type: "double", values: [null] }] });
      log.append({ ...record("b", 2), rowCount: 2, entities: [{ name: "id", type: "int64", values: [2n, 3n] }], features: [{ name: "x", type: "double", values: [4, 6] }, { name: "seen", type: "timestamp", values: [at, null] }, { name: "city", type: "string", values: ["Oslo", null] }], outputs: [{ name: "score", type: "float", values: [2, 3] }] });
      log.append(record("c", 4));
      await log.flush();
      await expect.poll(() => batches.length).toBe(1);
      const [entry] = batches[0]!.logs;
      expect(entry!.requestIds).toEqual(["a", "b", "b", "c"]);
      expect(decodeRecordBatch(entry!.entities!).columns.id).toEqual([1n, 2n, 3n, 1n]);
      expect(decodeRecordBatch(entry!.features!).columns).toEqual({ x: [null, 4, 6, 8], seen: [null, at, null, null], city: [null, "Oslo", null, null] });
      expect(decodeRecordBatch(entry!.outputs!).columns.score).toEqual([1, 2, 3, 4]);
    } finally {
      sub.unsubscribe();
      await log.close();
    }
  });
});
