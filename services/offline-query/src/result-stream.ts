// A DuckDB query's result as a stream of column batches: DuckDB's streaming
// result is pulled a chunk (2048 rows) at a time and regrouped into batches of
// the requested size, so memory holds one batch, never the whole result.
//
// Fixed-width columns (bool, int32, int64, float, double, timestamp) are kept
// as typed arrays, block-copied from DuckDB's vectors: a 1M-row × 50-column
// result is ~50M values, and boxing each into a JS value only for the encoder
// to copy it back into a typed array used to cost more than the join itself.
// Consumers that need per-row values (on-demand features, transformations,
// fitting) box just the columns they read, with `batchValues`.
import type { DuckDBVector } from "@duckdb/node-api";
import { fixedWidthArray, fixedWidthValues, isFixedWidthType, type FixedWidthColumn, type TypedColumn } from "@fti/record-batch";
import type { Value } from "@fti/schema";
import type { Column, Columns } from "@fti/transforms";
import { copyFixedWidth, valueConverter, type Convert, type FixedWidthBuilder } from "./duckdb-values.js";
import type { QueryConnection } from "./query-engine.js";

/** A column of a batch: a typed array for fixed-width types, values otherwise. */
export type BatchColumn = FixedWidthColumn | Value[];

export interface ColumnBatch {
  rowCount: number;
  /** By column name. */
  columns: Record<string, BatchColumn>;
}

export const defaultBatchSize = 10_000;
export const maxBatchSize = 1_000_000;

/** `batch_size` 0 means the default; larger than the maximum is clamped. */
export function batchSizeOf(requested: number): number {
  return requested === 0 ? defaultBatchSize : Math.min(requested, maxBatchSize);
}

/** A batch column as values (boxing a typed one). */
export function columnValues(column: BatchColumn, rowCount: number): Value[] {
  return Array.isArray(column) ? column : fixedWidthValues(column, rowCount);
}

/** The named columns of a batch (all by default) as values, for code that works row by row. */
export function batchValues(batch: ColumnBatch, names: readonly string[] = Object.keys(batch.columns)): Columns {
  const out: Columns = {};
  for (const name of names) {
    const column = batch.columns[name];
    if (column) out[name] = columnValues(column, batch.rowCount);
  }
  return out;
}

/** A batch column as an encoder input named and typed as `column`; a missing column is all nulls. */
export function encoderColumn(column: Column, data: BatchColumn | undefined, rowCount: number): TypedColumn | FixedWidthColumn {
  if (data === undefined) return { name: column.name, type: column.type, values: new Array(rowCount).fill(null) };
  if (Array.isArray(data)) return { name: column.name, type: column.type, values: data };
  if (data.type === column.type) return { ...data, name: column.name };
  return { name: column.name, type: column.type, values: fixedWidthValues(data, rowCount) };
}

/** Where a batch under construction keeps one column. */
type Slot =
  | { kind: "fixed"; column: FixedWidthBuilder }
  | { kind: "values"; values: Value[]; convert: Convert };

/**
 * Streams `sql`, whose result columns are `columns` in order, as batches of up
 * to `batchSize` rows. With `reuse`, the typed arrays of a batch are refilled
 * for the next one: for consumers that are done with a batch (encoded it,
 * say) before they ask for the next. A 1M-row × 50-column read then allocates
 * one batch of arrays instead of a hundred, and the collector has that much
 * less to do.
 */
export async function* streamQuery(
  q: Pick<QueryConnection, "connection" | "suspended">,
  sql: string,
  columns: readonly Column[],
  batchSize: number,
  options: { reuse?: boolean } = {},
): AsyncGenerator<ColumnBatch> {
  const result = await q.connection.stream(sql);
  // While the consumer holds a batch, no DuckDB call is pending: a cancel may close the connection then.
  async function* parkAt(batch: ColumnBatch) {
    q.suspended(true);
    try {
      yield batch;
    } finally {
      q.suspended(false);
    }
  }
  const converters = columns.map((c) => valueConverter(c.type));
  // Typed arrays start small and double up to the batch size, so a huge batch_size costs memory only when rows come.
  let capacity = Math.min(batchSize, 65_536);
  const newSlots = (): Slot[] =>
    columns.map((c, i) => (isFixedWidthType(c.type) ? { kind: "fixed", column: { type: c.type, data: fixedWidthArray(c.type, capacity) } } : { kind: "values", values: [], convert: converters[i]! }));
  let slots = newSlots();
  let buffered = 0;
  const grow = (needed: number) => {
    while (capacity < needed) capacity = Math.min(batchSize, capacity * 2);
    for (const s of slots) {
      if (s.kind !== "fixed" || s.column.data.length >= capacity) continue;
      const data = fixedWidthArray(s.column.type, capacity);
      (data as Float64Array).set(s.column.data as Float64Array);
      s.column.data = data;
      if (s.column.validity) {
        const validity = new Uint8Array(Math.ceil(capacity / 8)).fill(0xff);
        validity.set(s.column.validity);
        s.column.validity = validity;
      }
    }
  };
  const flush = (): ColumnBatch => {
    const out: Record<string, BatchColumn> = {};
    columns.forEach((c, i) => {
      const s = slots[i]!;
      if (s.kind === "values") out[c.name] = s.values;
      else {
        const { type, data, validity } = s.column;
        out[c.name] = { name: c.name, type, data: data.subarray(0, buffered), ...(validity ? { validity: validity.subarray(0, Math.ceil(buffered / 8)) } : {}) };
      }
    });
    const batch = { rowCount: buffered, columns: out };
    // Value columns are handed out; with `reuse`, typed ones are refilled once the consumer is back.
    slots = options.reuse ? slots.map((s) => (s.kind === "values" ? { ...s, values: [] } : s)) : newSlots();
    buffered = 0;
    return batch;
  };
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const rows = chunk.rowCount;
    const vectors: DuckDBVector[] = columns.map((_, i) => chunk.getColumnVector(i));
    let from = 0;
    while (from < rows) {
      const take = Math.min(rows - from, batchSize - buffered);
      if (buffered + take > capacity) grow(buffered + take);
      slots.forEach((s, i) => {
        const vector = vectors[i]!;
        if (s.kind === "fixed") copyFixedWidth(vector, s.column, from, take, buffered, rows);
        else
          for (let r = from; r < from + take; r++) {
            const v = vector.getItem(r);
            s.values.push(v === null ? null : s.convert(v));
          }
      });
      buffered += take;
      from += take;
      if (buffered === batchSize) {
        yield* parkAt(flush());
        if (options.reuse) for (const s of slots) if (s.kind === "fixed") s.column.validity?.fill(0xff);
      }
    }
  }
  if (buffered > 0) yield* parkAt(flush());
}
