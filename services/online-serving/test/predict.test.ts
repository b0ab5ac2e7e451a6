// Predict by deployment: features → fitted transformations → the routed ONNX
// model; traffic split by weights and sticky per request id; shadows never
// change the answer but are logged; the prediction log on NATS; per-model
// metrics; bad input.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { fromBinary } from "@bufbuild/protobuf";
import { EventSchema, type PredictionLogBatch } from "@fti/proto/fti/events/v1/events_pb";
import type { TrainingDataset } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { decodeRecordBatch } from "@fti/record-batch";
import { createReadyDataset, rpc, serving, startReplica, startServing, statusOf, type ServingHarness } from "./harness.js";
import { dot, modelFeatures, registerLinear } from "./models.js";
import { at, byName, createShop, entities, project, requestData, viewColumns } from "./shop.js";

let h: ServingHarness;
let shop: Awaited<ReturnType<typeof createShop>>;
let dataset: TrainingDataset;
const w1 = [0.01, 0.5, 0.1, 0.001, 2, 3];
const w2 = [-0.02, 0.25, 0.3, 0.002, -1, 1];
let v1: string, v2: string;

beforeAll(async () => {
  h = await startServing();
  shop = await createShop(h);
  const now = new Date();
  await h.store.upsert(shop.customers, [
    { customer_id: 1n, ts: at(now, -60_000), age: 30, income: 50_000, segment_id: 7n, churned: false },
    { customer_id: 2n, ts: at(now, -60_000), age: 50, income: 70_000, segment_id: 7n, churned: false },
  ]);
  await h.store.upsert(shop.activity, [{ customer_id: 1n, ts: at(now, -60_000), clicks_7d: 5, spend_30d: 120.5 }, { customer_id: 2n, ts: at(now, -60_000), clicks_7d: 1, spend_30d: null }]);
  await h.store.upsert(shop.segments, [{ segment_id: 7n, ts: at(now, -60_000), risk: 0.25 }]);
  dataset = await createReadyDataset(h, shop.view.name, { age: [30, 40], income: [40_000, 60_000], segment_id: [7n, 9n], act_clicks_7d: [1, 2], act_spend_30d: [10, 30], seg_risk: [0.1, 0.2], amount_ratio: [0.1, 0.2], amount: [1, 2] }, viewColumns);
  v1 = (await registerLinear(h, "churn", dataset.name, w1, 0.5)).name;
  v2 = (await registerLinear(h, "churn", dataset.name, w2, -0.5)).name;
});
afterAll(async () => h?.close());

async function deploy(id: string, routes: { model: string; weight: number }[], shadows: { model: string; samplePercent?: number }[] = []) {
  return (await h.registry.call(rpc.createDeployment, { parent: `projects/${project}`, deploymentId: id, deployment: { routes, shadows }, reason: "test" })).deployment!;
}
const predict = (deployment: string, extra: Record<string, unknown> = {}) => h.call(serving.predict, { deployment, entities: entities([1n, 2n]), requestData: requestData([100, 300]), ...extra });
const predictions = (res: { outputs?: Parameters<typeof decodeRecordBatch>[0] }) => (decodeRecordBatch(res.outputs!).columns.prediction as Float32Array[]).map((v) => v[0]!);

