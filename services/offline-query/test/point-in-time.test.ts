// The service's point-in-time join against a brute-force reference written in
// plain TypeScript, on randomized histories: ties on event time across
// commits, out-of-order events, TTL boundaries, entities with no history,
// three groups (one joined through a root column), time travel, bitemporal.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScalarType } from "@fti/proto/fti/common/v1/types_pb";
import { recordBatchMessage } from "@fti/record-batch";
import type { Row } from "@fti/schema";
import { scalar } from "../../registry/test/fixtures.js";
import { registryRpc, rowsOf, rpc, startOfflineQuery, type Harness } from "./harness.js";
import { bidiSendAllThenRead } from "../../../libs/server/test/grpc-client.js";
import { seededRandom as random } from "@fti/testkit/random";

interface HistoryRow {
  key: bigint;
  ts: number;
  values: Row;
  version: number;
  committedAt: number;
}

interface GroupSpec {
  id: string;
  key: string;
  ttlSeconds?: number;
  features: { name: string; type: ScalarType }[];
}

const users: GroupSpec = { id: "users", key: "user_id", ttlSeconds: 8, features: [{ name: "age", type: ScalarType.DOUBLE }, { name: "merchant_id", type: ScalarType.INT64 }] };
const merchants: GroupSpec = { id: "merchants", key: "merchant_id", ttlSeconds: 5, features: [{ name: "risk", type: ScalarType.DOUBLE }] };
const profiles: GroupSpec = { id: "profiles", key: "user_id", features: [{ name: "score", type: ScalarType.DOUBLE }, { name: "tier", type: ScalarType.STRING }] };

let h: Harness;
const history = new Map<string, HistoryRow[]>();
const versions = new Map<string, { version: number; committedAt: number }[]>();
let base: number;
let view: string;

function valuesFor(spec: GroupSpec, rnd: () => number): Row {
  const row: Row = {};
  for (const f of spec.features) {
    if (f.type === ScalarType.DOUBLE) row[f.name] = rnd() < 0.1 ? null : Math.round(rnd() * 1e6) / 100;
    else if (f.type === ScalarType.INT64) row[f.name] = BigInt(Math.floor(rnd() * 6));
    else row[f.name] = ["gold", "silver", "bronze"][Math.floor(rnd() * 3)]!;
  }
  return row;
}

async function writeHistory(spec: GroupSpec, groupName: string, keys: number, rnd: () => number, inOrder?: { from: number; width: number }) {
  const table = h.store.table({ project: h.project, featureGroup: spec.id, version: Number(groupName.split("/").at(-1)) });
  const rows: HistoryRow[] = [];
  const commits: { version: number; committedAt: number }[] = [];
  for (let commit = 0; commit < 5; commit++) {
    const batch: Row[] = [];
    const used = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const key = BigInt(Math.floor(rnd() * keys));
      // Out of order across commits; whole seconds make ties with other commits (and with label times) common.
      const ts = inOrder ? inOrder.from + commit * inOrder.width + Math.floor(rnd() * inOrder.width) : base + Math.floor(rnd() * 30) * 1000;
      if (used.has(`${key}@${ts}`)) continue; // one row per key and time within a commit
      used.add(`${key}@${ts}`);
      batch.push({ [spec.key]: key, ts: new Date(ts), ...valuesFor(spec, rnd) });
    }
    // Re-ingest some earlier rows with new values at the same key and time: the later commit must win.
    if (!inOrder) for (const earlier of rows.slice(0, 6)) if (!used.has(`${earlier.key}@${earlier.ts}`)) {
      used.add(`${earlier.key}@${earlier.ts}`);
      batch.push({ [spec.key]: earlier.key, ts: new Date(earlier.ts), ...valuesFor(spec, rnd) });
    }
    const result = await table.append(batch);
    commits.push({ version: result.version, committedAt: result.timestamp.getTime() });
    for (const r of batch) rows.push({ key: r[spec.key] as bigint, ts: (r.ts as Date).getTime(), values: r, version: result.version, committedAt: result.timestamp.getTime() });
    await new Promise((resolve) => setTimeout(resolve, 120));
  }
  history.set(groupName, rows);
  versions.set(groupName, commits);
}

