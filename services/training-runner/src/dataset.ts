// Reads a training dataset's splits from its Parquet files with DuckDB: the
// feature columns as float32 rows (what the ONNX model takes), the label as
// float64, and slice columns as text.
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import type { TrainingDataset } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import type { TrainingData } from "./trainers/trainer.js";

export interface Column {
  name: string;
  /** DuckDB type, e.g. DOUBLE, BIGINT, BOOLEAN, VARCHAR, TIMESTAMP WITH TIME ZONE. */
  type: string;
}

export interface SplitData extends TrainingData {
  name: string;
  /** Text values of each requested slice column, per row. */
  slices: Record<string, string[]>;
}

/** A job fails with this; its message is the job's failure reason. */
export class JobFailure extends Error {}

const numericTypes = /^(DOUBLE|FLOAT|REAL|DECIMAL.*|BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER|USMALLINT|UTINYINT|BOOLEAN)$/;
export const isNumeric = (type: string) => numericTypes.test(type);

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const quoteString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The local paths of a split's files (file:// URIs or paths). */
export function splitPaths(dataset: TrainingDataset, split: string): string[] {
  const found = dataset.splits.find((s) => s.name === split);
  if (!found) throw new JobFailure(`training dataset ${dataset.name} has no "${split}" split (it has ${dataset.splits.map((s) => `"${s.name}"`).join(", ") || "none"})`);
  if (found.files.length === 0) throw new JobFailure(`split "${split}" of ${dataset.name} has no files`);
  return found.files.map((f) => (f.startsWith("file://") ? fileURLToPath(f) : f));
}

const source = (files: string[]) => `read_parquet([${files.map(quoteString).join(", ")}], hive_partitioning = false)`;

export async function withDuckDb<T>(fn: (run: (sql: string) => Promise<Record<string, unknown[]>>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  const connection = await instance.connect();
  try {
    return await fn(async (sql) => (await connection.runAndReadAll(sql)).getColumnsObjectJS() as Record<string, unknown[]>);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export async function describeColumns(files: string[]): Promise<Column[]> {
  return withDuckDb(async (run) => {
    const described = await run(`DESCRIBE SELECT * FROM ${source(files)}`);
    return (described.column_name as string[]).map((name, i) => ({ name, type: String(described.column_type![i]) }));
  });
}

export async function readSplit(name: string, files: string[], label: string, features: string[], sliceFeatures: string[]): Promise<SplitData> {
  return withDuckDb(async (run) => {
    const selects = [
      `CAST(${quoteIdent(label)} AS DOUBLE) AS "fti_label"`,
      ...features.map((f, i) => `CAST(${quoteIdent(f)} AS FLOAT) AS "f${i}"`),
      ...sliceFeatures.map((s, i) => `CAST(${quoteIdent(s)} AS VARCHAR) AS "s${i}"`),
    ];
    const columns = await run(`SELECT ${selects.join(", ")} FROM ${source(files)}`);
    const labels = columns.fti_label!;
    const rows = labels.length;
    const f = features.length;
    const x = new Float32Array(rows * f);
    features.forEach((_, j) => {
      const values = columns[`f${j}`]!;
      for (let i = 0; i < rows; i++) x[i * f + j] = values[i] === null ? NaN : (values[i] as number);
    });
    const y = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      if (labels[i] === null) throw new JobFailure(`label "${label}" is null in row ${i} of split "${name}"; drop unlabeled rows from the dataset`);
      y[i] = labels[i] as number;
    }
    const slices: Record<string, string[]> = {};
    sliceFeatures.forEach((s, i) => (slices[s] = columns[`s${i}`]!.map((v) => (v === null ? "(null)" : String(v)))));
    return { name, x, y, rows, features: f, slices };
  });
}

/** Writes the label and feature columns of a split as one CSV file, for external trainers. */
export async function writeSplitCsv(files: string[], columns: string[], path: string): Promise<void> {
  await withDuckDb(async (run) => {
    await run(`COPY (SELECT ${columns.map(quoteIdent).join(", ")} FROM ${source(files)}) TO ${quoteString(path)} (FORMAT csv, HEADER true)`);
  });
}
