// A DuckDB query's result as a stream of column batches: DuckDB's streaming
// result is pulled a chunk (2048 rows) at a time and regrouped into batches of
// the requested size, so memory holds one batch, never the whole result.
import type { Value } from "@fti/schema";
import type { Column, Columns } from "@fti/transforms";
import { chunkColumns, valueConverter } from "./duckdb-values.js";
import type { QueryConnection } from "./query-engine.js";

export interface ColumnBatch {
  rowCount: number;
  /** By column name. */
  columns: Columns;
}

export const defaultBatchSize = 10_000;
export const maxBatchSize = 1_000_000;

/** `batch_size` 0 means the default; larger than the maximum is clamped. */
export function batchSizeOf(requested: number): number {
  return requested === 0 ? defaultBatchSize : Math.min(requested, maxBatchSize);
}

/** Streams `sql`, whose result columns are `columns` in order, as batches of up to `batchSize` rows. */
export async function* streamQuery(q: Pick<QueryConnection, "connection" | "suspended">, sql: string, columns: readonly Column[], batchSize: number): AsyncGenerator<ColumnBatch> {
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
  let parts: Value[][][] = [];
  let buffered = 0;
  const flush = (): ColumnBatch => {
    const out: Columns = {};
    columns.forEach((c, i) => {
      const values: Value[] = parts.length === 1 ? parts[0]![i]! : new Array(buffered);
      if (parts.length > 1) {
        let at = 0;
        for (const part of parts) for (const v of part[i]!) values[at++] = v;
      }
      out[c.name] = values;
    });
    const batch = { rowCount: buffered, columns: out };
    parts = [];
    buffered = 0;
    return batch;
  };
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    let converted = chunkColumns(chunk, converters);
    let rows = chunk.rowCount;
    while (buffered + rows >= batchSize) {
      const take = batchSize - buffered;
      parts.push(converted.map((values) => values.slice(0, take)));
      buffered += take;
      yield* parkAt(flush());
      converted = converted.map((values) => values.slice(take));
      rows -= take;
    }
    if (rows > 0) {
      parts.push(converted);
      buffered += rows;
    }
  }
  if (buffered > 0) yield* parkAt(flush());
}
