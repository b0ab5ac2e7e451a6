// A training dataset's fitted transformations, as the model sees them. The
// dataset's Parquet files hold untransformed values; online serving applies the
// view's transformations with the dataset's fitted parameters to every feature
// vector before the model. So trainers, evaluation and the ONNX check must see
// the same transformed columns: compiled here with @fti/transforms over the
// same inputs online serving compiles them over (the view's output columns and
// request parameters, with the view's types), and applied to the columns read
// from the files (see readSplit).
import { ConnectError } from "@connectrpc/connect";
import type { FeatureView } from "@fti/proto/fti/registry/v1/feature_view_pb";
import type { TrainingDataset } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import type { RegistryClient } from "@fti/registry-client";
import type { FeatureType, Value } from "@fti/schema";
import { compileTransformations, featureTypeFromProto, outputName, type Column as TypedColumn, type TransformationPipeline } from "@fti/transforms";
import { JobFailure, type Column } from "./dataset.js";

export interface DatasetTransformations {
  /** The training dataset whose fitted parameters these are. */
  dataset: string;
  pipeline: TransformationPipeline;
  /** Columns a transformation writes (in place or new): their values come from the pipeline. */
  outputs: ReadonlySet<string>;
  /** Stored columns the pipeline reads, with their feature types: read from the files as they are. */
  reads: readonly TypedColumn[];
}

/**
 * The dataset's fitted transformations compiled over its feature view's
 * columns; undefined when it has none. `stored` are the columns of the files:
 * a transformation input missing from them reads as null (as online).
 */
export async function datasetTransformations(registry: RegistryClient, dataset: TrainingDataset, stored: readonly Column[], view?: FeatureView): Promise<DatasetTransformations | undefined> {
  const fitted = dataset.fittedTransformations;
  if (fitted.length === 0) return undefined;
  if (!view) {
    view = await registry.getFeatureView({ name: dataset.featureView }).then(
      (r) => r.featureView!,
      (err: unknown) => {
        throw new JobFailure(`cannot read ${dataset.featureView} for the fitted transformations of ${dataset.name}: ${ConnectError.from(err).rawMessage}`);
      },
    );
  }
  const inputs: TypedColumn[] = [];
  for (const f of [...(view.outputSchema?.features ?? []), ...view.requestParameters]) {
    const type = featureTypeFromProto(f.type);
    if (type) inputs.push({ name: f.name, type });
  }
  let pipeline: TransformationPipeline;
  try {
    pipeline = compileTransformations(fitted, inputs);
  } catch (err) {
    throw new JobFailure(`the fitted transformations of ${dataset.name} do not apply to ${view.name}: ${(err as Error).message}`);
  }
  const storedNames = new Set(stored.map((c) => c.name));
  const read = new Set(fitted.map((f) => f.transformation!.feature));
  return {
    dataset: dataset.name,
    pipeline,
    outputs: new Set(fitted.map((f) => outputName(f.transformation!))),
    reads: inputs.filter((c) => read.has(c.name) && storedNames.has(c.name)),
  };
}

/**
 * The columns after the transformations, as ReadTrainingDataset with
 * apply_transformations gives them: the stored columns in file order (a column
 * transformed in place takes its output type), then the new outputs in order.
 */
export function transformedColumns(stored: readonly Column[], t: DatasetTransformations | undefined): Column[] {
  if (!t) return [...stored];
  const after = new Map(t.pipeline.columns.filter((c) => t.outputs.has(c.name)).map((c) => [c.name, { name: c.name, type: duckDbType(c.type) }]));
  const names = new Set(stored.map((c) => c.name));
  return [...stored.map((c) => after.get(c.name) ?? c), ...[...after.values()].filter((c) => !names.has(c.name))];
}

/** The DuckDB name of a feature type, so transformed and stored columns are described alike. */
export function duckDbType(type: FeatureType): string {
  if (typeof type === "object") return "embedding" in type ? `FLOAT[${type.embedding}]` : `${duckDbType(type.array)}[]`;
  const names: Record<string, string> = { bool: "BOOLEAN", int32: "INTEGER", int64: "BIGINT", float: "FLOAT", double: "DOUBLE", string: "VARCHAR", bytes: "BLOB", timestamp: "TIMESTAMP WITH TIME ZONE" };
  return names[type]!;
}

/** A value as DuckDB's JS reader gives it, in @fti/schema's in-memory form for `type` (what the online store gives serving). */
export function schemaValue(type: FeatureType, value: unknown): Value {
  if (value === null || value === undefined) return null;
  switch (type) {
    case "int64":
      return typeof value === "bigint" ? value : BigInt(Math.trunc(Number(value)));
    case "int32":
    case "double":
      return Number(value);
    case "float":
      return Math.fround(Number(value));
    case "bool":
      return Boolean(value);
    case "string":
      return String(value);
    case "timestamp":
      return value instanceof Date ? value : new Date(value as string);
    case "bytes":
      return value instanceof Uint8Array ? new Uint8Array(value) : null;
    default:
      if ("embedding" in type) return Float32Array.from(value as number[]);
      return (value as unknown[]).map((v) => schemaValue(type.array, v)) as Value;
  }
}
