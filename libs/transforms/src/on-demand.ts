// On-demand (request-time) features: each is an expression over request
// parameters, looked-up features and the on-demand features listed before it.
// Compiled once per feature view; evaluated per vector online and per batch
// offline through the same compiled closures, so training and serving agree.
import { InvalidArgumentError, type FieldViolation } from "@fti/errors";
import type { OnDemandFeature } from "@fti/proto/fti/registry/v1/feature_view_pb";
import { typeName, type FeatureType, type Row, type Value } from "@fti/schema";
import { compile } from "./expression/compiler.js";
import { describeExpressionError, ExpressionError } from "./expression/errors.js";
import { inputType, outputConverter, type RuntimeValue } from "./expression/types.js";
import { batchLength, copyToExtend, featureTypeFromProto, type Column, type Columns } from "./values.js";

/** An on-demand feature in @fti/schema's terms (the proto message is accepted too). */
export interface OnDemandFeatureSpec {
  name: string;
  type: FeatureType;
  expression: string;
}

export interface OnDemandFeatures {
  /** The columns the features add, in order, with their declared types. */
  readonly columns: readonly Column[];
  /** The feature values for one vector, in `columns` order. */
  evaluateVector(row: Row): Value[];
  /** `row` plus the on-demand columns, as a new row. */
  applyVector(row: Row): Row;
  /** One array per on-demand column, `rowCount` long (default: the length of the batch's columns). */
  evaluateBatch(columns: Columns, rowCount?: number): Value[][];
  /** The batch plus the on-demand columns, as a new column map (input arrays are shared, not copied). */
  applyBatch(columns: Columns, rowCount?: number): Columns;
}

interface CompiledFeature {
  name: string;
  slots: { name: string; read: (v: Value | undefined) => RuntimeValue; computed: number }[];
  evaluate: (slots: readonly RuntimeValue[]) => RuntimeValue;
  output: (v: RuntimeValue) => Value;
}

/**
 * Type-checks and compiles a feature view's on-demand features over its input
 * columns. Every problem is reported at once as INVALID_ARGUMENT, at
 * `${field}[i].name`, `.type` or `.expression`. A column missing from a row or
 * batch at evaluation time reads as null.
 */
export function compileOnDemandFeatures(
  features: readonly (OnDemandFeature | OnDemandFeatureSpec)[],
  inputs: readonly Column[],
  field = "feature_view.on_demand_features",
): OnDemandFeatures {
  const violations: FieldViolation[] = [];
  const known = new Map<string, FeatureType>(inputs.map((c) => [c.name, c.type]));
  const computedIndex = new Map<string, number>();
  const compiled: CompiledFeature[] = [];
  const columns: Column[] = [];

  features.forEach((f, i) => {
    const path = `${field}[${i}]`;
    const type = "$typeName" in f ? featureTypeFromProto(f.type) : f.type;
    if (known.has(f.name)) violations.push({ field: `${path}.name`, description: `"${f.name}" is already a column of the view` });
    if (type === undefined) {
      violations.push({ field: `${path}.type`, description: "is required" });
      return;
    }
    if (typeof type !== "string") {
      violations.push({ field: `${path}.type`, description: `on-demand features have a scalar type, not ${typeName(type)}` });
      return;
    }
    try {
      const expression = compile(f.expression, known);
      const output = outputConverter(expression.type, type);
      if (typeof output === "string") {
        violations.push({ field: `${path}.expression`, description: `${output}: \`${f.expression}\`` });
      } else {
        const slots = expression.slots.map((s) => ({ ...s, computed: computedIndex.get(s.name) ?? -1 }));
        compiled.push({ name: f.name, slots, evaluate: expression.evaluate, output });
      }
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      violations.push({ field: `${path}.expression`, description: describeExpressionError(f.expression, err) });
    }
    // Later features may use this one, by its declared type, even if its own expression failed.
    if (!known.has(f.name) && typeof inputType(type) !== "string") {
      known.set(f.name, type);
      computedIndex.set(f.name, columns.length);
    }
    columns.push({ name: f.name, type });
  });
  if (violations.length > 0) throw new InvalidArgumentError(violations);

  const maxSlots = Math.max(0, ...compiled.map((c) => c.slots.length));
  // Reused across calls: evaluation is synchronous, so one buffer cannot be shared by two runs.
  const buffer: RuntimeValue[] = new Array(maxSlots).fill(null);

  function evaluateVector(row: Row): Value[] {
    const values: Value[] = new Array(compiled.length);
    for (let j = 0; j < compiled.length; j++) {
      const f = compiled[j]!;
      for (let k = 0; k < f.slots.length; k++) {
        const slot = f.slots[k]!;
        buffer[k] = slot.read(slot.computed >= 0 ? values[slot.computed] : row[slot.name]);
      }
      values[j] = f.output(f.evaluate(buffer));
    }
    return values;
  }

  function evaluateBatch(input: Columns, rowCount = batchLength(input)): Value[][] {
    const out: Value[][] = [];
    for (let j = 0; j < compiled.length; j++) {
      const f = compiled[j]!;
      const sources = f.slots.map((s) => (s.computed >= 0 ? out[s.computed] : input[s.name]));
      const values: Value[] = new Array(rowCount);
      for (let i = 0; i < rowCount; i++) {
        for (let k = 0; k < f.slots.length; k++) buffer[k] = f.slots[k]!.read(sources[k]?.[i]);
        values[i] = f.output(f.evaluate(buffer));
      }
      out.push(values);
    }
    return out;
  }

  return {
    columns,
    evaluateVector,
    applyVector(row) {
      const values = evaluateVector(row);
      const out: Row = copyToExtend(row);
      columns.forEach((c, j) => (out[c.name] = values[j]!));
      return out;
    },
    evaluateBatch,
    applyBatch(input, rowCount) {
      const values = evaluateBatch(input, rowCount);
      const out: Columns = copyToExtend(input);
      columns.forEach((c, j) => (out[c.name] = values[j]!));
      return out;
    },
  };
}
