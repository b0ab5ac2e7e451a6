// The per-value function of each fitted transformation. Batch and vector
// application both call exactly this kernel, so they cannot disagree.
//
// Missing input (null, or NaN in a float column) gives: null for scalers, log
// and bucketize; all zeros for one-hot; -1 for label encoding; the fill value
// for the imputer. Any non-finite numeric result is null.
import { InvalidArgumentError } from "@fti/errors";
import type { Value as ProtoValue } from "@fti/proto/fti/common/v1/types_pb";
import { Imputer_Strategy, type FittedTransformation } from "@fti/proto/fti/registry/v1/transformations_pb";
import type { FeatureType, ScalarType, ScalarValue, Value } from "@fti/schema";
import { categoryKey, valueFromProto } from "../values.js";
import { kindField, outputType } from "./rules.js";
import { isMissing } from "./statistics.js";

export type Kernel = (value: Value | undefined) => Value;

export interface Step {
  input: string;
  output: string;
  outputType: FeatureType;
  kernel: Kernel;
}

const toNumber = (v: Value): number => (typeof v === "bigint" ? Number(v) : (v as number));
const finite = (x: number): number | null => (x - x === 0 ? x : null);

/**
 * The kernel of one fitted transformation over a column of `input` type. The
 * transformation itself must already pass transformationViolations; this
 * checks the fitted parameters (wrong or missing → INVALID_ARGUMENT at `path`).
 */
export function compileStep(fitted: FittedTransformation, input: FeatureType, path: string): Step {
  const t = fitted.transformation!;
  const params = fitted.params;
  const bad = (description: string) => new InvalidArgumentError({ field: `${path}.params`, description });
  const expectParams = <C extends NonNullable<FittedTransformation["params"]["case"]>>(c: C) => {
    if (params.case !== c) throw bad(`${kindField[t.kind.case!]} needs fitted ${kindField[t.kind.case!]} parameters${params.case ? `, not ${params.case}` : ""}`);
    return params.value as Extract<FittedTransformation["params"], { case: C }>["value"];
  };
  const step = (kernel: Kernel, categories?: number): Step => ({ input: t.feature, output: t.output || t.feature, outputType: outputType(t, input, categories), kernel });

  switch (t.kind.case) {
    case "standardScaler": {
      const { mean, stddev } = expectParams("standardScaler");
      return step(stddev === 0 ? (v) => (isMissing(v) ? null : finite(toNumber(v) - mean)) : (v) => (isMissing(v) ? null : finite((toNumber(v) - mean) / stddev)));
    }
    case "minMaxScaler": {
      const { min, max } = expectParams("minMaxScaler");
      const range = max - min;
      return step(range === 0 ? (v) => (isMissing(v) ? null : 0) : (v) => (isMissing(v) ? null : finite((toNumber(v) - min) / range)));
    }
    case "robustScaler": {
      const { median, lower, upper } = expectParams("robustScaler");
      // A zero spread scales by 1 (only centres), as scikit-learn's RobustScaler does.
      const spread = upper - lower || 1;
      return step((v) => (isMissing(v) ? null : finite((toNumber(v) - median) / spread)));
    }
    case "oneHotEncoder": {
      const index = categoryIndex(expectParams("oneHotEncoder").categories, input, bad);
      const width = index.size;
      return step((v) => {
        const vector = new Float32Array(width);
        const i = isMissing(v) ? undefined : index.get(categoryKey(v as ScalarValue));
        if (i !== undefined) vector[i] = 1;
        return vector;
      }, width);
    }
    case "labelEncoder": {
      const index = categoryIndex(expectParams("labelEncoder").categories, input, bad);
      const codes = new Map([...index].map(([k, i]) => [k, BigInt(i)]));
      return step((v) => (isMissing(v) ? -1n : (codes.get(categoryKey(v as ScalarValue)) ?? -1n)));
    }
    case "imputer": {
      // A constant imputer has no fitted parameters: its fill value is in the transformation.
      const source = t.kind.value.strategy === Imputer_Strategy.CONSTANT ? t.kind.value.fillValue : expectParams("imputer").fillValue;
      const fill = valueFromProto(input as ScalarType, source);
      if ("problem" in fill) throw bad(`fill value: ${fill.problem}`);
      if (fill.value === null) throw bad("the fill value is missing");
      const value = fill.value;
      return step((v) => (isMissing(v) ? value : v));
    }
    case "log":
      // Outside the domain (x ≤ 0, or x ≤ −1 with plus_one) the result is null.
      return step(t.kind.value.plusOne ? (v) => (isMissing(v) ? null : finite(Math.log1p(toNumber(v)))) : (v) => (isMissing(v) ? null : finite(Math.log(toNumber(v)))));
    case "bucketize": {
      const source = t.kind.value.boundariesSource;
      const boundaries = source.case === "fixed" ? source.value.boundaries : expectParams("bucketize").boundaries;
      if (!boundaries.every((x, j) => Number.isFinite(x) && (j === 0 || x > boundaries[j - 1]!))) throw bad("bucket boundaries must be finite and strictly ascending");
      const b = Float64Array.from(boundaries);
      return step((v) => (isMissing(v) ? null : bucketOf(b, toNumber(v))));
    }
    default:
      throw InvalidArgumentError.field(`${path}.transformation.kind`, "set one transformation");
  }
}

/** The number of boundaries ≤ x: bucket 0 is below b0, bucket n at or above the last. */
function bucketOf(boundaries: Float64Array, x: number): number {
  let lo = 0;
  let hi = boundaries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (boundaries[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function categoryIndex(categories: ProtoValue[], input: FeatureType, bad: (d: string) => Error): Map<string | number | boolean | bigint, number> {
  const index = new Map<string | number | boolean | bigint, number>();
  categories.forEach((c, i) => {
    const v = valueFromProto(input as ScalarType, c);
    if ("problem" in v) throw bad(`category ${i}: ${v.problem}`);
    if (v.value === null) throw bad(`category ${i} is null`);
    const key = categoryKey(v.value);
    if (index.has(key)) throw bad(`category ${i} is a duplicate`);
    index.set(key, i);
  });
  return index;
}


