// Reads a CSV or Parquet file with DuckDB in chunks of rows, typed by a
// feature group's schema, ready to become RecordBatches.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { DuckDBInstance, DuckDBListValue, JSDuckDBValueConverter, type DuckDBConnection } from "@duckdb/node-api";
import type { TypedColumn } from "@fti/record-batch";
import { typeName, type Feature, type Value } from "@fti/schema";
import { UsageError } from "../exit-codes.js";

export interface FileChunk {
  /** 0, 1, 2, ... in file order. */
  index: number;
  rowCount: number;
  columns: TypedColumn[];
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
const quoteString = (s: string) => `'${s.replace(/'/g, "''")}'`;

const duckTypes: Record<string, string> = { bool: "BOOLEAN", int32: "INTEGER", int64: "BIGINT", float: "FLOAT", double: "DOUBLE", string: "VARCHAR", bytes: "BLOB" };

/** The table function reading `path`: CSV as text (cast per feature below), Parquet as typed. */
function source(path: string): { sql: string; csv: boolean } {
  if (/\.csv(\.gz)?$/i.test(path)) return { sql: `read_csv(${quoteString(path)}, header = true, all_varchar = true)`, csv: true };
  if (/\.parquet$/i.test(path)) return { sql: `read_parquet(${quoteString(path)})`, csv: false };
  throw new UsageError(`${path}: fti ingest reads .csv and .parquet files`);
}

/** A select expression giving `feature` in the form `toValue` converts. */
function selectExpression(feature: Feature, column: string, fileType: string, csv: boolean): string {
  const col = quoteIdent(column);
  const t = feature.type;
  if (t === "timestamp") {
    // Microseconds since the epoch: the same for TIMESTAMP, TIMESTAMPTZ and ISO text with an offset.
    if (/WITH TIME ZONE/i.test(fileType)) return `epoch_us(${col})`;
    return `epoch_us(CAST(${col} AS TIMESTAMP))`;
  }
  if (typeof t === "string") return `CAST(${col} AS ${duckTypes[t]})`;
  if (csv) throw new UsageError(`feature "${feature.name}" is ${typeName(t)}; array and embedding features can only be ingested from Parquet`);
  return col;
}

function toValue(feature: Feature, v: unknown): Value {
  if (v === null || v === undefined) return null;
  const t = feature.type;
  if (t === "timestamp") return new Date(Number(BigInt(v as bigint) / 1000n));
  if (typeof t === "string") return v as Value;
  const items = v instanceof DuckDBListValue ? v.items : (v as unknown[]);
  if ("embedding" in t) return Float32Array.from(items as number[]);
  return items as Value;
}

export interface FileReader {
  /** Rows in the file. */
  rowCount: number;
  chunks(chunkRows: number): AsyncGenerator<FileChunk>;
  close(): void;
}

/**
 * Opens `path` for ingestion into a group with `features`, checking columns
 * first: a column the group does not have, or a missing key / event-time
 * column, is a UsageError naming it.
 */
export async function openFile(path: string, features: readonly Feature[], required: readonly string[]): Promise<FileReader> {
  const { sql: from, csv } = source(path);
  const instance = await DuckDBInstance.create(":memory:");
  const connection: DuckDBConnection = await instance.connect();
  try {
    const described = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`)).getRowObjectsJS() as { column_name: string; column_type: string }[];
    const fileColumns = new Map(described.map((d) => [d.column_name, d.column_type]));
    const byName = new Map(features.map((f) => [f.name, f]));
    const unknown = [...fileColumns.keys()].filter((c) => !byName.has(c));
    if (unknown.length) throw new UsageError(`${path}: column${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} ${unknown.length > 1 ? "are" : "is"} not a feature of the group (it has ${features.map((f) => f.name).join(", ")}); drop or rename ${unknown.length > 1 ? "them" : "it"}`);
    const missing = required.filter((c) => !fileColumns.has(c));
    if (missing.length) throw new UsageError(`${path}: the key / event-time column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} missing`);
    // Nullable features the file lacks are omitted: the service stores them as null.
    const present = features.filter((f) => fileColumns.has(f.name));
    const select = `SELECT ${present.map((f) => `${selectExpression(f, f.name, fileColumns.get(f.name)!, csv)} AS ${quoteIdent(f.name)}`).join(", ")} FROM ${from}`;
    const rowCount = Number((await connection.runAndReadAll(`SELECT count(*) AS n FROM ${from}`)).getRowObjectsJS()[0]!.n);
    return {
      rowCount,
      async *chunks(chunkRows: number) {
        // File order is kept (DuckDB preserves insertion order), so chunk i holds the same rows on every run.
        const result = await connection.stream(select);
        let index = 0;
        let pending: unknown[][] = present.map(() => []);
        let pendingRows = 0;
        const flush = (): FileChunk => {
          const chunk = { index: index++, rowCount: pendingRows, columns: present.map((f, i) => ({ name: f.name, type: f.type, values: pending[i]!.map((v) => toValue(f, v)) })) };
          pending = present.map(() => []);
          pendingRows = 0;
          return chunk;
        };
        for (;;) {
          const data = await result.fetchChunk();
          if (!data || data.rowCount === 0) break;
          const columns = data.convertColumns(JSDuckDBValueConverter);
          let offset = 0;
          while (offset < data.rowCount) {
            const take = Math.min(chunkRows - pendingRows, data.rowCount - offset);
            columns.forEach((c, i) => pending[i]!.push(...c.slice(offset, offset + take)));
            pendingRows += take;
            offset += take;
            if (pendingRows === chunkRows) yield flush();
          }
        }
        if (pendingRows > 0) yield flush();
      },
      close() {
        connection.closeSync();
        instance.closeSync();
      },
    };
  } catch (err) {
    connection.closeSync();
    instance.closeSync();
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${path}: cannot read it (${message.split("\n")[0]})`);
  }
}

/** A short content hash: batch ids derived from it are the same on every run over the same file. */
export async function fileFingerprint(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex").slice(0, 16);
}

/** The idempotency key of chunk `index`: a re-run over the same file sends the same ids, so nothing is written twice. */
export function batchId(fingerprint: string, chunkRows: number, index: number): string {
  return `fti-ingest/${fingerprint}/${chunkRows}/${index}`;
}
