// GetFeatureVectors through the real gRPC server: statuses (including EXPIRED
// exactly at the TTL boundary), event times, a join on a non-key root column,
// on-demand features and fitted transformations, parity with the offline
// point-in-time row, bad input, and no registry call on the hot path.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { compileOnDemandFeatures, compileTransformations } from "@fti/transforms";
import type { TrainingDataset } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { createReadyDataset, serving, startServing, statusOf, rpc, type ServingHarness } from "./harness.js";
import { at, byName, createShop, entities, project, requestData, ttlSeconds, viewColumns } from "./shop.js";
import { pointInTimeRow, type HistoryGroup } from "./pit-reference.js";

const PRESENT = 1, NULL_VALUE = 2, NOT_FOUND = 3, EXPIRED = 4;
const T = new Date("2025-03-01T12:00:00Z");
let h: ServingHarness;
let shop: Awaited<ReturnType<typeof createShop>>;
let dataset: TrainingDataset;

// History as the offline store holds it; the online store gets the same rows
// (in an order where a late, older event must not win).
const customers: HistoryGroup = {
  key: ["customer_id"],
  eventTime: "ts",
  rows: [
    { customer_id: 1n, ts: at(T, -86_400_000), age: 29, income: 40_000, segment_id: 9n, churned: false },
    { customer_id: 1n, ts: at(T, -600_000), age: 30, income: 50_000, segment_id: 7n, churned: false },
    { customer_id: 2n, ts: at(T, -60_000), age: 45, income: 0, segment_id: 9n, churned: true },
    { customer_id: 4n, ts: at(T, -60_000), age: null, income: 80_000, segment_id: 7n, churned: null },
  ],
};
const activity: HistoryGroup = {
  key: ["customer_id"],
  eventTime: "ts",
  ttlSeconds,
  rows: [
    { customer_id: 1n, ts: at(T, -1_800_000), clicks_7d: 5, spend_30d: 120.5 },
    { customer_id: 1n, ts: at(T, -7_200_000), clicks_7d: 1, spend_30d: 3 }, // older, written last
    { customer_id: 2n, ts: at(T, -ttlSeconds * 1000), clicks_7d: 2, spend_30d: null }, // exactly at the TTL boundary
    { customer_id: 3n, ts: at(T, -60_000), clicks_7d: 9, spend_30d: 10 },
    { customer_id: 4n, ts: at(T, -ttlSeconds * 1000 - 1), clicks_7d: 7, spend_30d: 70 }, // 1 ms past the TTL
  ],
};
const segments: HistoryGroup = { key: ["segment_id"], eventTime: "ts", rows: [{ segment_id: 7n, ts: at(T, -3_600_000), risk: 0.25 }] };

beforeAll(async () => {
  h = await startServing();
  shop = await createShop(h);
  await h.store.upsert(shop.customers, customers.rows);
  for (const row of activity.rows) await h.store.upsert(shop.activity, [row]);
  await h.store.upsert(shop.segments, segments.rows);
  dataset = await createReadyDataset(h, shop.view.name, { age: [30, 40], income: [40_000, 60_000], segment_id: [7n, 9n], act_clicks_7d: [1, 2], act_spend_30d: [10, 30], seg_risk: [0.1, 0.2], amount_ratio: [0.1, 0.2], amount: [1, 2] }, viewColumns);
  h.clock.now = T;
});
afterAll(async () => h?.close());

const read = (ids: bigint[], extra: Record<string, unknown> = {}) =>
  h.call(serving.getFeatureVectors, { target: { case: "featureView", value: shop.view.name }, entities: entities(ids), requestData: requestData(ids.map(() => 100)), ...extra });