/** The reference: the latest row with ts <= t (>= t - ttl), ties to the later commit; committed by t when bitemporal. */
function latest(groupName: string, spec: GroupSpec, key: bigint | null, t: number, options: { bitemporal: boolean; maxVersion?: number }): Row | undefined {
  if (key === null) return undefined;
  let best: HistoryRow | undefined;
  for (const r of history.get(groupName)!) {
    if (r.key !== key || r.ts > t) continue;
    if (options.maxVersion !== undefined && r.version > options.maxVersion) continue;
    if (options.bitemporal && r.committedAt > t) continue;
    if (!best || r.ts > best.ts || (r.ts === best.ts && r.version > best.version)) best = r;
  }
  if (!best) return undefined;
  if (spec.ttlSeconds && best.ts < t - spec.ttlSeconds * 1000) return undefined;
  return best.values;
}

function reference(entities: { row_id: bigint; user_id: bigint; ts: number }[], options: { bitemporal: boolean; merchantsVersion?: number }, names: { users: string; merchants: string; profiles: string }): Row[] {
  return entities.map((e) => {
    const u = latest(names.users, users, e.user_id, e.ts, options);
    const merchantId = (u?.merchant_id as bigint | null | undefined) ?? null;
    const m = latest(names.merchants, merchants, merchantId, e.ts, { ...options, maxVersion: options.merchantsVersion });
    const p = latest(names.profiles, profiles, e.user_id, e.ts, options);
    return {
      row_id: e.row_id,
      user_id: e.user_id,
      ts: new Date(e.ts),
      age: (u?.age as number | null | undefined) ?? null,
      merchant_id: merchantId,
      m_risk: (m?.risk as number | null | undefined) ?? null,
      p_score: (p?.score as number | null | undefined) ?? null,
      p_tier: (p?.tier as string | null | undefined) ?? null,
    };
  });
}

const groupInit = (spec: GroupSpec) => ({
  schema: { features: [scalar(spec.key, ScalarType.INT64), scalar("ts", ScalarType.TIMESTAMP), ...spec.features.map((f) => scalar(f.name, f.type))] },
  primaryKey: [spec.key],
  eventTime: "ts",
  ...(spec.ttlSeconds ? { ttl: { seconds: BigInt(spec.ttlSeconds) } } : {}),
});

const groupNames = { users: "", merchants: "", profiles: "" };

beforeAll(async () => {
  h = await startOfflineQuery({ workers: 0 });
  base = Date.now() - 10_000 - ((Date.now() - 10_000) % 1000);
  groupNames.users = await h.createGroup("users", groupInit(users));
  groupNames.merchants = await h.createGroup("merchants", groupInit(merchants));
  groupNames.profiles = await h.createGroup("profiles", groupInit(profiles));
  const rnd = random(42);
  await writeHistory(users, groupNames.users, 12, rnd);
  await writeHistory(merchants, groupNames.merchants, 6, rnd);
  await writeHistory(profiles, groupNames.profiles, 12, rnd);
  const created = await h.registry.call(registryRpc.createFeatureView, {
    parent: `projects/${h.project}`,
    featureViewId: "scoring",
    featureView: {
      root: { featureGroup: groupNames.users, features: ["age", "merchant_id"] },
      joins: [
        { selection: { featureGroup: groupNames.merchants, features: ["risk"], prefix: "m_" }, keys: [{ left: "merchant_id", right: "merchant_id" }] },
        { selection: { featureGroup: groupNames.profiles, prefix: "p_" }, keys: [{ left: "user_id", right: "user_id" }] },
      ],
    },
  });
  view = created.featureView!.name;
}, 60_000);

afterAll(async () => {
  await h?.close();
});

