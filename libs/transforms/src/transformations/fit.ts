// Fitting: the parameters of each transformation, learned from a train split
// only. Transformations are fitted in order, each on the columns as the
// previous ones left them, so an imputer placed before a scaler feeds it.
import { create } from "@bufbuild/protobuf";
import { FailedPreconditionError, InvalidArgumentError } from "@fti/errors";
import {
  BucketizerParamsSchema,
  CategoriesParamsSchema,
  FittedTransformationSchema,
  Imputer_Strategy,
  ImputerParamsSchema,
  MinMaxScalerParamsSchema,
  RobustScalerParamsSchema,
  StandardScalerParamsSchema,
  type FittedTransformation,
  type Transformation,
} from "@fti/proto/fti/registry/v1/transformations_pb";
import type { FeatureType, ScalarType, ScalarValue } from "@fti/schema";
import { batchLength, compareValues as compareScalar, valueToProto, type Column, type Columns } from "../values.js";
import { compileStep } from "./kernels.js";
import { kindField, robustQuantiles, transformationViolations } from "./rules.js";
import { frequencies, mean, quantile, sortedNumbers, stddev } from "./statistics.js";

/**
 * Fits `transformations` on a train split given as columns of `inputs` types.
 * Returns one FittedTransformation per transformation, in order. Throws
 * INVALID_ARGUMENT for a bad transformation (paths `${field}[i]...`) and
 * FAILED_PRECONDITION when a column that needs fitting has no non-missing
 * value in the split.
 */
export function fitTransformations(
  transformations: readonly Transformation[],
  inputs: readonly Column[],
  train: Columns,
  field = "feature_view.transformations",
): FittedTransformation[] {
  const violations = transformationViolations(transformations, inputs, field);
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  batchLength(train); // checks that the columns agree in length
  const types = new Map(inputs.map((c) => [c.name, c.type]));
  const columns: Columns = { ...train };
  return transformations.map((t, i) => {
    const input = types.get(t.feature)!;
    const values = columns[t.feature];
    if (values === undefined) throw InvalidArgumentError.field(`${field}[${i}].feature`, `the train split has no column "${t.feature}"`);
    const fitted = create(FittedTransformationSchema, { transformation: t, params: fitParams(t, input, values, `${field}[${i}]`) });
    const step = compileStep(fitted, input, `${field}[${i}]`);
    columns[step.output] = values.map(step.kernel);
    types.set(step.output, step.outputType);
    return fitted;
  });
}

function fitParams(t: Transformation, input: FeatureType, values: Columns[string], path: string): FittedTransformation["params"] {
  const kind = t.kind.case!;
  const empty = () =>
    new FailedPreconditionError(`${path} (${kindField[kind]} of "${t.feature}") cannot be fitted: the train split has no non-null values of "${t.feature}"`);
  const numbers = () => {
    const sorted = sortedNumbers(values);
    if (sorted.length === 0) throw empty();
    return sorted;
  };
  const categories = (max = 0) => {
    const counted = frequencies(values);
    if (counted.length === 0) throw empty();
    const kept = max > 0 ? counted.slice(0, max) : counted;
    // The vector (or code) order is ascending by value, whatever the frequencies.
    return create(CategoriesParamsSchema, { categories: kept.map((c) => c.value).sort(compareScalar).map((v) => valueToProto(input as ScalarType, v)) });
  };

  switch (t.kind.case) {
    case "standardScaler": {
      const sorted = numbers();
      const mu = mean(sorted);
      return { case: "standardScaler", value: create(StandardScalerParamsSchema, { mean: mu, stddev: stddev(sorted, mu) }) };
    }
    case "minMaxScaler": {
      const sorted = numbers();
      return { case: "minMaxScaler", value: create(MinMaxScalerParamsSchema, { min: sorted[0]!, max: sorted[sorted.length - 1]! }) };
    }
    case "robustScaler": {
      const sorted = numbers();
      const q = robustQuantiles(t as Transformation & { kind: { case: "robustScaler" } });
      return { case: "robustScaler", value: create(RobustScalerParamsSchema, { median: quantile(sorted, 0.5), lower: quantile(sorted, q.lower), upper: quantile(sorted, q.upper) }) };
    }
    case "oneHotEncoder":
      return { case: "oneHotEncoder", value: categories(t.kind.value.maxCategories) };
    case "labelEncoder":
      return { case: "labelEncoder", value: categories() };
    case "imputer": {
      const strategy = t.kind.value.strategy;
      if (strategy === Imputer_Strategy.CONSTANT) return { case: undefined };
      let fill: ScalarValue;
      if (strategy === Imputer_Strategy.MOST_FREQUENT) {
        const counted = frequencies(values);
        if (counted.length === 0) throw empty();
        fill = counted[0]!.value;
      } else {
        const sorted = numbers();
        fill = numericFill(strategy === Imputer_Strategy.MEAN ? mean(sorted) : quantile(sorted, 0.5), input);
      }
      return { case: "imputer", value: create(ImputerParamsSchema, { fillValue: valueToProto(input as ScalarType, fill) }) };
    }
    case "bucketize": {
      const source = t.kind.value.boundariesSource;
      if (source.case !== "quantileBuckets") return { case: undefined };
      const sorted = numbers();
      // k equal-frequency buckets need the k − 1 inner quantiles; repeated values
      // can make quantiles equal, and equal boundaries are merged (fewer buckets).
      const boundaries: number[] = [];
      for (let j = 1; j < source.value; j++) {
        const b = quantile(sorted, j / source.value);
        if (boundaries.length === 0 || b > boundaries[boundaries.length - 1]!) boundaries.push(b);
      }
      return { case: "bucketize", value: create(BucketizerParamsSchema, { boundaries }) };
    }
    default:
      return { case: undefined };
  }
}

/**
 * A mean or median as a value of the column's type: the imputer keeps the
 * input type, so integer columns get the statistic rounded half away from
 * zero, and float columns the nearest float32.
 */
function numericFill(x: number, type: FeatureType): ScalarValue {
  const rounded = x < 0 ? -Math.round(-x) : Math.round(x);
  if (type === "int32") return rounded;
  if (type === "int64") return BigInt(rounded);
  if (type === "float") return Math.fround(x);
  return x;
}
