// The typed fast path of query results: fixed-width DuckDB vectors are block-
// copied into typed arrays (no per-value boxing), with the same values, nulls
// and encoded bytes as reading them value by value.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DuckDBConnection, DuckDBVector } from "@duckdb/node-api";
import { encodeRecordBatch, fixedWidthArray, type FixedWidthType } from "@fti/record-batch";
import type { Value } from "@fti/schema";
import type { Column } from "@fti/transforms";
import { copyFixedWidth, fixedWidthCopies, rawVector, type FixedWidthBuilder } from "../src/duckdb-values.js";
import { createQueryEngine, type QueryEngine } from "../src/query-engine.js";
import { batchValues, encoderColumn, streamQuery } from "../src/result-stream.js";

const rows = 5000;
const t0 = 1_700_000_000_000;
// Nulls at different strides; timestamps carry sub-millisecond digits, which the platform drops.
const sql = `SELECT
  CASE WHEN i % 7 = 0 THEN NULL ELSE i / 4 END::DOUBLE AS d,
  (i / 8)::FLOAT AS f,
  CASE WHEN i % 3 = 0 THEN NULL ELSE i - 2500 END::INTEGER AS i32,
  CASE WHEN i % 5 = 0 THEN NULL ELSE i * 1000000007 - 9000000000000 END::BIGINT AS n,
  CASE WHEN i % 11 = 0 THEN NULL ELSE i % 2 = 0 END AS b,
  CASE WHEN i % 13 = 0 THEN NULL ELSE make_timestamptz(${t0 * 1000} + i * 1001) END AS t,
  'r' || i AS s
  FROM range(${rows}) r(i)`;
const columns: Column[] = [
  { name: "d", type: "double" },
  { name: "f", type: "float" },
  { name: "i32", type: "int32" },
  { name: "n", type: "int64" },
  { name: "b", type: "bool" },
  { name: "t", type: "timestamp" },
  { name: "s", type: "string" },
];
function expected(i: number): Record<string, Value> {
  return {
    d: i % 7 === 0 ? null : i / 4,
    f: i / 8,
    i32: i % 3 === 0 ? null : i - 2500,
    n: i % 5 === 0 ? null : BigInt(i) * 1000000007n - 9000000000000n,
    b: i % 11 === 0 ? null : i % 2 === 0,
    t: i % 13 === 0 ? null : new Date(t0 + Math.trunc((i * 1001) / 1000)),
    s: `r${i}`,
  };
}

let engine: QueryEngine;
let connection: DuckDBConnection;
beforeAll(async () => {
  engine = await createQueryEngine({ threads: 1 });
  connection = (await engine.open(undefined)).connection;
});
afterAll(() => engine.close());

describe("streamQuery's typed columns", () => {
  it("reads DOUBLE, BIGINT and TIMESTAMPTZ (and the other fixed-width types) by block copy, not getItem", async () => {
    const chunk = (await (await connection.stream(sql)).fetchChunk())!;
    const types: FixedWidthType[] = ["double", "float", "int32", "int64", "bool", "timestamp"];
    types.forEach((type, c) => expect(rawVector(chunk.getColumnVector(c), type, chunk.rowCount), type).toBeDefined());
    // A vector of another DuckDB type is not mistaken for one.
    expect(rawVector(chunk.getColumnVector(0), "int64", chunk.rowCount)).toBeUndefined();

    const before = { ...fixedWidthCopies };
    for await (const _ of streamQuery({ connection, suspended: () => {} }, sql, columns, 3001));
    expect(fixedWidthCopies.fallback).toBe(before.fallback);
    expect(fixedWidthCopies.fast).toBeGreaterThan(before.fast);
  });

  it.each([false, true])("gives every value and null, across unaligned batch and chunk boundaries (arrays refilled: %s)", async (reuse) => {
    let at = 0;
    let previous: unknown;
    for await (const batch of streamQuery({ connection, suspended: () => {} }, sql, columns, 701, { reuse })) {
      // Refilled arrays are the same arrays batch after batch (and fresh ones otherwise).
      const data = (batch.columns.d as { data: Float64Array }).data.buffer;
      if (previous) expect(data === previous).toBe(reuse);
      previous = data;
      expect(Array.isArray(batch.columns.d)).toBe(false);
      const values = batchValues(batch);
      for (let r = 0; r < batch.rowCount; r++) for (const c of columns) expect(values[c.name]![r], `${c.name}[${at + r}]`).toEqual(expected(at + r)[c.name]);
      // The typed columns encode to exactly the bytes of their values.
      const typed = encodeRecordBatch(batch.rowCount, columns.map((c) => encoderColumn(c, batch.columns[c.name], batch.rowCount)));
      const boxed = encodeRecordBatch(batch.rowCount, columns.map((c) => ({ ...c, values: values[c.name]! })));
      expect(Buffer.from(typed).equals(Buffer.from(boxed))).toBe(true);
      at += batch.rowCount;
    }
    expect(at).toBe(rows);
  });

  it("falls back to getItem, with the same result, when a vector is not shaped as expected", async () => {
    const chunk = (await (await connection.stream(sql)).fetchChunk())!;
    const types: FixedWidthType[] = ["double", "float", "int32", "int64", "bool", "timestamp"];
    types.forEach((type, c) => {
      const vector = chunk.getColumnVector(c);
      // Only the public API: what a future @duckdb/node-api with other private fields still offers.
      const opaque = { type: vector.type, getItem: (i: number) => vector.getItem(i) } as unknown as DuckDBVector;
      const fast: FixedWidthBuilder = { type, data: fixedWidthArray(type, 100) };
      const slow: FixedWidthBuilder = { type, data: fixedWidthArray(type, 100) };
      const fallbacks = fixedWidthCopies.fallback;
      copyFixedWidth(vector, fast, 3, 97, 0, chunk.rowCount);
      copyFixedWidth(opaque, slow, 3, 97, 0, chunk.rowCount);
      expect(fixedWidthCopies.fallback, type).toBe(fallbacks + 1);
      expect(slow.data, type).toEqual(fast.data);
      expect(slow.validity, type).toEqual(fast.validity);
    });
  });
});