function entityRows(seed: number, n: number) {
  const rnd = random(seed);
  const entities = Array.from({ length: n }, (_, i) => ({
    row_id: BigInt(i),
    // Keys 0..14: 12..14 have no history at all.
    user_id: BigInt(Math.floor(rnd() * 15)),
    // Whole seconds (ties with history and exact TTL boundaries), some half-seconds, some before any history.
    ts: base - 3000 + Math.floor(rnd() * 70) * 500,
  }));
  const batch = recordBatchMessage(n, [
    { name: "row_id", type: "int64", values: entities.map((e) => e.row_id) },
    { name: "user_id", type: "int64", values: entities.map((e) => e.user_id) },
    { name: "ts", type: "timestamp", values: entities.map((e) => new Date(e.ts)) },
  ]);
  return { entities, batch };
}

const byRowId = (rows: Row[]) => [...rows].sort((a, b) => Number((a.row_id as bigint) - (b.row_id as bigint)));

describe("GetHistoricalFeatures against a brute-force reference", () => {
  it("equals the reference row for row, with the contract's column order", async () => {
    const { entities, batch } = entityRows(7, 600);
    const responses = await h.stream(rpc.getHistoricalFeatures, { featureView: view, entities: { case: "entityRows", value: batch }, options: { batchSize: 128 } });
    expect(responses.length).toBeGreaterThan(1);
    expect(responses[0]!.batch!.columns.map((c) => c.name)).toEqual(["row_id", "user_id", "ts", "age", "merchant_id", "m_risk", "p_score", "p_tier"]);
    const got = byRowId(rowsOf(responses.map((r) => r.batch)));
    const want = reference(entities, { bitemporal: false }, groupNames);
    expect(got).toEqual(want);
    // The randomized data really exercises the cases: some matches, some nulls.
    expect(want.filter((r) => r.m_risk !== null).length).toBeGreaterThan(20);
    expect(want.filter((r) => r.age === null).length).toBeGreaterThan(20);
  });

  it("takes the entity rows streamed in parts (GetHistoricalFeaturesStream) and answers the same", async () => {
    const { entities } = entityRows(17, 450);
    const part = (from: number, to: number) =>
      recordBatchMessage(to - from, [
        { name: "row_id", type: "int64", values: entities.slice(from, to).map((e) => e.row_id) },
        { name: "user_id", type: "int64", values: entities.slice(from, to).map((e) => e.user_id) },
        { name: "ts", type: "timestamp", values: entities.slice(from, to).map((e) => new Date(e.ts)) },
      ]);
    const responses = await bidiSendAllThenRead(h.client, rpc.getHistoricalFeaturesStream, [
      { featureView: view, options: { batchSize: 100 }, entityRows: part(0, 150) },
      { entityRows: part(150, 300) },
      { entityRows: part(300, 450) },
    ]);
    const got = byRowId(rowsOf(responses.map((r) => r.batch)));
    expect(got).toEqual(reference(entities, { bitemporal: false }, groupNames));
  });

  it("equals the reference in bitemporal mode (only rows committed by the label time)", async () => {
    const { entities, batch } = entityRows(8, 600);
    const responses = await h.stream(rpc.getHistoricalFeatures, { featureView: view, entities: { case: "entityRows", value: batch }, options: { bitemporal: true } });
    const got = byRowId(rowsOf(responses.map((r) => r.batch)));
    const want = reference(entities, { bitemporal: true }, groupNames);
    expect(got).toEqual(want);
    // Bitemporal changes answers on this data: it is not the same as the plain join.
    expect(want).not.toEqual(reference(entities, { bitemporal: false }, groupNames));
  });

  it("reads a group as of an earlier commit (time travel) and equals the reference", async () => {
    const { entities, batch } = entityRows(9, 400);
    const merchantsVersion = versions.get(groupNames.merchants)![2]!.version;
    const responses = await h.stream(rpc.getHistoricalFeatures, {
      featureView: view,
      entities: { case: "entityRows", value: batch },
      options: { groupAsOf: [{ featureGroup: groupNames.merchants, snapshot: { point: { case: "commitId", value: BigInt(merchantsVersion) } } }] },
    });
    const got = byRowId(rowsOf(responses.map((r) => r.batch)));
    expect(got).toEqual(reference(entities, { bitemporal: false, merchantsVersion }, groupNames));
    expect(got).not.toEqual(reference(entities, { bitemporal: false }, groupNames));
  });

  it("takes label rows from the root group over a time range", async () => {
    const start = base + 5_000;
    const end = base + 20_000;
    const responses = await h.stream(rpc.getHistoricalFeatures, {
      featureView: view,
      entities: { case: "rootEventTimeRange", value: { startTime: { seconds: BigInt(start / 1000) }, endTime: { seconds: BigInt(end / 1000) } } },
    });
    const got = rowsOf(responses.map((r) => r.batch)).sort((a, b) => Number(a.user_id) - Number(b.user_id) || (a.ts as Date).getTime() - (b.ts as Date).getTime());
    // One label row per root key and time in range; its own values (the later commit's on a tie).
    const seen = new Map<string, { user_id: bigint; ts: number }>();
    for (const r of history.get(groupNames.users)!) if (r.ts >= start && r.ts < end) seen.set(`${r.key}@${r.ts}`, { user_id: r.key, ts: r.ts });
    const entities = [...seen.values()].map((e, i) => ({ row_id: BigInt(i), ...e }));
    const want = reference(entities, { bitemporal: false }, groupNames)
      .map(({ row_id: _, ...rest }) => rest)
      .sort((a, b) => Number(a.user_id) - Number(b.user_id) || (a.ts as Date).getTime() - (b.ts as Date).getTime());
    expect(got).toEqual(want);
  });
});

