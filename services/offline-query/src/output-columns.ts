// The columns of a feature view read, in the contract's order: entity columns
// unchanged, then the view's output columns (looked up, then on-demand, in
// output_schema order, after transformations when asked), then label columns
// the entity rows lack. On-demand features and transformations run here, on
// each batch, with the same compiled code online-serving runs per vector.
import { InvalidArgumentError } from "@fti/errors";
import { encodeRecordBatch } from "@fti/record-batch";
import type { Column, Columns } from "@fti/transforms";
import type { FittedPipeline } from "./fitted-transformations.js";
import { batchValues, encoderColumn, type BatchColumn, type ColumnBatch } from "./result-stream.js";
import type { ViewPlan } from "./view-plan.js";

export interface OutputShape {
  columns: Column[];
  /** The batch's final columns: on-demand features added, transformations applied; undefined when there are none to run. */
  apply?(batch: ColumnBatch): Record<string, BatchColumn>;
}

export function outputShape(
  plan: ViewPlan,
  entityColumns: readonly Column[],
  options: { includeLabels: boolean; features?: readonly string[]; featuresField?: string; transformations?: FittedPipeline },
): OutputShape {
  const entityNames = new Set(entityColumns.map((c) => c.name));
  let outputs: Column[] = plan.outputs;
  if (options.transformations) {
    // Transformed columns keep their place; new ones follow.
    const after = new Map(options.transformations.columns.map((c) => [c.name, c]));
    const kept = plan.outputs.map((c) => after.get(c.name) ?? c);
    const known = new Set([...kept.map((c) => c.name), ...entityNames, ...plan.labelNames]);
    outputs = [...kept, ...options.transformations.columns.filter((c) => !known.has(c.name))];
  }
  const labels = options.includeLabels ? plan.rootLabels.filter((c) => !entityNames.has(c.name)) : [];
  let selected = [...outputs, ...labels];
  if (options.features?.length) {
    const byName = new Map(selected.map((c) => [c.name, c]));
    const violations = options.features.flatMap((name, i) => (byName.has(name) ? [] : [{ field: `${options.featuresField ?? "features"}[${i}]`, description: `"${name}" is not an output or label column of ${plan.view.name}` }]));
    if (violations.length) throw new InvalidArgumentError(violations);
    const wanted = new Set(options.features);
    selected = selected.filter((c) => wanted.has(c.name));
  }
  const columns = [...entityColumns, ...selected];
  const hasOnDemand = plan.onDemand.columns.length > 0;
  if (!hasOnDemand && !options.transformations) return { columns };
  return {
    columns,
    apply(batch) {
      // On-demand features and transformations work on values. On-demand expressions may read any
      // column, so the batch is boxed for them; transformations alone box only the columns they read.
      const transformations = options.transformations;
      let values: Columns = hasOnDemand ? plan.onDemand.applyBatch(batchValues(batch), batch.rowCount) : batchValues(batch, transformations!.inputs);
      if (transformations) values = transformations.applyBatch(values, batch.rowCount);
      return { ...batch.columns, ...values };
    },
  };
}

/** The wire RecordBatch bytes of a shaped batch; typed columns go to the encoder as they are. */
export function encodeBatch(shape: OutputShape, batch: ColumnBatch): Uint8Array {
  const columns = shape.apply ? shape.apply(batch) : batch.columns;
  return encodeRecordBatch(
    batch.rowCount,
    shape.columns.map((c) => encoderColumn(c, columns[c.name], batch.rowCount)),
  );
}
