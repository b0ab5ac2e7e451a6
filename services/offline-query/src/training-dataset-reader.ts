// ReadTrainingDataset: one split of a READY dataset, its Parquet file list
// first (for trainers that read the files themselves), then its rows,
// optionally through the view's transformations with the dataset's fitted
// parameters.
import { InvalidArgumentError } from "@fti/errors";
import type { ReadTrainingDatasetRequest } from "@fti/proto/fti/offline/v1/offline_pb";
import { encodeRecordBatch } from "@fti/record-batch";
import type { Column } from "@fti/transforms";
import { fittedPipeline, readyTrainingDataset } from "./fitted-transformations.js";
import type { OfflineQueryDeps } from "./historical-features.js";
import { batchSizeOf, batchValues, encoderColumn, streamQuery, type BatchColumn } from "./result-stream.js";
import { parquetList, quoteIdent } from "./sql.js";
import { loadViewPlan } from "./view-plan.js";
import { splitColumn } from "./training-dataset-builder.js";

export interface TrainingDatasetPart {
  batch?: Uint8Array;
  files?: string[];
  rowCount?: bigint;
}

export async function* readTrainingDataset(deps: OfflineQueryDeps, req: ReadTrainingDatasetRequest, signal?: AbortSignal): AsyncGenerator<TrainingDatasetPart> {
  const td = await readyTrainingDataset(deps, req.trainingDataset, "training_dataset");
  const split = td.splits.find((s) => s.name === req.split);
  if (!split) throw InvalidArgumentError.field("split", `${td.name} has no split "${req.split}"; it has ${td.splits.map((s) => `"${s.name}"`).join(", ")}`);
  const head = { files: [...split.files], rowCount: split.rowCount };
  if (req.filesOnly) {
    yield head;
    return;
  }
  const plan = await loadViewPlan(deps.metadata, td.featureView, "training_dataset");
  // The stored columns are the statistics' columns, in file order.
  const stored: Column[] = await storedColumns(deps, split.files, plan, signal);
  const pipeline = req.applyTransformations ? fittedPipeline(td, plan) : undefined;
  let columns: Column[] = stored;
  if (pipeline) {
    const after = new Map(pipeline.columns.map((c) => [c.name, c]));
    const names = new Set(stored.map((c) => c.name));
    columns = [...stored.map((c) => after.get(c.name) ?? c), ...pipeline.columns.filter((c) => !names.has(c.name))];
  }
  if (req.features.length) {
    const known = new Set(columns.map((c) => c.name));
    const violations = req.features.flatMap((f, i) => (known.has(f) ? [] : [{ field: `features[${i}]`, description: `"${f}" is not a column of ${td.name}` }]));
    if (violations.length) throw new InvalidArgumentError(violations);
    columns = req.features.map((f) => columns.find((c) => c.name === f)!);
  }
  if (split.files.length === 0) {
    yield { ...head, batch: encodeRecordBatch(0, columns.map((c) => ({ ...c, values: [] }))) };
    return;
  }
  const q = await deps.engine.open(signal);
  try {
    let first = true;
    const sql = `SELECT ${stored.map((c) => quoteIdent(c.name)).join(", ")} FROM read_parquet(${parquetList(split.files)})`;
    for await (const batch of streamQuery(q, sql, stored, batchSizeOf(req.batchSize))) {
      // Transformations work on values: only the columns they read are boxed; the rest go to the encoder typed.
      const values: Record<string, BatchColumn> = pipeline ? { ...batch.columns, ...pipeline.applyBatch(batchValues(batch, pipeline.inputs), batch.rowCount) } : batch.columns;
      const bytes = encodeRecordBatch(batch.rowCount, columns.map((c) => encoderColumn(c, values[c.name], batch.rowCount)));
      yield first ? { ...head, batch: bytes } : { batch: bytes };
      first = false;
    }
    if (first) yield { ...head, batch: encodeRecordBatch(0, columns.map((c) => ({ ...c, values: [] }))) };
  } catch (err) {
    throw q.failure(err);
  } finally {
    q.close();
  }
}

/** The split's columns with their types: the view's columns by name, others (entity pass-through) from the files. */
async function storedColumns(deps: OfflineQueryDeps, files: readonly string[], plan: Awaited<ReturnType<typeof loadViewPlan>>, signal?: AbortSignal): Promise<Column[]> {
  const known = new Map<string, Column>([...plan.servingKeys, ...plan.outputs, ...plan.rootLabels, ...plan.requestParameters].map((c) => [c.name, c]));
  const eventTime = plan.root.schema.eventTime;
  known.set(eventTime, { name: eventTime, type: "timestamp" });
  if (files.length === 0) return [...known.values()];
  return deps.engine.withConnection(signal, async (connection) => {
    const described = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${parquetList([files[0]!])})`)).getRowObjectsJS();
    return described
      .map((d) => String(d.column_name))
      .filter((name) => name !== splitColumn)
      .map((name) => known.get(name) ?? { name, type: typeFromDuckDB(String(described.find((d) => d.column_name === name)!.column_type)) });
  });
}

function typeFromDuckDB(type: string): Column["type"] {
  const scalars: Record<string, Column["type"]> = { BOOLEAN: "bool", INTEGER: "int32", BIGINT: "int64", FLOAT: "float", DOUBLE: "double", VARCHAR: "string", BLOB: "bytes", "TIMESTAMP WITH TIME ZONE": "timestamp" };
  if (type.endsWith("[]")) return { array: scalars[type.slice(0, -2)] as "string" };
  return scalars[type] ?? "string";
}