describe("tables appended in time order (no ties across commits: the event-time plan, bitemporal reads capped)", () => {
  const ordered = { users: { ...users, id: "ordered_users", features: [{ name: "age", type: ScalarType.DOUBLE }] }, profiles: { ...profiles, id: "ordered_profiles", ttlSeconds: 1 } };
  const names = { users: "", profiles: "" };
  let orderedView = "";
  let commitTimes: number[] = [];

  beforeAll(async () => {
    names.users = await h.createGroup(ordered.users.id, groupInit(ordered.users));
    names.profiles = await h.createGroup(ordered.profiles.id, groupInit(ordered.profiles));
    const rnd = random(99);
    // Each commit holds the events of its own 1.5 s window, all older than the commit itself.
    const from = Date.now() - 9_000;
    await writeHistory(ordered.users, names.users, 10, rnd, { from, width: 1500 });
    await writeHistory(ordered.profiles, names.profiles, 10, rnd, { from, width: 1500 });
    commitTimes = [...versions.get(names.users)!, ...versions.get(names.profiles)!].map((c) => c.committedAt);
    orderedView = (
      await h.registry.call(registryRpc.createFeatureView, {
        parent: `projects/${h.project}`,
        featureViewId: "ordered",
        featureView: { root: { featureGroup: names.users, features: ["age"] }, joins: [{ selection: { featureGroup: names.profiles, features: ["score"], prefix: "p_" }, keys: [{ left: "user_id", right: "user_id" }] }] },
      })
    ).featureView!.name;
  }, 60_000);

  it("equals the reference around every commit time", async () => {
    const rnd = random(5);
    const first = Math.min(...commitTimes);
    const last = Math.max(...commitTimes);
    const n = 500;
    const entities = Array.from({ length: n }, (_, i) => ({ row_id: BigInt(i), user_id: BigInt(Math.floor(rnd() * 12)), ts: i % 5 === 0 ? commitTimes[i % commitTimes.length]! : Math.round(first - 3000 + rnd() * (last - first + 3500)) }));
    const batch = recordBatchMessage(n, [
      { name: "row_id", type: "int64", values: entities.map((e) => e.row_id) },
      { name: "user_id", type: "int64", values: entities.map((e) => e.user_id) },
      { name: "ts", type: "timestamp", values: entities.map((e) => new Date(e.ts)) },
    ]);
    const responses = await h.stream(rpc.getHistoricalFeatures, { featureView: orderedView, entities: { case: "entityRows", value: batch }, options: { bitemporal: true } });
    const got = byRowId(rowsOf(responses.map((r) => r.batch)));
    const want = entities.map((e) => {
      const u = latest(names.users, ordered.users, e.user_id, e.ts, { bitemporal: true });
      const p = latest(names.profiles, ordered.profiles, e.user_id, e.ts, { bitemporal: true });
      return { row_id: e.row_id, user_id: e.user_id, ts: new Date(e.ts), age: (u?.age as number | null | undefined) ?? null, p_score: (p?.score as number | null | undefined) ?? null };
    });
    expect(got).toEqual(want);
    const plain = entities.map((e) => latest(names.users, ordered.users, e.user_id, e.ts, { bitemporal: false })?.age ?? null);
    expect(want.map((r) => r.age)).not.toEqual(plain);
    expect(want.filter((r) => r.age !== null).length).toBeGreaterThan(50);

    // The same labels without the bitemporal option: the plain point-in-time join.
    const plainResponses = await h.stream(rpc.getHistoricalFeatures, { featureView: orderedView, entities: { case: "entityRows", value: batch }, options: { batchSize: 64 } });
    const gotPlain = byRowId(rowsOf(plainResponses.map((r) => r.batch)));
    expect(gotPlain.map((r) => r.age)).toEqual(plain);
    expect(gotPlain.map((r) => r.p_score)).toEqual(entities.map((e) => latest(names.profiles, ordered.profiles, e.user_id, e.ts, { bitemporal: false })?.score ?? null));
  });

  it("takes label rows from the root group over a time range, and each entity's latest row", async () => {
    const rows = history.get(names.users)!;
    const start = Math.min(...rows.map((r) => r.ts)) + 1500;
    const end = start + 4500;
    const range = { startTime: { seconds: BigInt(Math.floor(start / 1000)), nanos: (start % 1000) * 1e6 }, endTime: { seconds: BigInt(Math.floor(end / 1000)), nanos: (end % 1000) * 1e6 } };
    const responses = await h.stream(rpc.getHistoricalFeatures, { featureView: orderedView, entities: { case: "rootEventTimeRange", value: range } });
    const order = (a: Row, b: Row) => Number(a.user_id) - Number(b.user_id) || (a.ts as Date).getTime() - (b.ts as Date).getTime();
    const got = rowsOf(responses.map((r) => r.batch)).sort(order);
    const inRange = rows.filter((r) => r.ts >= start && r.ts < end);
    const want = inRange
      .map((r) => ({ user_id: r.key, ts: new Date(r.ts), age: (r.values.age as number | null) ?? null, p_score: (latest(names.profiles, ordered.profiles, r.key, r.ts, { bitemporal: false })?.score as number | null | undefined) ?? null }))
      .sort(order);
    expect(inRange.length).toBeGreaterThan(20);
    expect(got).toEqual(want);

    // GetBatchData's latest_per_entity: of those rows, each entity's newest.
    const latestResponses = await h.stream(rpc.getBatchData, { featureView: orderedView, entities: { case: "eventTimeRange", value: range }, latestPerEntity: true });
    const gotLatest = rowsOf(latestResponses.map((r) => r.batch)).sort(order);
    const newest = new Map<bigint, Row>();
    for (const r of want) if (!newest.has(r.user_id) || (newest.get(r.user_id)!.ts as Date) < (r.ts as Date)) newest.set(r.user_id, r);
    expect(gotLatest.map((r) => ({ user_id: r.user_id, ts: r.ts, age: r.age, p_score: r.p_score }))).toEqual([...newest.values()].sort(order));
  });
});
