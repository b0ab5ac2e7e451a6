// Applying fitted transformations: compiled once (per training dataset or
// deployment), then applied to one vector online or to a batch offline. Both
// run the same kernels in the same order.
import { InvalidArgumentError } from "@fti/errors";
import type { FittedTransformation } from "@fti/proto/fti/registry/v1/transformations_pb";
import type { Row, Value } from "@fti/schema";
import { batchLength, copyToExtend, type Column, type Columns } from "../values.js";
import { compileStep, type Step } from "./kernels.js";
import { transformationViolations } from "./rules.js";

export interface TransformationPipeline {
  /** The columns after the transformations, with their types: replaced columns keep their place, new outputs follow in order. */
  readonly columns: readonly Column[];
  /** The transformed vector, as a new row. A column missing from `row` reads as null. */
  applyVector(row: Row): Row;
  /** The transformed batch, as a new column map (untouched input arrays are shared, not copied). */
  applyBatch(columns: Columns, rowCount?: number): Columns;
}

/**
 * Compiles fitted transformations (as stored with a training dataset) over
 * input columns of the given types. Bad or missing parameters are
 * INVALID_ARGUMENT at `${field}[i]...`.
 */
export function compileTransformations(fitted: readonly FittedTransformation[], inputs: readonly Column[], field = "training_dataset.transformations"): TransformationPipeline {
  const missing = fitted.findIndex((f) => f.transformation === undefined);
  if (missing >= 0) throw InvalidArgumentError.field(`${field}[${missing}].transformation`, "is required");
  const violations = transformationViolations(fitted.map((f) => f.transformation!), inputs, field, (i) => `${field}[${i}].transformation`);
  if (violations.length > 0) throw new InvalidArgumentError(violations);

  const types = new Map(inputs.map((c) => [c.name, c.type]));
  const steps: Step[] = fitted.map((f, i) => {
    const step = compileStep(f, types.get(f.transformation!.feature)!, `${field}[${i}]`);
    types.set(step.output, step.outputType);
    return step;
  });
  const columns = [...types].map(([name, type]) => ({ name, type }));

  return {
    columns,
    applyVector(row) {
      const out: Row = copyToExtend(row);
      for (const step of steps) out[step.output] = step.kernel(out[step.input]);
      return out;
    },
    applyBatch(input, rowCount = batchLength(input)) {
      const out: Columns = copyToExtend(input);
      for (const step of steps) {
        const source = out[step.input];
        const values: Value[] = new Array(rowCount);
        for (let i = 0; i < rowCount; i++) values[i] = step.kernel(source?.[i]);
        out[step.output] = values;
      }
      return out;
    },
  };
}
