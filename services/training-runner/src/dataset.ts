// Reads a training dataset's splits from its Parquet files with DuckDB: the
// feature columns as float32 rows (what the ONNX model takes), after the
// dataset's fitted transformations, the label as float64, and slice columns as
// text.
import { fileURLToPath } from "node:url";
import { writeFile } from "node:fs/promises";
import { DuckDBInstance } from "@duckdb/node-api";
import type { TrainingDataset } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import type { FeatureType } from "@fti/schema";
import type { Columns } from "@fti/transforms";
import type { TrainingData } from "./trainers/trainer.js";
import { schemaValue, type DatasetTransformations } from "./transformations.js";

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

/**
 * Reads a split: the label, the features as float32 rows and slice columns as
 * text. Features a transformation writes are computed from the stored columns
 * with the dataset's fitted parameters (`transformations`), exactly as online
 * serving computes them before the model; the others are read as they are.
 */
export async function readSplit(name: string, files: string[], label: string, features: string[], sliceFeatures: string[], transformations?: DatasetTransformations): Promise<SplitData> {
  const transformed = (f: string) => transformations?.outputs.has(f) ?? false;
  const reads = transformations && features.some(transformed) ? transformations.reads : [];
  return withDuckDb(async (run) => {
    const selects = [
      `CAST(${quoteIdent(label)} AS DOUBLE) AS "fti_label"`,
      ...features.flatMap((f, i) => (transformed(f) ? [] : [`CAST(${quoteIdent(f)} AS FLOAT) AS "f${i}"`])),
      ...reads.map((c, i) => `${quoteIdent(c.name)} AS "r${i}"`),
      ...sliceFeatures.map((s, i) => `CAST(${quoteIdent(s)} AS VARCHAR) AS "s${i}"`),
    ];
    const columns = await run(`SELECT ${selects.join(", ")} FROM ${source(files)}`);
    const labels = columns.fti_label!;
    const rows = labels.length;
    const after = reads.length ? applyTransformations(transformations!, reads, columns, rows) : {};
    const f = features.length;
    const x = new Float32Array(rows * f);
    features.forEach((feature, j) => {
      if (transformed(feature)) {
        // As online serving fills a float tensor: null is NaN, a number is rounded to float32.
        const values = after[feature]!;
        for (let i = 0; i < rows; i++) x[i * f + j] = values[i] === null ? NaN : Number(values[i]);
        return;
      }
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

/** The pipeline over the stored columns read as `r<i>`, as typed values. */
function applyTransformations(t: DatasetTransformations, reads: readonly { name: string; type: FeatureType }[], columns: Record<string, unknown[]>, rows: number): Columns {
  const input: Columns = {};
  reads.forEach((c, i) => (input[c.name] = columns[`r${i}`]!.map((v) => schemaValue(c.type, v))));
  return t.pipeline.applyBatch(input, rows);
}

/**
 * Writes the label and feature columns of a split as one CSV file, for
 * external trainers. Features a transformation writes hold the transformed
 * values (full precision), so the file has the columns the model is served.
 */
export async function writeSplitCsv(files: string[], columns: string[], path: string, transformations?: DatasetTransformations): Promise<void> {
  const transformed = (c: string) => transformations?.outputs.has(c) ?? false;
  if (!transformations || !columns.some(transformed)) {
    await withDuckDb(async (run) => {
      await run(`COPY (SELECT ${columns.map(quoteIdent).join(", ")} FROM ${source(files)}) TO ${quoteString(path)} (FORMAT csv, HEADER true)`);
    });
    return;
  }
  const reads = transformations.reads;
  const lines = await withDuckDb(async (run) => {
    const selects = [...columns.flatMap((c, i) => (transformed(c) ? [] : [`${quoteIdent(c)} AS "c${i}"`])), ...reads.map((c, i) => `${quoteIdent(c.name)} AS "r${i}"`)];
    const read = await run(`SELECT ${selects.join(", ")} FROM ${source(files)}`);
    const rows = read[Object.keys(read)[0]!]!.length;
    const after = applyTransformations(transformations, reads, read, rows);
    const values = columns.map((c, i) => (transformed(c) ? after[c]! : read[`c${i}`]!));
    const out = [columns.map(csvField).join(",")];
    for (let i = 0; i < rows; i++) out.push(values.map((v) => csvField(v[i])).join(","));
    return out;
  });
  await writeFile(path, lines.join("\n") + "\n");
}

/** One CSV field as DuckDB writes it: empty for null, true/false, numbers as they print, text quoted when needed. */
function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isNaN(value) ? "" : String(value);
  const text = value instanceof Date ? value.toISOString() : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
