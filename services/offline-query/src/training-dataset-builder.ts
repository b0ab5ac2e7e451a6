// Materializes a training dataset: the point-in-time join with each row's
// split, written by DuckDB straight to Parquet (one hive-style directory per
// split, `fti_split=<name>/`), then per-split statistics and the view's
// transformations fitted on the train split only. Files are written once under
// a directory of their own and never rewritten: the dataset is immutable.
import { randomUUID } from "node:crypto";
import { mkdir, readdir, rm } from "node:fs/promises";
import { dirname, isAbsolute, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { DuckDBConnection } from "@duckdb/node-api";
import { create } from "@bufbuild/protobuf";
import { FailedPreconditionError, InvalidArgumentError } from "@fti/errors";
import { FeatureGroupSnapshotSchema, type FeatureGroupSnapshot } from "@fti/proto/fti/common/v1/types_pb";
import { SplitSchema, type Split, type TrainingDataset } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import type { FittedTransformation } from "@fti/proto/fti/registry/v1/transformations_pb";
import type { FeatureType } from "@fti/schema";
import { fitTransformations, type Column, type Columns } from "@fti/transforms";
import { parseName } from "@fti/aip";
import { appendEntityRows, createEntityTable, parquetEntitySource } from "./entity-rows.js";
import { transformationInputs } from "./fitted-transformations.js";
import type { OfflineQueryDeps } from "./historical-features.js";
import { names } from "./names.js";
import { pointInTimeSql, type EntitySource } from "./point-in-time.js";
import { batchValues, columnValues, streamQuery } from "./result-stream.js";
import { scanGroups } from "./snapshots.js";
import { splitPlan } from "./splits.js";
import { splitStatistics } from "./statistics.js";
import { localPath, parquetList, quoteIdent, quoteString } from "./sql.js";
import { rangeOf } from "./time-range.js";
import { loadViewPlan, type ViewPlan } from "./view-plan.js";

export const splitColumn = "fti_split";

export interface BuildProgress {
  (progress: { stage?: "JOINING" | "STATISTICS" | "FITTING" | "REGISTERING"; rowsDone?: number; rowsTotal?: number; percent?: number }): Promise<void>;
}

export interface BuiltDataset {
  location: string;
  splits: Split[];
  asOf: FeatureGroupSnapshot[];
  fittedTransformations: FittedTransformation[];
}

/** The directory of a training dataset under the offline root. */
export function datasetDirectory(offlineRoot: string, datasetName: string): string {
  const ids = parseName(names.trainingDataset, datasetName, "training_dataset", ["version", "dataset"]);
  return join(offlineRoot, "_training", ids.project, ids.feature_view, ids.version, ids.dataset);
}

/** The local path of an entity-rows URI, which must lie under the offline root. */
export function entityRowsPath(offlineRoot: string, uri: string, field: string): string {
  const path = uri.startsWith("file://") ? localPath(uri) : isAbsolute(uri) ? uri : join(offlineRoot, uri);
  const root = join(offlineRoot, "/");
  if (!join(path).startsWith(root) && !join(path, "/").startsWith(root)) throw InvalidArgumentError.field(field, `must be under the offline root (${root})`);
  return path;
}

export async function buildTrainingDataset(
  deps: OfflineQueryDeps & { offlineRoot: string },
  td: TrainingDataset,
  report: BuildProgress,
  signal: AbortSignal,
): Promise<BuiltDataset> {
  const plan = await loadViewPlan(deps.metadata, td.featureView, "training_dataset.feature_view");
  const split = splitPlan(td.split);
  const scans = await scanGroups(deps.store, plan.groups, { groupAsOf: td.asOf, field: "training_dataset.as_of" });
  const directory = datasetDirectory(deps.offlineRoot, td.name);
  // A job taken over after a crash starts from an empty directory.
  await rm(directory, { recursive: true, force: true });
  await mkdir(dirname(directory), { recursive: true });

  const q = await deps.engine.open(signal);
  try {
    const { connection } = q;
    const entities = await entitySource(connection, deps.offlineRoot, td, plan);
    const query = pointInTimeSql({ plan, scans, entities, bitemporal: td.bitemporal, includeLabels: true });
    const keys = plan.servingKeys.filter((k) => query.entityColumns.some((c) => c.name === k.name));
    const splitExpression = split.expression(keys, query.eventTime);
    const labels = plan.rootLabels.filter((l) => !query.entityColumns.some((c) => c.name === l.name));
    const columns = [...query.entityColumns, ...plan.outputs, ...labels];
    const withSplit = `SELECT * FROM (SELECT *, ${splitExpression} AS ${splitColumn} FROM (${query.sql})) WHERE ${splitColumn} IS NOT NULL`;

    await report({ stage: "JOINING", percent: 0 });
    const poll = setInterval(() => {
      const percent = connection.progress.percentage;
      if (percent >= 0) void report({ percent: Math.min(80, percent * 0.8) }).catch(() => {});
    }, 1_000);
    try {
      if (plan.onDemand.columns.length === 0 && split.whole !== undefined) {
        // One split takes every row: the join goes straight into its directory, with no partitioning pass.
        await copyWhole(connection, `SELECT ${columns.map((c) => quoteIdent(c.name)).join(", ")} FROM (${query.sql})`, directory, split.whole);
      } else if (plan.onDemand.columns.length === 0) {
        await copySplits(connection, `SELECT ${[...columns.map((c) => quoteIdent(c.name)), splitColumn].join(", ")} FROM (${withSplit})`, directory);
      } else {
        // On-demand features are computed by @fti/transforms in JS (the code online serving runs),
        // so the join streams through it into a temp table that DuckDB then writes out.
        const table = await createEntityTable(connection, [...columns, { name: splitColumn, type: "string" }]);
        const streamed = [...query.columns, { name: splitColumn, type: "string" as FeatureType }];
        for await (const batch of streamQuery(q, `SELECT ${streamed.map((c) => quoteIdent(c.name)).join(", ")} FROM (${withSplit})`, streamed, 50_000)) {
          const values = plan.onDemand.applyBatch(batchValues(batch), batch.rowCount);
          await appendEntityRows(connection, table, [...columns, { name: splitColumn, type: "string" }], { rowCount: batch.rowCount, columns: values });
        }
        await copySplits(connection, `SELECT * FROM ${quoteIdent(table)}`, directory);
        await connection.run(`DROP TABLE ${quoteIdent(table)}`);
      }
    } finally {
      clearInterval(poll);
    }

    await report({ stage: "STATISTICS", percent: 80 });
    const splits: Split[] = [];
    let total = 0;
    for (const name of split.names) {
      const files = await splitFiles(directory, name);
      const { rowCount, statistics } = await splitStatistics(connection, files, columns);
      total += rowCount;
      splits.push(create(SplitSchema, { name, rowCount: BigInt(rowCount), files: files.map((f) => pathToFileURL(f).href), statistics }));
    }
    await report({ rowsDone: total, rowsTotal: total, percent: 90 });

    await report({ stage: "FITTING", percent: 90 });
    const fittedTransformations = await fitOnTrain(connection, plan, splits);

    return {
      location: pathToFileURL(directory).href,
      splits,
      asOf: plan.groups.map((g) => create(FeatureGroupSnapshotSchema, { featureGroup: g.name, snapshot: { point: { case: "commitId", value: BigInt(Math.max(0, scans.get(g.name)!.version)) } } })),
      fittedTransformations,
    };
  } catch (err) {
    await rm(directory, { recursive: true, force: true }).catch(() => {});
    throw q.failure(err);
  } finally {
    q.close();
  }
}

async function copySplits(connection: DuckDBConnection, sql: string, directory: string): Promise<void> {
  await connection.run(`COPY (${sql}) TO ${quoteString(directory)} (FORMAT parquet, PARTITION_BY (${splitColumn}), FILENAME_PATTERN 'part-{uuid}')`);
}

/** A split's directory in the dataset: hive-style, as PARTITION_BY writes it. */
const splitDirectory = (directory: string, split: string) => join(directory, `${splitColumn}=${split}`);

async function copyWhole(connection: DuckDBConnection, sql: string, directory: string, split: string): Promise<void> {
  const dir = splitDirectory(directory, split);
  await mkdir(dir, { recursive: true });
  await connection.run(`COPY (${sql}) TO ${quoteString(join(dir, `part-${randomUUID()}.parquet`))} (FORMAT parquet)`);
}

async function splitFiles(directory: string, split: string): Promise<string[]> {
  const dir = splitDirectory(directory, split);
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries.filter((f) => f.endsWith(".parquet")).sort().map((f) => join(dir, f));
}

/** Entity rows of the dataset: the root group over its time range, or a Parquet file of caller rows. */
async function entitySource(connection: DuckDBConnection, offlineRoot: string, td: TrainingDataset, plan: ViewPlan): Promise<EntitySource> {
  if (td.rows.case === "entityRowsUri") {
    const path = entityRowsPath(offlineRoot, td.rows.value, "training_dataset.entity_rows_uri");
    return parquetEntitySource(connection, path, plan.root.schema.eventTime, "training_dataset.entity_rows_uri");
  }
  const range = rangeOf(td.rows.case === "eventTimeRange" ? td.rows.value : undefined, "training_dataset.event_time_range");
  return { kind: "root", ...range };
}

/** Fits the view's transformations on the "train" split, reading only the columns they need. */
async function fitOnTrain(connection: DuckDBConnection, plan: ViewPlan, splits: readonly Split[]): Promise<FittedTransformation[]> {
  const transformations = plan.view.transformations;
  if (transformations.length === 0) return [];
  const train = splits.find((s) => s.name === "train");
  if (!train || train.rowCount === 0n)
    throw new FailedPreconditionError(`${plan.view.name} has transformations, which are fitted on the "train" split; the dataset has ${train ? "an empty" : "no"} train split`);
  const inputs = transformationInputs(plan);
  const needed = inputs.filter((c) => transformations.some((t) => t.feature === c.name));
  const trainColumns: Columns = Object.fromEntries(needed.map((c) => [c.name, []]));
  for await (const batch of streamQuery({ connection, suspended: () => {} }, `SELECT ${needed.map((c) => quoteIdent(c.name)).join(", ")} FROM read_parquet(${parquetList(train.files)})`, needed, 100_000))
    for (const c of needed) for (const v of columnValues(batch.columns[c.name]!, batch.rowCount)) trainColumns[c.name]!.push(v);
  return fitTransformations(transformations, inputs, trainColumns);
}

export const newJobId = () => `j${randomUUID().replaceAll("-", "").slice(0, 20)}`;
export type { Column };
