// Static checks of a list of transformations against the columns they read:
// what fitting and applying rely on. Also usable on its own, e.g. by the
// registry when a feature view is created.
import type { FieldViolation } from "@fti/errors";
import { Imputer_Strategy, type Transformation } from "@fti/proto/fti/registry/v1/transformations_pb";
import { typeName, type FeatureType, type ScalarType } from "@fti/schema";
import { valueFromProto, type Column } from "../values.js";

export type TransformationKind = NonNullable<Transformation["kind"]["case"]>;

/** The proto field name of each kind, for field paths. */
export const kindField: Record<TransformationKind, string> = {
  standardScaler: "standard_scaler",
  minMaxScaler: "min_max_scaler",
  robustScaler: "robust_scaler",
  oneHotEncoder: "one_hot_encoder",
  labelEncoder: "label_encoder",
  imputer: "imputer",
  log: "log",
  bucketize: "bucketize",
};

const numericTypes: ReadonlySet<FeatureType> = new Set(["int32", "int64", "float", "double"]);
export const isNumericType = (t: FeatureType) => numericTypes.has(t);
const isScalarType = (t: FeatureType): t is ScalarType => typeof t === "string";

/** The column a transformation writes: its output, or its input when output is empty. */
export const outputName = (t: Transformation) => t.output || t.feature;

/**
 * The output type of a transformation of a column of `input` type. One-hot
 * outputs an embedding as wide as its fitted categories; `categories` is that
 * count (unknown before fitting).
 */
export function outputType(t: Transformation, input: FeatureType, categories = 0): FeatureType {
  switch (t.kind.case) {
    case "oneHotEncoder":
      return { embedding: categories };
    case "labelEncoder":
      return "int64";
    case "bucketize":
      return "int32";
    case "imputer":
      return input;
    default:
      return "double";
  }
}

/** The robust scaler's quantiles with the proto's defaults applied. */
export function robustQuantiles(t: Transformation & { kind: { case: "robustScaler" } }): { lower: number; upper: number } {
  return { lower: t.kind.value.lowerQuantile || 0.25, upper: t.kind.value.upperQuantile || 0.75 };
}

/**
 * Every problem in `transformations` read in order over `inputs` (earlier
 * outputs are inputs of later ones), with paths `${field}[i]...` (or
 * `pathOf(i)...`).
 */
export function transformationViolations(
  transformations: readonly Transformation[],
  inputs: readonly Column[],
  field = "feature_view.transformations",
  pathOf = (i: number) => `${field}[${i}]`,
): FieldViolation[] {
  const v: FieldViolation[] = [];
  const types = new Map(inputs.map((c) => [c.name, c.type]));
  transformations.forEach((t, i) => {
    const path = pathOf(i);
    const input = types.get(t.feature);
    if (t.kind.case === undefined) {
      v.push({ field: `${path}.kind`, description: "set one transformation" });
      return;
    }
    if (input === undefined) {
      v.push({ field: `${path}.feature`, description: `"${t.feature}" is not a column at this point (columns: ${[...types.keys()].join(", ")})` });
      return;
    }
    if (t.output && t.output !== t.feature && types.has(t.output)) v.push({ field: `${path}.output`, description: `"${t.output}" is already a column; leave output empty to replace the input in place` });
    const kindPath = `${path}.${kindField[t.kind.case]}`;
    const needs = (ok: boolean, what: string) => {
      if (!ok) v.push({ field: `${path}.feature`, description: `${kindField[t.kind.case!]} needs ${what}; "${t.feature}" has type ${typeName(input)}` });
      return ok;
    };
    switch (t.kind.case) {
      case "standardScaler":
      case "minMaxScaler":
      case "log":
        needs(isNumericType(input), "a numeric column");
        break;
      case "robustScaler": {
        needs(isNumericType(input), "a numeric column");
        const { lower, upper } = robustQuantiles(t as Transformation & { kind: { case: "robustScaler" } });
        if (!(lower > 0 && lower < 1)) v.push({ field: `${kindPath}.lower_quantile`, description: "must be in (0, 1), or 0 for 0.25" });
        if (!(upper > 0 && upper < 1)) v.push({ field: `${kindPath}.upper_quantile`, description: "must be in (0, 1), or 0 for 0.75" });
        else if (!(lower < upper)) v.push({ field: `${kindPath}.upper_quantile`, description: `must be above lower_quantile (${lower})` });
        break;
      }
      case "oneHotEncoder":
      case "labelEncoder":
        needs(isScalarType(input), "a scalar column");
        break;
      case "imputer": {
        const { strategy, fillValue } = t.kind.value;
        if (!needs(isScalarType(input), "a scalar column")) break;
        if (strategy === Imputer_Strategy.MEAN || strategy === Imputer_Strategy.MEDIAN) needs(isNumericType(input), `a numeric column for ${Imputer_Strategy[strategy]}`);
        else if (strategy === Imputer_Strategy.CONSTANT) {
          const fill = valueFromProto(input as ScalarType, fillValue);
          if ("problem" in fill) v.push({ field: `${kindPath}.fill_value`, description: `${fill.problem} for column "${t.feature}"` });
          else if (fill.value === null) v.push({ field: `${kindPath}.fill_value`, description: "is required with STRATEGY_CONSTANT" });
        } else if (strategy !== Imputer_Strategy.MOST_FREQUENT) v.push({ field: `${kindPath}.strategy`, description: "set a strategy: MEAN, MEDIAN, MOST_FREQUENT or CONSTANT" });
        break;
      }
      case "bucketize": {
        needs(isNumericType(input), "a numeric column");
        const source = t.kind.value.boundariesSource;
        if (source.case === "fixed") {
          const b = source.value.boundaries;
          if (b.length === 0) v.push({ field: `${kindPath}.fixed.boundaries`, description: "give at least one boundary" });
          else if (!b.every((x, j) => Number.isFinite(x) && (j === 0 || x > b[j - 1]!))) v.push({ field: `${kindPath}.fixed.boundaries`, description: "must be finite and strictly ascending" });
        } else if (source.case === "quantileBuckets") {
          if (!(source.value >= 2 && source.value <= 1000)) v.push({ field: `${kindPath}.quantile_buckets`, description: "must be 2..1000" });
        } else {
          v.push({ field: `${kindPath}.boundaries_source`, description: "set fixed boundaries or quantile_buckets" });
        }
        break;
      }
    }
    types.set(outputName(t), outputType(t, input, 1));
  });
  return v;
}
