// The behaviour every online store adapter must show, run against real
// databases by postgres.test.ts and cassandra.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "@fti/errors";
import type { FeatureGroupSchema, Row } from "@fti/schema";
import type { OnlineStore, OnlineTable } from "../src/index.js";

export interface ConformanceTarget {
  store: OnlineStore;
  /** Removes everything the suite created (schema, keyspace) and closes connections. */
  teardown(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A schema with one feature of every type the platform knows. */
const everyType: FeatureGroupSchema = {
  primaryKey: ["user_id", "region"],
  eventTime: "event_time",
  features: [
    { name: "user_id", type: "int64" },
    { name: "region", type: "string" },
    { name: "event_time", type: "timestamp" },
    { name: "active", type: "bool" },
    { name: "clicks", type: "int32" },
    { name: "total_cents", type: "int64" },
    { name: "score", type: "float" },
    { name: "ratio", type: "double" },
    { name: "nickname", type: "string" },
    { name: "avatar", type: "bytes" },
    { name: "last_seen", type: "timestamp" },
    { name: "flags", type: { array: "bool" } },
    { name: "counts", type: { array: "int32" } },
    { name: "big_counts", type: { array: "int64" } },
    { name: "weights", type: { array: "float" } },
    { name: "probabilities", type: { array: "double" } },
    { name: "tags", type: { array: "string" } },
    { name: "blobs", type: { array: "bytes" } },
    { name: "visits", type: { array: "timestamp" } },
    { name: "embedding", type: { embedding: 4 } },
    // A reserved word in both SQL and CQL: names are quoted everywhere.
    { name: "order", type: "string" },
  ],
};

/** amount per account: the small schema most tests use. */
const accounts = (ttlSeconds?: number): FeatureGroupSchema => ({
  primaryKey: ["account_id"],
  eventTime: "ts",
  ttlSeconds,
  features: [
    { name: "account_id", type: "string" },
    { name: "ts", type: "timestamp" },
    { name: "amount", type: "double" },
    { name: "country", type: "string" },
  ],
});

export function onlineStoreConformance(adapter: string, connect: () => Promise<ConformanceTarget>): void {
  describe(`online store conformance: ${adapter}`, () => {
    let target: ConformanceTarget;
    let store: OnlineStore;
    let tables = 0;

    beforeAll(async () => {
      target = await connect();
      store = target.store;
    });
    afterAll(async () => {
      await target?.teardown();
    });

    /** A fresh, created table per test, so tests are independent. */
    async function newTable(schema: FeatureGroupSchema, version = 1): Promise<OnlineTable> {
      const table = { project: "conformance", featureGroup: `group_${++tables}`, version, schema };
      await store.ensureTable(table);
      return table;
    }

    it("answers ping", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it("round-trips a value of every type and reports unknown entities as NOT_FOUND", async () => {
      const table = await newTable(everyType);
      const eventTime = new Date();
      const full: Row = {
        user_id: 9007199254740993n, // beyond Number.MAX_SAFE_INTEGER: must stay exact
        region: "eu-west",
        event_time: eventTime,
        active: true,
        clicks: -2147483648,
        total_cents: -(2n ** 63n),
        score: 1.5,
        ratio: 0.1,
        nickname: "zoë \"quoted\" 'single' \\ back",
        avatar: new Uint8Array([0, 1, 254, 255]),
        last_seen: new Date("2024-02-29T12:34:56.789Z"),
        flags: [true, false, true],
        counts: [1, -2, 3],
        big_counts: [2n ** 62n, -1n],
        weights: [0.5, -0.25],
        probabilities: [0.1, 0.2, 0.7],
        tags: ["a", "b,c", "{d}", "e\"f"],
        blobs: [new Uint8Array([1, 2]), new Uint8Array([255])],
        visits: [new Date("2020-01-01T00:00:00.001Z"), new Date("2021-06-15T08:00:00.000Z")],
        embedding: new Float32Array([0.1, -1.5, 3.25, 1e-7]),
        order: "first",
      };
      const sparse: Row = { user_id: 1n, region: "us", event_time: eventTime }; // every other feature null
      await store.upsert(table, [full, sparse]);

      const got = await store.read(table, [
        { user_id: 9007199254740993n, region: "eu-west" },
        { user_id: 2n, region: "us" },
        { user_id: 1n, region: "us" },
      ]);
      expect(got.map((e) => e.status)).toEqual(["PRESENT", "NOT_FOUND", "PRESENT"]);
      expect(got[0].values).toEqual(full);
      expect(got[0].eventTime).toEqual(eventTime);
      expect(got[1]).toEqual({ status: "NOT_FOUND", eventTime: null, values: Object.fromEntries(everyType.features.map((f) => [f.name, null])) });
      expect(got[2].values).toEqual({ ...Object.fromEntries(everyType.features.map((f) => [f.name, null])), ...sparse });
    });

    it("returns only the selected features, in the order of the keys", async () => {
      const table = await newTable(accounts());
      const ts = new Date();
      await store.upsert(table, [
        { account_id: "a", ts, amount: 1, country: "FR" },
        { account_id: "b", ts, amount: 2, country: "DE" },
      ]);
      const got = await store.read(table, [{ account_id: "b" }, { account_id: "a" }, { account_id: "b" }], { features: ["amount"] });
      expect(got.map((e) => e.values)).toEqual([{ amount: 2 }, { amount: 1 }, { amount: 2 }]);
      expect(got.every((e) => e.eventTime?.getTime() === ts.getTime())).toBe(true);
    });

    it("answers concurrent reads and many-key reads each in their caller's key order; a bad key fails only its own read", async () => {
      const table = await newTable(accounts());
      const ts = new Date();
      const ids = Array.from({ length: 120 }, (_, i) => `acct_${i}`);
      const written = ids.filter((_, i) => i % 3 !== 0).map((account_id, i) => ({ account_id, ts, amount: i, country: "FR" }));
      await store.upsert(table, written);
      const expected = new Map(written.map((row) => [row.account_id, { status: "PRESENT", eventTime: ts, values: row }]));
      const reads = [
        ids.map((account_id) => ({ account_id })),
        [...ids].reverse().map((account_id) => ({ account_id })),
        [{ account_id: "acct_5" }, { account_id: "nobody" }, { account_id: "acct_5" }],
        [{ account_id: "acct_7" }],
      ];
      const [all, reversed, repeated, single, bad] = await Promise.allSettled([...reads.map((keys) => store.read(table, keys)), store.read(table, [{ account_id: null }])]);
      for (const [result, keys] of [[all, reads[0]], [reversed, reads[1]], [repeated, reads[2]], [single, reads[3]]] as const) {
        expect(result.status).toBe("fulfilled");
        const got = (result as PromiseFulfilledResult<Awaited<ReturnType<OnlineStore["read"]>>>).value;
        expect(got).toEqual(keys.map((k) => expected.get(k.account_id) ?? { status: "NOT_FOUND", eventTime: null, values: { account_id: null, ts: null, amount: null, country: null } }));
      }
      expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(InvalidArgumentError);
    });

    it("never lets an older event overwrite a newer one, whatever the arrival order", async () => {
      const table = await newTable(accounts());
      const newer = new Date();
      const older = new Date(newer.getTime() - 60_000);
      await store.upsert(table, [{ account_id: "a", ts: newer, amount: 2, country: "new" }]);
      await store.upsert(table, [{ account_id: "a", ts: older, amount: 1, country: "old" }]);
      // Within one batch too, the older row listed last.
      await store.upsert(table, [
        { account_id: "b", ts: newer, amount: 2, country: "new" },
        { account_id: "b", ts: older, amount: 1, country: "old" },
      ]);
      const got = await store.read(table, [{ account_id: "a" }, { account_id: "b" }]);
      for (const e of got) {
        expect(e.values).toMatchObject({ amount: 2, country: "new" });
        expect(e.eventTime).toEqual(newer);
      }
      // A newer event does replace the whole vector, nulls included.
      const newest = new Date(newer.getTime() + 1);
      await store.upsert(table, [{ account_id: "a", ts: newest, amount: 3 }]);
      const [a] = await store.read(table, [{ account_id: "a" }]);
      expect(a.values).toMatchObject({ amount: 3, country: null });
      expect(a.eventTime).toEqual(newest);
    });

    it("lets the later write win when event times are equal", async () => {
      const table = await newTable(accounts());
      const ts = new Date();
      await store.upsert(table, [{ account_id: "a", ts, amount: 9, country: "first" }]);
      // Cassandra orders equal event times by how long after the event the write
      // came, to a few percent; a real re-ingestion is never this close, a test is.
      await sleep(50);
      await store.upsert(table, [{ account_id: "a", ts, amount: 1, country: "second" }]);
      await store.upsert(table, [
        { account_id: "b", ts, amount: 9, country: "first" },
        { account_id: "b", ts, amount: 1, country: "second" },
      ]);
      const got = await store.read(table, [{ account_id: "a" }, { account_id: "b" }]);
      expect(got.map((e) => e.values)).toEqual([
        { account_id: "a", ts, amount: 1, country: "second" },
        { account_id: "b", ts, amount: 1, country: "second" },
      ]);
    });

    it("reports values older than the TTL as EXPIRED, from the boundary on", async () => {
      const table = await newTable(accounts(60));
      const ts = new Date();
      await store.upsert(table, [{ account_id: "a", ts, amount: 1, country: "FR" }]);
      const at = (ms: number) => store.read(table, [{ account_id: "a" }], { now: new Date(ts.getTime() + ms) });
      expect((await at(60_000))[0].status).toBe("PRESENT"); // exactly TTL old: still valid
      const [expired] = await at(60_001);
      expect(expired).toEqual({ status: "EXPIRED", eventTime: ts, values: { account_id: null, ts: null, amount: null, country: null } });
    });

    it("removes expired values physically: EXPIRED, then NOT_FOUND after the sweep", async () => {
      const table = await newTable(accounts(1));
      const ts = new Date();
      await store.upsert(table, [
        { account_id: "fresh", ts, amount: 1, country: "FR" },
        // Already past its TTL when written: never served.
        { account_id: "stale", ts: new Date(ts.getTime() - 5_000), amount: 2, country: "DE" },
      ]);
      const read = () => store.read(table, [{ account_id: "fresh" }, { account_id: "stale" }]);
      const first = await read();
      expect(first[0].status).toBe("PRESENT");
      expect(first[1].status).not.toBe("PRESENT");

      // Past the TTL it is never served again. (Postgres still holds the row:
      // EXPIRED; Cassandra may already have dropped the cell: NOT_FOUND.)
      await sleep(ts.getTime() + 1_100 - Date.now());
      expect(["EXPIRED", "NOT_FOUND"]).toContain((await read())[0].status);

      // Cassandra drops the cells itself within a second or so; Postgres on the sweep.
      await sleep(ts.getTime() + 2_500 - Date.now());
      await store.sweepExpired();
      expect((await read()).map((e) => e.status)).toEqual(["NOT_FOUND", "NOT_FOUND"]);
    });

    it("deletes keys; a newer event brings the entity back", async () => {
      const table = await newTable(accounts());
      const ts = new Date(Date.now() - 1_000);
      await store.upsert(table, [
        { account_id: "a", ts, amount: 1, country: "FR" },
        { account_id: "b", ts, amount: 2, country: "DE" },
      ]);
      await store.deleteKeys(table, [{ account_id: "a" }, { account_id: "missing" }]);
      expect((await store.read(table, [{ account_id: "a" }, { account_id: "b" }])).map((e) => e.status)).toEqual(["NOT_FOUND", "PRESENT"]);

      await sleep(5); // the delete happened at "now"; the next event is after it
      const later = new Date();
      await store.upsert(table, [{ account_id: "a", ts: later, amount: 3, country: "FR" }]);
      const [a] = await store.read(table, [{ account_id: "a" }]);
      expect(a.status).toBe("PRESENT");
      expect(a.values.amount).toBe(3);
    });

    it("drops one version and leaves the others", async () => {
      const v1 = await newTable(accounts(), 1);
      const v2 = { ...v1, version: 2 };
      await store.ensureTable(v2);
      const ts = new Date();
      await store.upsert(v1, [{ account_id: "a", ts, amount: 1 }]);
      await store.upsert(v2, [{ account_id: "a", ts, amount: 2 }]);

      await store.dropTable(v1);
      await expect(store.read(v1, [{ account_id: "a" }])).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.upsert(v1, [{ account_id: "a", ts, amount: 1 }])).rejects.toBeInstanceOf(NotFoundError);
      expect((await store.read(v2, [{ account_id: "a" }]))[0].values.amount).toBe(2);
      await store.dropTable(v1); // dropping twice is fine

      await store.ensureTable(v1); // recreated empty
      expect((await store.read(v1, [{ account_id: "a" }]))[0].status).toBe("NOT_FOUND");
    });

    it("evolves a table with a new nullable feature and refuses a type change", async () => {
      const table = await newTable(accounts());
      const ts = new Date();
      await store.upsert(table, [{ account_id: "old", ts, amount: 1, country: "FR" }]);
      expect((await store.read(table, [{ account_id: "old" }]))[0].values).toEqual({ account_id: "old", ts, amount: 1, country: "FR" });

      const evolved: OnlineTable = { ...table, schema: { ...table.schema, features: [...table.schema.features, { name: "segment", type: { array: "string" } }] } };
      await store.ensureTable(evolved);
      await store.ensureTable(evolved); // idempotent
      await store.upsert(evolved, [{ account_id: "new", ts, amount: 2, country: "DE", segment: ["vip"] }]);
      const got = await store.read(evolved, [{ account_id: "old" }, { account_id: "new" }], { features: ["amount", "segment"] });
      expect(got.map((e) => e.values)).toEqual([
        { amount: 1, segment: null },
        { amount: 2, segment: ["vip"] },
      ]);
      // All features now include the new one.
      expect((await store.read(evolved, [{ account_id: "old" }]))[0].values).toEqual({ account_id: "old", ts, amount: 1, country: "FR", segment: null });

      const retyped: OnlineTable = { ...table, schema: { ...table.schema, features: table.schema.features.map((f) => (f.name === "amount" ? { ...f, type: "string" as const } : f)) } };
      await expect(store.ensureTable(retyped)).rejects.toBeInstanceOf(FailedPreconditionError);
    });

    it("rejects a bad batch naming row and column, and writes none of it", async () => {
      const table = await newTable({
        ...accounts(),
        primaryKey: ["account_id", "shard"],
        features: [...accounts().features, { name: "shard", type: "int32" }],
      });
      const ts = new Date();
      const good = { account_id: "good", shard: 1, ts, amount: 1 };
      const bad: Row[] = [
        good,
        { account_id: "x", shard: 1, ts, amount: "12.5" as unknown as number }, // wrong type
        { shard: 1, ts, amount: 1 }, // missing key
        { account_id: "y", shard: 1, amount: 1 }, // missing event time
        { account_id: "z", shard: Number.NaN, ts, amount: 1 }, // NaN in key
      ];
      const err = await store.upsert(table, bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).violations.map((v) => v.field)).toEqual([
        "rows[1].amount",
        "rows[2].account_id",
        "rows[3].ts",
        "rows[4].shard",
      ]);
      expect((await store.read(table, [{ account_id: "good", shard: 1 }]))[0].status).toBe("NOT_FOUND");

      await expect(store.read(table, [{ account_id: "good" }])).rejects.toMatchObject({ violations: [{ field: "keys[0].shard" }] });
      await expect(store.read(table, [{ account_id: "good", shard: 1 }], { features: ["amount", "nope"] })).rejects.toMatchObject({
        violations: [{ field: "features[1]" }],
      });
      await expect(store.deleteKeys(table, [{ account_id: 7 as unknown as string, shard: 1 }])).rejects.toMatchObject({
        violations: [{ field: "keys[0].account_id" }],
      });
    });
  });
}
