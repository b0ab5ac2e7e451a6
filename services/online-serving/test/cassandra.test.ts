// GetFeatureVectors on the Cassandra online store (the test node from
// vitest's global setup, FTI_TEST_CASSANDRA): the same view, statuses and
// values as on Postgres, in a keyspace of its own.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCassandraOnlineStore } from "@fti/online-store";
import { serving, startServing, type ServingHarness } from "./harness.js";
import { at, byName, createShop, entities, requestData, ttlSeconds } from "./shop.js";

const contactPoint = () => {
  const value = process.env.FTI_TEST_CASSANDRA;
  if (!value) throw new Error("FTI_TEST_CASSANDRA is unset: run through vitest.config.ts (global setup)");
  return value;
};
const keyspace = `serving_test_${randomBytes(4).toString("hex")}`;
let h: ServingHarness;
const tables: { project: string; featureGroup: string; version: number }[] = [];

beforeAll(async () => {
  const store = createCassandraOnlineStore({ contactPoints: [contactPoint()], localDataCenter: "datacenter1", keyspace, consistency: "ONE" });
  h = await startServing({
    store,
    async closeStore() {
      for (const table of tables) await store.dropTable(table).catch(() => {});
      await store.close();
    },
  });
}, 120_000);
afterAll(async () => h?.close());

describe("GetFeatureVectors on Cassandra", () => {
  it("joins three groups with statuses, including EXPIRED past the TTL", async () => {
    const shop = await createShop(h);
    tables.push(shop.customers, shop.activity, shop.segments);
    const now = new Date();
    await h.store.upsert(shop.customers, [{ customer_id: 1n, ts: at(now, -60_000), age: 30, income: 50_000, segment_id: 7n, churned: false }]);
    await h.store.upsert(shop.activity, [
      { customer_id: 1n, ts: at(now, -60_000), clicks_7d: 5, spend_30d: null },
      // 10 s short of its TTL: Cassandra keeps the cells, the serving clock below is past the TTL.
      { customer_id: 2n, ts: at(now, -(ttlSeconds - 10) * 1000), clicks_7d: 1, spend_30d: 1 },
    ]);
    await h.store.upsert(shop.segments, [{ segment_id: 7n, ts: at(now, -60_000), risk: 0.25 }]);
    h.clock.now = at(now, 10_001);
    const res = await h.call(serving.getFeatureVectors, { target: { case: "featureView", value: shop.view.name }, entities: entities([1n, 2n]), requestData: requestData([100]) });
    const f = byName(res.features, 2);
    expect(f.age!.values).toEqual([30, null]);
    expect(f.seg_risk!.values).toEqual([0.25, null]);
    expect(f.act_clicks_7d!.values).toEqual([5, null]);
    expect(f.amount_ratio!.values[0]).toBeCloseTo(100 / 50_000);
    expect(f.act_spend_30d!.statuses).toEqual([2, 4]); // NULL_VALUE, then EXPIRED
    expect(f.age!.statuses).toEqual([1, 3]); // PRESENT, then NOT_FOUND
  });
});
