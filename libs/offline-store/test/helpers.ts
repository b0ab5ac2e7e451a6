// Shared fixtures: a temp root per test and a feature group with every type.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FeatureGroupSchema, Row } from "@fti/schema";
import { createOfflineStore, type OfflineStore, type TableId } from "../src/index.js";

export const schema: FeatureGroupSchema = {
  features: [
    { name: "customer_id", type: "int64" },
    { name: "event_time", type: "timestamp" },
    { name: "amount", type: "double" },
    { name: "tx_count", type: "int32" },
    { name: "score", type: "float" },
    { name: "country", type: "string" },
    { name: "is_fraud", type: "bool" },
    { name: "payload", type: "bytes" },
    { name: "tags", type: { array: "string" } },
    { name: "embedding", type: { embedding: 3 } },
  ],
  primaryKey: ["customer_id"],
  eventTime: "event_time",
};

export const tableId: TableId = { project: "fraud", featureGroup: "transactions", version: 1 };

export const t0 = Date.UTC(2024, 0, 1);

/** A row whose values all derive from (customer, n), so tests can recompute what they expect. */
export function row(customer: number, n = 0): Row {
  return {
    customer_id: BigInt(customer),
    event_time: new Date(t0 + customer * 60_000 + n * 1000),
    amount: customer * 1.5 + n,
    tx_count: customer + n,
    score: 0.5,
    country: customer % 2 === 0 ? "DE" : "FR",
    is_fraud: customer % 3 === 0,
    payload: new Uint8Array([customer % 256, n % 256]),
    tags: [`c${customer}`, `n${n}`],
    embedding: new Float32Array([customer, n, 0.25]),
  };
}

export function rows(from: number, to: number, n = 0): Row[] {
  const out: Row[] = [];
  for (let c = from; c < to; c++) out.push(row(c, n));
  return out;
}

/** A stable identity of a row for comparing sets of rows read back. */
export function rowKey(r: Row): string {
  return `${r.customer_id}@${(r.event_time as Date).toISOString()}`;
}

export function sortedKeys(rs: readonly Row[]): string[] {
  return rs.map(rowKey).sort();
}

export interface Fixture {
  root: string;
  store: OfflineStore;
  cleanup(): Promise<void>;
}

export async function fixture(): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), "fti-offline-"));
  const store = await createOfflineStore({ root });
  return {
    root,
    store,
    async cleanup() {
      store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
