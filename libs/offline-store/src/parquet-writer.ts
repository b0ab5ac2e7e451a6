// Writing data files: a validated column batch is appended to a DuckDB staging
// table with data chunks (the fastest way in from JS), its stats are taken in
// one aggregate query, and COPY writes it as Parquet.
import { DuckDBDataChunk, type DuckDBConnection, type DuckDBValue } from "@duckdb/node-api";
import type { FeatureGroupSchema } from "@fti/schema";
import type { ColumnBatch } from "./batch.js";
import { parquetExpression, quoteIdent, quoteString, stagingSqlType, toDuckDBValue } from "./duckdb-types.js";
import { collectStats, type FileStats } from "./stats.js";

/** DuckDB's vector size: a data chunk holds at most this many rows. */
const chunkRows = 2048;

/** Creates a temp table named `table` with the feature group's columns and fills it with `batch`. */
export async function stageBatch(connection: DuckDBConnection, schema: FeatureGroupSchema, batch: ColumnBatch, table: string): Promise<void> {
  const columns = schema.features.map((f) => `${quoteIdent(f.name)} ${stagingSqlType(f.type)}`);
  await connection.run(`CREATE TEMP TABLE ${quoteIdent(table)} (${columns.join(", ")})`);
  const appender = await connection.createAppender(table);
  try {
    const types = schema.features.map((_, i) => appender.columnType(i));
    const convert = schema.features.map((f) => toDuckDBValue(f.type));
    const values = schema.features.map((f) => batch.columns[f.name]);
    for (let start = 0; start < batch.rowCount; start += chunkRows) {
      const n = Math.min(chunkRows, batch.rowCount - start);
      const chunk = DuckDBDataChunk.create(types, n);
      for (let c = 0; c < types.length; c++) {
        const vector = chunk.getColumnVector(c);
        const column = values[c];
        const toValue = convert[c];
        if (!column) for (let i = 0; i < n; i++) vector.setItem(i, null);
        else if (!toValue) for (let i = 0; i < n; i++) vector.setItem(i, (column[start + i] ?? null) as DuckDBValue);
        else
          for (let i = 0; i < n; i++) {
            const value = column[start + i];
            vector.setItem(i, value === null || value === undefined ? null : toValue(value));
          }
        vector.flush();
      }
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/** The SELECT that turns a staging table into the Parquet columns. */
export function parquetSelect(schema: FeatureGroupSchema, table: string): string {
  return `SELECT ${schema.features.map((f) => parquetExpression(f.name, f.type)).join(", ")} FROM ${quoteIdent(table)}`;
}

export async function copyToParquet(connection: DuckDBConnection, query: string, location: string): Promise<void> {
  await connection.run(`COPY (${query}) TO ${quoteString(location)} (FORMAT parquet)`);
}

/** Writes `batch` as one Parquet file at `location` and returns its stats. */
export async function writeBatchFile(connection: DuckDBConnection, schema: FeatureGroupSchema, batch: ColumnBatch, location: string, stagingTable: string): Promise<FileStats> {
  await stageBatch(connection, schema, batch, stagingTable);
  try {
    const stats = await collectStats(connection, schema, quoteIdent(stagingTable), { staged: true });
    await copyToParquet(connection, parquetSelect(schema, stagingTable), location);
    return stats;
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${quoteIdent(stagingTable)}`);
  }
}
