// The tables are real Delta: every log entry passes a protocol check, and a
// reader that knows only the protocol (log replay here + DuckDB) sees the same
// snapshot the library does.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Row } from "@fti/schema";
import { commitProblems } from "./delta-validator.js";
import { fixture, rows, schema, sortedKeys, tableId, type Fixture } from "./helpers.js";

let f: Fixture;
beforeEach(async () => {
  f = await fixture();
});
afterEach(async () => {
  await f.cleanup();
});

const tableDir = () => join(f.root, "fraud", "transactions", "v1");

/** Builds a table with creates, row and column appends and a delete. Returns the rows it should hold. */
async function buildTable(): Promise<Row[]> {
  const table = await f.store.createTable(tableId, schema);
  await table.append(rows(0, 50));
  const second = rows(50, 120, 1);
  const columns: Record<string, Row[string][]> = {};
  for (const feature of schema.features) columns[feature.name] = second.map((r) => r[feature.name]!);
  await table.append({ rowCount: second.length, columns });
  await table.append(rows(120, 130, 2));
  await table.deleteRows([{ customer_id: 7n }, { customer_id: 60n }, { customer_id: 125n }]);
  return [...rows(0, 50), ...second, ...rows(120, 130, 2)].filter((r) => ![7n, 60n, 125n].includes(r.customer_id as bigint));
}

/** Our own replay: files named 00000000000000000000.json…, add minus remove, in version order. */
async function replayLog(dir: string): Promise<{ versions: number[]; live: Map<string, { stats: string }>; schemaString: string }> {
  const names = (await readdir(join(dir, "_delta_log"))).filter((n) => /^\d{20}\.json$/.test(n)).sort();
  const live = new Map<string, { stats: string }>();
  let schemaString = "";
  for (const name of names) {
    const text = await readFile(join(dir, "_delta_log", name), "utf8");
    for (const line of text.split("\n").filter(Boolean)) {
      const action = JSON.parse(line);
      if (action.metaData) schemaString = action.metaData.schemaString;
      if (action.add) live.set(decodeURIComponent(action.add.path), action.add);
      if (action.remove) live.delete(decodeURIComponent(action.remove.path));
    }
  }
  return { versions: names.map(Number), live, schemaString };
}

const duckdbTypeOf: Record<string, string> = {
  long: "BIGINT",
  integer: "INTEGER",
  float: "FLOAT",
  double: "DOUBLE",
  string: "VARCHAR",
  binary: "BLOB",
  boolean: "BOOLEAN",
  timestamp: "TIMESTAMP WITH TIME ZONE",
};

describe("Delta log", () => {
  it("writes only log entries that satisfy the protocol, one per version, contiguous from 0", async () => {
    await buildTable();
    const names = (await readdir(join(tableDir(), "_delta_log"))).sort();
    expect(names).toEqual([0, 1, 2, 3, 4].map((v) => `${String(v).padStart(20, "0")}.json`));
    for (const [version, name] of names.entries()) {
      const text = await readFile(join(tableDir(), "_delta_log", name), "utf8");
      expect(commitProblems(version, text), name).toEqual([]);
    }
    const first = (await readFile(join(tableDir(), "_delta_log", names[0]!), "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l));
    expect(first.find((a) => a.protocol).protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
    const fields = JSON.parse(first.find((a) => a.metaData).metaData.schemaString).fields;
    expect(fields.map((x: { name: string; type: unknown }) => [x.name, x.type])).toEqual([
      ["customer_id", "long"],
      ["event_time", "timestamp"],
      ["amount", "double"],
      ["tx_count", "integer"],
      ["score", "float"],
      ["country", "string"],
      ["is_fraud", "boolean"],
      ["payload", "binary"],
      ["tags", { type: "array", elementType: "string", containsNull: false }],
      ["embedding", { type: "array", elementType: "float", containsNull: false }],
    ]);
    expect(fields.find((x: { name: string }) => x.name === "customer_id").nullable).toBe(false);
  });

  it("the validator rejects entries that break the protocol", () => {
    expect(commitProblems(0, '{"add":{"path":"a.parquet","size":1,"modificationTime":1,"dataChange":true,"partitionValues":{}}}\n')).toContain(
      "version 0: the first commit must hold protocol and metaData",
    );
    expect(commitProblems(1, '{"add":{"path":"a.parquet","size":-1,"dataChange":"yes","partitionValues":{}}}\n').length).toBeGreaterThanOrEqual(3);
    expect(commitProblems(1, '{"remove":{"path":"a"},"add":{"path":"b"}}\n')).toHaveLength(1);
  });

  it("a reader using only the log and DuckDB sees exactly the library's snapshot", async () => {
    const expected = await buildTable();
    const { live, schemaString } = await replayLog(tableDir());
    const files = [...live.keys()].map((p) => join(tableDir(), p));
    const duckdb = await DuckDBInstance.create(":memory:");
    try {
      const c = await duckdb.connect();
      await c.run("SET TimeZone = 'UTC'");
      const list = `[${files.map((p) => `'${p}'`).join(", ")}]`;
      const read = await c.runAndReadAll(`SELECT * FROM read_parquet(${list})`);
      const theirRows = read.getRowObjectsJS() as Row[];
      expect(sortedKeys(theirRows)).toEqual(sortedKeys(expected));

      // Parquet column types are what the schemaString promises.
      const described = await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${list})`);
      const types = Object.fromEntries(described.getRowsJS().map((r) => [r[0], r[1]]));
      for (const field of JSON.parse(schemaString).fields as { name: string; type: string | { elementType: string } }[]) {
        const want = typeof field.type === "string" ? duckdbTypeOf[field.type] : `${duckdbTypeOf[field.type.elementType]}[]`;
        expect(types[field.name], field.name).toBe(want);
      }

      // Each file's stats describe the file.
      for (const [path, add] of live) {
        const stats = JSON.parse(add.stats);
        const facts = await c.runAndReadAll(`SELECT count(*), min(customer_id), max(customer_id), count(*) - count(country) FROM read_parquet('${join(tableDir(), path)}')`);
        const [count, min, max, nullCountry] = facts.getRowsJS()[0]!;
        expect(stats.numRecords).toBe(Number(count));
        expect(BigInt(stats.minValues.customer_id)).toBe(min);
        expect(BigInt(stats.maxValues.customer_id)).toBe(max);
        expect(stats.nullCount.country).toBe(Number(nullCountry));
      }
      c.closeSync();
    } finally {
      duckdb.closeSync();
    }

    const ours = await f.store.table(tableId).readRows();
    expect(sortedKeys(ours)).toEqual(sortedKeys(expected));
  });
});