describe("Predict", () => {
  it("scores the transformed vectors with the routed model version and says which version answered", async () => {
    const d = await deploy("single", [{ model: v1, weight: 100 }]);
    const res = await predict(d.name, { includeFeatures: true, requestId: "r-1" });
    expect(res).toMatchObject({ requestId: "r-1", model: v1, deploymentRevision: 1n, featureView: shop.view.name });
    // The vectors the model saw are GetFeatureVectors' with the dataset's transformations.
    const vectors = byName((await h.call(serving.getFeatureVectors, { target: { case: "deployment", value: d.name }, entities: entities([1n, 2n]), requestData: requestData([100, 300]), applyTransformations: true, requestId: "r-1" })).features, 2);
    expect(byName(res.features, 2)).toEqual(vectors);
    const expected = [0, 1].map((i) => dot(modelFeatures.map((f) => Number(vectors[f]!.values[i])), w1, 0.5));
    expect(predictions(res)).toEqual(expected.map((e) => expect.closeTo(e, 4)));
    // The imputer filled customer 2's missing spend, so the score is a number.
    expect(Number.isFinite(predictions(res)[1])).toBe(true);
    expect(res.requestId).not.toBe("");
  });

  it("splits traffic by the weights, sticky per request id", async () => {
    const d = await deploy("ab", [{ model: v1, weight: 70 }, { model: v2, weight: 30 }]);
    const answered = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const res = await predict(d.name, { requestId: `ab-${i}`, entities: entities([1n]), requestData: requestData([100]) });
      answered.set(res.model, (answered.get(res.model) ?? 0) + 1);
    }
    expect((answered.get(v1) ?? 0) / 600).toBeGreaterThan(0.63);
    expect((answered.get(v1) ?? 0) / 600).toBeLessThan(0.77);
    expect(answered.get(v1)! + answered.get(v2)!).toBe(600);
    const first = (await predict(d.name, { requestId: "sticky" })).model;
    for (let i = 0; i < 10; i++) expect((await predict(d.name, { requestId: "sticky" })).model).toBe(first);
  });

  it("runs shadows without changing the answer, and logs routed and shadow predictions to NATS", async () => {
    const plain = await deploy("plain", [{ model: v1, weight: 100 }]);
    const shadowed = await deploy("shadowed", [{ model: v1, weight: 100 }], [{ model: v2, samplePercent: 100 }]);
    const sub = h.registry.nats.subscribe(`${h.registry.subjectPrefix}.serving.predictions.${project}.shadowed`);
    const batches: PredictionLogBatch[] = [];
    void (async () => {
      for await (const m of sub) {
        const e = fromBinary(EventSchema, m.data);
        if (e.payload.case === "predictionLogBatch") batches.push(e.payload.value);
      }
    })();
    for (let i = 0; i < 5; i++) {
      const [a, b] = await Promise.all([predict(plain.name, { requestId: `s-${i}` }), predict(shadowed.name, { requestId: `s-${i}` })]);
      expect(b.model).toBe(v1);
      expect(predictions(b)).toEqual(predictions(a));
    }
    await expect.poll(() => batches.flatMap((b) => b.logs).filter((l) => l.shadow).reduce((n, l) => n + l.requestIds.length, 0), { timeout: 10_000 }).toBe(10);
    sub.unsubscribe();
    const logs = batches.flatMap((b) => b.logs);
    const routed = logs.filter((l) => !l.shadow);
    const shadow = logs.filter((l) => l.shadow);
    expect(new Set(routed.map((l) => l.model))).toEqual(new Set([v1]));
    expect(new Set(shadow.map((l) => l.model))).toEqual(new Set([v2]));
    expect(routed.reduce((n, l) => n + l.requestIds.length, 0)).toBe(10);
    expect(batches[0]!.deployment).toBe(shadowed.name);
    // Each log carries the entities, the raw features with the request data, and the outputs.
    const log = routed[0]!;
    expect(decodeRecordBatch(log.entities!).columns.customer_id!.slice(0, 2)).toEqual([1n, 2n]);
    expect(decodeRecordBatch(log.features!).columns.amount!.slice(0, 2)).toEqual([100, 300]);
    expect(decodeRecordBatch(log.features!).columns.income!.slice(0, 2)).toEqual([50_000, 70_000]); // before transformations
    expect(log.outputs!.columns.map((c) => c.name)).toEqual(["prediction"]);
    expect(log.latencyMicros.every((l) => l > 0)).toBe(true);
    // The shadow scored the same entities with its own model: different numbers.
    const shadowScore = (decodeRecordBatch(shadow[0]!.outputs!).columns.prediction as Float32Array[])[0]![0];
    const routedScore = (decodeRecordBatch(log.outputs!).columns.prediction as Float32Array[])[0]![0];
    expect(shadowScore).not.toBeCloseTo(routedScore!, 3);
  });

  it("exposes per-model latency, counts by version and errors on /metrics", async () => {
    const text = await (await fetch(`${h.server.webUrl}/metrics`)).text();
    expect(text).toMatch(new RegExp(`fti_model_predictions_total\\{[^}]*deployment="projects/${project}/deployments/single"[^}]*model="${v1.replace(/\//g, "\\/")}"[^}]*role="routed"[^}]*\\} [1-9]`));
    expect(text).toMatch(/fti_model_latency_seconds_bucket\{[^}]*role="shadow"/);
    expect(text).toContain("fti_model_errors_total");
    expect(text).toMatch(/fti_prediction_log_published_total\{[^}]*\} [1-9]/);
  });

  it("is NOT_FOUND for an unknown deployment and INVALID_ARGUMENT naming a missing entity key or request feature", async () => {
    const unknown = await statusOf(predict(`projects/${project}/deployments/nope`));
    expect(unknown.code).toBe(status.NOT_FOUND);
    const noKey = await statusOf(predict(`projects/${project}/deployments/single`, { entities: { rowCount: 1, columns: [{ name: "id", data: { case: "int64Values", value: { values: [1n] } } }] } }));
    expect(noKey.code).toBe(status.INVALID_ARGUMENT);
    expect(noKey.details).toContain("entities.customer_id");
    const noRequest = await statusOf(predict(`projects/${project}/deployments/single`, { requestData: undefined }));
    expect(noRequest.code).toBe(status.INVALID_ARGUMENT);
    expect(noRequest.details).toContain("amount");
  });

  it("loads every deployment before it listens; one that cannot load fails only its own requests, on first use", async () => {
    const good = await deploy("preloaded", [{ model: v1, weight: 100 }]);
    const corrupt = (await registerLinear(h, "churn", dataset.name, w1, 0, { corrupt: true })).name;
    const broken = await deploy("preload_broken", [{ model: corrupt, weight: 100 }]);

    const lazy = await startReplica(h, { preloadDeployments: false });
    try {
      expect(lazy.built.catalog.loadedDeploymentNames()).toEqual([]);
    } finally {
      await lazy.close();
    }

    const replica = await startReplica(h);
    try {
      // Loaded at start, before any request named it.
      const loaded = replica.built.catalog.loadedDeploymentNames();
      expect(loaded).toContain(good.name);
      expect(loaded).not.toContain(broken.name);
      const res = await replica.call(serving.predict, { deployment: good.name, entities: entities([1n, 2n]), requestData: requestData([100, 300]) });
      expect(res.model).toBe(v1);
      const failed = await statusOf(replica.call(serving.predict, { deployment: broken.name, entities: entities([1n]), requestData: requestData([100]) }));
      expect(failed.code).toBe(status.FAILED_PRECONDITION);
      expect(failed.details).toContain(corrupt);
    } finally {
      await replica.close();
    }
  });
});