describe("GetFeatureVectors", () => {
  it("returns typed columns in view order with a status per value", async () => {
    const res = await read([1n, 2n, 3n, 4n], { includeEventTimes: true });
    expect(res.featureView).toBe(shop.view.name);
    expect(res.features.map((c) => c.values!.name)).toEqual(["age", "income", "segment_id", "act_clicks_7d", "act_spend_30d", "seg_risk", "amount_ratio"]);
    const f = byName(res.features, 4);
    // 1: everything present; the late older activity row did not win.
    expect(f.age!.values[0]).toBe(30);
    expect(f.segment_id!.values[0]).toBe(7n);
    expect(f.act_clicks_7d!.values[0]).toBe(5);
    expect(f.seg_risk!.values[0]).toBe(0.25);
    expect(f.amount_ratio!.values[0]).toBeCloseTo(100 / 50_000);
    expect(Object.values(f).map((c) => c.statuses[0])).toEqual([PRESENT, PRESENT, PRESENT, PRESENT, PRESENT, PRESENT, PRESENT]);
    // 2: activity exactly at the TTL boundary is still present, its null spend is NULL_VALUE; segment 9 has no row.
    expect(f.act_clicks_7d!.statuses[1]).toBe(PRESENT);
    expect(f.act_spend_30d!.statuses[1]).toBe(NULL_VALUE);
    expect(f.seg_risk!.statuses[1]).toBe(NOT_FOUND);
    expect(f.amount_ratio!.statuses[1]).toBe(NULL_VALUE); // income 0 → nullif → null
    // 3: no customer row, so no segment key; activity is keyed by the entity itself.
    expect(f.age!.statuses[2]).toBe(NOT_FOUND);
    expect(f.seg_risk!.statuses[2]).toBe(NOT_FOUND);
    expect(f.act_clicks_7d!.statuses[2]).toBe(PRESENT);
    expect(f.act_clicks_7d!.values[2]).toBe(9);
    // 4: activity 1 ms past the TTL is EXPIRED (value null); its null age is NULL_VALUE.
    expect(f.act_clicks_7d!.statuses[3]).toBe(EXPIRED);
    expect(f.act_clicks_7d!.values[3]).toBeNull();
    expect(f.age!.statuses[3]).toBe(NULL_VALUE);
    // Event times: the source row's, 0 where none and for on-demand features.
    expect(f.act_clicks_7d!.eventTimes).toEqual([BigInt(at(T, -1_800_000).getTime()) * 1000n, BigInt(at(T, -ttlSeconds * 1000).getTime()) * 1000n, BigInt(at(T, -60_000).getTime()) * 1000n, BigInt(at(T, -ttlSeconds * 1000 - 1).getTime()) * 1000n]);
    expect(f.seg_risk!.eventTimes[2]).toBe(0n);
    expect(f.amount_ratio!.eventTimes).toEqual([0n, 0n, 0n, 0n]);
  });

  it("turns PRESENT into EXPIRED one millisecond after the TTL boundary", async () => {
    h.clock.now = at(T, 1);
    try {
      const f = byName((await read([2n])).features, 1);
      expect(f.act_clicks_7d!.statuses[0]).toBe(EXPIRED);
      expect(f.age!.statuses[0]).toBe(PRESENT); // no TTL on customers
    } finally {
      h.clock.now = T;
    }
  });

  it("returns only the requested features, in the requested order, and leaves event times out unless asked", async () => {
    const res = await read([1n], { features: ["seg_risk", "age"] });
    expect(res.features.map((c) => c.values!.name)).toEqual(["seg_risk", "age"]);
    expect(res.features[0]!.eventTimeMicros).toEqual([]);
  });

  it("equals the offline point-in-time row (with on-demand features and fitted transformations) for the same entity and time", async () => {
    const ids = [1n, 2n, 4n];
    const amounts = [100, 250, 42];
    const res = await h.call(serving.getFeatureVectors, { target: { case: "featureView", value: shop.view.name }, entities: entities(ids), requestData: requestData(amounts), applyTransformations: true, trainingDataset: dataset.name });
    const served = byName(res.features, ids.length);

    // The offline path: point-in-time rows, then the same library's batch functions.
    const rows = ids.map((id) =>
      pointInTimeRow(customers, ["age", "income", "segment_id"], [
        { group: activity, on: { customer_id: "customer_id" }, features: ["clicks_7d", "spend_30d"], prefix: "act_" },
        { group: segments, on: { segment_id: "segment_id" }, features: ["risk"], prefix: "seg_" },
      ], { customer_id: id }, T)!,
    );
    const columns = Object.fromEntries(viewColumns.slice(0, 6).map((c) => [c.name, rows.map((r) => r[c.name] ?? null)]));
    const withOnDemand = compileOnDemandFeatures(shop.view.onDemandFeatures, viewColumns.filter((c) => c.name !== "amount_ratio")).applyBatch({ ...columns, amount: amounts });
    const offline = compileTransformations(dataset.fittedTransformations, viewColumns).applyBatch(withOnDemand);

    for (const name of ["age", "income", "segment_id", "act_clicks_7d", "act_spend_30d", "seg_risk", "amount_ratio"]) expect(served[name]!.values, name).toEqual(offline[name]);
    // The scaler really ran (income is no longer in dollars) and the imputer filled the null spend, while the status still says what the store held.
    expect(Math.abs(served.income!.values[0] as number)).toBeLessThan(10);
    expect(served.act_spend_30d!.values[1]).toBe(20);
    expect(served.act_spend_30d!.statuses[1]).toBe(NULL_VALUE);
  });

  it("makes no registry call per request once a view is loaded", async () => {
    await read([1n]);
    const registryCalls = async () => {
      const text = await h.registry.server.metrics.registry.getSingleMetricAsString("fti_rpc_duration_seconds");
      return text.split("\n").filter((l) => l.startsWith("fti_rpc_duration_seconds_count") && /Get(FeatureView|FeatureGroup|TrainingDataset)"/.test(l)).reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
    };
    const before = await registryCalls();
    expect(before).toBeGreaterThan(0); // loading the view did read the registry
    for (let i = 0; i < 20; i++) await read([1n, 2n]);
    expect(await registryCalls()).toBe(before);
  });

  it("picks up a feature group's new TTL from the registry event without a restart", async () => {
    const group = (await h.registry.call(rpc.getFeatureGroup, { name: shop.activity.name })).featureGroup!;
    await h.registry.call(rpc.updateFeatureGroup, { featureGroup: { name: group.name, etag: group.etag, ttl: { seconds: 60n } }, updateMask: { paths: ["ttl"] } });
    try {
      await expect.poll(async () => byName((await read([1n])).features, 1).act_clicks_7d!.statuses[0], { timeout: 10_000 }).toBe(EXPIRED);
    } finally {
      const g = (await h.registry.call(rpc.getFeatureGroup, { name: shop.activity.name })).featureGroup!;
      await h.registry.call(rpc.updateFeatureGroup, { featureGroup: { name: g.name, etag: g.etag, ttl: { seconds: BigInt(ttlSeconds) } }, updateMask: { paths: ["ttl"] } });
      await expect.poll(async () => byName((await read([1n])).features, 1).act_clicks_7d!.statuses[0], { timeout: 10_000 }).toBe(PRESENT);
    }
  });
});

describe("GetFeatureVectors bad input", () => {
  it("is NOT_FOUND for an unknown feature view", async () => {
    const s = await statusOf(h.call(serving.getFeatureVectors, { target: { case: "featureView", value: `projects/${project}/featureViews/nope/versions/1` }, entities: entities([1n]) }));
    expect(s.code).toBe(status.NOT_FOUND);
    expect(s.details).toContain("featureViews/nope");
  });

  it("is INVALID_ARGUMENT naming a missing serving key, a mistyped one and a missing request parameter", async () => {
    const noKey = await statusOf(h.call(serving.getFeatureVectors, { target: { case: "featureView", value: shop.view.name }, entities: { rowCount: 1, columns: [{ name: "cust", data: { case: "int64Values", value: { values: [1n] } } }] }, requestData: requestData([1]) }));
    expect(noKey.code).toBe(status.INVALID_ARGUMENT);
    expect(noKey.details).toContain("entities.customer_id");
    const wrongType = await statusOf(h.call(serving.getFeatureVectors, { target: { case: "featureView", value: shop.view.name }, entities: { rowCount: 1, columns: [{ name: "customer_id", data: { case: "stringValues", value: { values: ["1"] } } }] }, requestData: requestData([1]) }));
    expect(wrongType.code).toBe(status.INVALID_ARGUMENT);
    expect(wrongType.details).toContain("entities.customer_id");
    const noParam = await statusOf(h.call(serving.getFeatureVectors, { target: { case: "featureView", value: shop.view.name }, entities: entities([1n]) }));
    expect(noParam.code).toBe(status.INVALID_ARGUMENT);
    expect(noParam.details).toContain("amount");
  });

  it("is INVALID_ARGUMENT for an unknown feature, a request-data row count mismatch, and transformations without a dataset", async () => {
    expect((await statusOf(read([1n], { features: ["nope"] }))).details).toContain("features[0]");
    const rows = await statusOf(h.call(serving.getFeatureVectors, { target: { case: "featureView", value: shop.view.name }, entities: entities([1n, 2n, 3n]), requestData: requestData([1, 2]) }));
    expect(rows.code).toBe(status.INVALID_ARGUMENT);
    expect(rows.details).toContain("request_data");
    const noDataset = await statusOf(read([1n], { applyTransformations: true }));
    expect(noDataset.code).toBe(status.INVALID_ARGUMENT);
    expect(noDataset.details).toContain("training_dataset");
  });
});
