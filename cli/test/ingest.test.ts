// fti ingest: the file reading, chunking and RecordBatch building offline, and
// end to end against a real ingestion service.
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { recordBatchMessage } from "@fti/record-batch";
import { recordBatchToRows } from "@fti/client";
import type { Feature } from "@fti/schema";
import { describe, expect, it } from "vitest";
import { batchId, fileFingerprint, openFile } from "../src/ingest/read-file.js";
import { definitionsDir, fti } from "./run.js";

const features: Feature[] = [
  { name: "account_id", type: "string" },
  { name: "ts", type: "timestamp" },
  { name: "amount", type: "double" },
  { name: "merchant_id", type: "int64" },
  { name: "is_fraud", type: "bool" },
];
const required = ["account_id", "ts"];

function csv(rows: number): string {
  const lines = ["account_id,ts,amount,merchant_id,is_fraud"];
  for (let i = 0; i < rows; i++) lines.push(`a${i},2024-05-01T10:${String(i % 60).padStart(2, "0")}:00Z,${i === 3 ? "" : i * 1.5},${i % 7},${i % 2 === 0}`);
  return lines.join("\n") + "\n";
}

describe("reading files", () => {
  it("reads a CSV in chunks typed by the schema, in file order, with nulls", async () => {
    const dir = await definitionsDir({ "t.csv": csv(5) });
    const file = await openFile(join(dir, "t.csv"), features, required);
    expect(file.rowCount).toBe(5);
    const chunks = [];
    for await (const c of file.chunks(2)) chunks.push(c);
    file.close();
    expect(chunks.map((c) => c.rowCount)).toEqual([2, 2, 1]);
    const rows = chunks.flatMap((c) => recordBatchToRows(recordBatchMessage(c.rowCount, c.columns)));
    expect(rows.map((r) => r.account_id)).toEqual(["a0", "a1", "a2", "a3", "a4"]);
    expect(rows[1]).toEqual({ account_id: "a1", ts: new Date("2024-05-01T10:01:00Z"), amount: 1.5, merchant_id: 1n, is_fraud: false });
    expect(rows[3]!.amount).toBeNull();
  });

  it("reads Parquet, and leaves out nullable features the file does not have", async () => {
    const dir = await definitionsDir({});
    const path = join(dir, "t.parquet");
    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    await c.run(`COPY (SELECT 'a' || i AS account_id, TIMESTAMP '2024-05-01 00:00:00' + INTERVAL (i) HOUR AS ts, i * 2.0 AS amount FROM range(3000) t(i)) TO '${path}' (FORMAT parquet)`);
    c.closeSync();
    db.closeSync();
    const file = await openFile(path, features, required);
    const chunks = [];
    for await (const chunk of file.chunks(1000)) chunks.push(chunk);
    file.close();
    expect(chunks.map((x) => x.rowCount)).toEqual([1000, 1000, 1000]);
    expect(chunks[0]!.columns.map((x) => x.name)).toEqual(["account_id", "ts", "amount"]);
    const last = recordBatchToRows(recordBatchMessage(chunks[2]!.rowCount, chunks[2]!.columns)).at(-1)!;
    expect(last).toEqual({ account_id: "a2999", ts: new Date(Date.UTC(2024, 4, 1) + 2999 * 3600_000), amount: 5998 });
  });

  it("refuses unknown and missing key columns before sending anything", async () => {
    const dir = await definitionsDir({ "extra.csv": "account_id,ts,colour\na,2024-01-01T00:00:00Z,red\n", "nokey.csv": "ts,amount\n2024-01-01T00:00:00Z,1\n" });
    await expect(openFile(join(dir, "extra.csv"), features, required)).rejects.toThrow(/column colour is not a feature of the group/);
    await expect(openFile(join(dir, "nokey.csv"), features, required)).rejects.toThrow(/column account_id is missing/);
  });

  it("derives the same batch ids from the same content, and others from other content", async () => {
    const dir = await definitionsDir({ "a.csv": csv(3), "b.csv": csv(3), "c.csv": csv(4) });
    const [a, b, c] = await Promise.all(["a.csv", "b.csv", "c.csv"].map((f) => fileFingerprint(join(dir, f))));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(batchId(a!, 100, 2)).toBe(`fti-ingest/${a}/100/2`);
  });
});

// The ingestion service is being built alongside the CLI: the end-to-end test
// runs only once services/ingestion/src/server.ts (and its test harness) exist.

describe("fti ingest end to end", () => {
  it("ingests a CSV in batches; a re-run writes nothing twice", async () => {
    const { startIngestion } = await import("../../services/ingestion/test/harness.js");
    const h = await startIngestion({ streamEnabled: false });
    try {
      const groupDir = await definitionsDir({
        "g.yaml": `project: ${h.project}\nfeature_groups:\n  - name: txns\n    features:\n      - {name: account_id, type: string}\n      - {name: ts, type: timestamp}\n      - {name: amount, type: double}\n      - {name: merchant_id, type: int64}\n      - {name: is_fraud, type: bool}\n    primary_key: account_id\n    event_time: ts\n`,
        "t.csv": csv(25),
      });
      const flags = ["--registry", `http://${h.registry.server.grpcAddress}`, "--ingestion", `http://${h.address}`, "--project", h.project];
      expect((await fti(["apply", join(groupDir, "g.yaml"), ...flags])).code).toBe(0);
      const first = await fti(["ingest", "txns", join(groupDir, "t.csv"), "--batch-size", "10", ...flags]);
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      expect(first.stdout).toContain(`ingested 25 rows into projects/${h.project}/featureGroups/txns/versions/1 in 3 batches: 25 rows written`);
      const again = await fti(["ingest", "txns", join(groupDir, "t.csv"), "--batch-size", "10", "-o", "json", ...flags]);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ rows: 25, rowsWritten: 0, batches: 3, duplicateBatches: 3 });
    } finally {
      await h.close();
    }
  });

  it("exits 69 when the ingestion service is not reachable", async () => {
    const { startRegistry } = await import("../../services/registry/test/harness.js");
    const r = await startRegistry();
    try {
      const dir = await definitionsDir({ "g.yaml": `project: p_ingest_down\nfeature_groups:\n  - name: txns\n    features:\n      - {name: account_id, type: string}\n      - {name: ts, type: timestamp}\n    primary_key: account_id\n    event_time: ts\n`, "t.csv": "account_id,ts\na,2024-01-01T00:00:00Z\n" });
      const flags = ["--registry", `http://${r.server.grpcAddress}`, "--ingestion", "http://127.0.0.1:1", "--project", "p_ingest_down"];
      expect((await fti(["apply", join(dir, "g.yaml"), ...flags])).code).toBe(0);
      const res = await fti(["ingest", "txns", join(dir, "t.csv"), ...flags]);
      expect(res.code).toBe(69);
      expect(res.stderr).toContain("batch 1 (rows 1-1) was not ingested: the ingestion service is not reachable");
    } finally {
      await r.close();
    }
  });
});
