// A `feature_views:` entry → a FeatureView message with its feature group
// references left to resolve (a group of the same files, or a registered one).
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { FeatureViewSchema } from "@fti/proto/fti/registry/v1/feature_view_pb";
import { Imputer_Strategy, TransformationSchema } from "@fti/proto/fti/registry/v1/transformations_pb";
import { ValueSchema } from "@fti/proto/fti/common/v1/types_pb";
import { featureTypeToWire } from "@fti/record-batch";
import { parseFeatureType } from "../values.js";
import type { FeatureViewDefinition, GroupReference } from "./definitions.js";
import type { Reader } from "./reader.js";
import type { Path } from "./source.js";

const viewKeys = ["name", "description", "owner", "tags", "root", "joins", "labels", "request_parameters", "on_demand_features", "transformations"];
const transformationKinds = ["standard_scaler", "min_max_scaler", "robust_scaler", "one_hot_encoder", "label_encoder", "imputer", "log", "bucketize"] as const;

export function parseFeatureView(r: Reader, value: unknown, path: Path, project: string): FeatureViewDefinition | undefined {
  const o = r.object(value, path, viewKeys);
  if (!o) return undefined;
  const id = r.id(o.name, [...path, "name"]);
  if (o.root === undefined) r.error([...path, "root"], "is required: the root feature group, e.g. root: {feature_group: transactions}");
  const root = o.root === undefined ? undefined : selection(r, o.root, [...path, "root"], false);
  const joins = r.list(o.joins, [...path, "joins"]).flatMap((j, i) => {
    const s = selection(r, j, [...path, "joins", i], true);
    return s ? [s] : [];
  });
  const requestParameters = r.list(o.request_parameters, [...path, "request_parameters"]).flatMap((p, i) => {
    const at = [...path, "request_parameters", i];
    const po = r.object(p, at, ["name", "type", "description"]);
    const name = r.id(po?.name, [...at, "name"]);
    const type = typed(r, po?.type, [...at, "type"]);
    return po && name && type ? [{ name, type: featureTypeToWire(type), description: r.string(po.description, [...at, "description"]) ?? "" }] : [];
  });
  const onDemandFeatures = r.list(o.on_demand_features, [...path, "on_demand_features"]).flatMap((p, i) => {
    const at = [...path, "on_demand_features", i];
    const po = r.object(p, at, ["name", "type", "expression", "description"]);
    const name = r.id(po?.name, [...at, "name"]);
    const type = typed(r, po?.type, [...at, "type"]);
    const expression = r.string(po?.expression, [...at, "expression"], true);
    return po && name && type && expression ? [{ name, type: featureTypeToWire(type), expression, description: r.string(po.description, [...at, "description"]) ?? "" }] : [];
  });
  const transformations = r.list(o.transformations, [...path, "transformations"]).flatMap((t, i) => {
    const m = transformation(r, t, [...path, "transformations", i]);
    return m ? [m] : [];
  });
  if (!id || !root) return undefined;
  const featureView = create(FeatureViewSchema, {
    description: r.string(o.description, [...path, "description"]) ?? "",
    owner: r.string(o.owner, [...path, "owner"]) ?? "",
    tags: r.tags(o.tags, [...path, "tags"]),
    root: { features: root.features, prefix: root.prefix },
    joins: joins.map((j) => ({ selection: { features: j.features, prefix: j.prefix }, keys: j.keys })),
    labelColumns: r.strings(o.labels, [...path, "labels"]),
    requestParameters,
    onDemandFeatures,
    transformations,
  });
  return { project, id, at: r.at([...path, "name"]), featureView, root: root.ref, joins: joins.map((j) => j.ref) };
}

function typed(r: Reader, value: unknown, path: Path) {
  const text = r.string(value, path, true);
  const type = text === undefined ? undefined : parseFeatureType(text);
  if (text !== undefined && !type) r.error(path, `unknown type "${text}"; use bool, int32, int64, float, double, string, bytes, timestamp, array<scalar> or embedding<n>`);
  return type;
}

interface ParsedSelection {
  ref: GroupReference;
  features: string[];
  prefix: string;
  keys: { left: string; right: string }[];
}

function selection(r: Reader, value: unknown, path: Path, isJoin: boolean): ParsedSelection | undefined {
  const o = r.object(value, path, isJoin ? ["feature_group", "version", "features", "prefix", "on"] : ["feature_group", "version", "features", "prefix"]);
  if (!o) return undefined;
  const group = r.id(o.feature_group, [...path, "feature_group"]);
  const version = r.number(o.version, [...path, "version"], { integer: true, min: 1 });
  const keys = !isJoin
    ? []
    : r.list(o.on, [...path, "on"]).flatMap((k, i) => {
        const at = [...path, "on", i];
        if (typeof k === "string") return [{ left: k, right: k }];
        const ko = r.object(k, at, ["left", "right"]);
        const left = r.string(ko?.left, [...at, "left"], true);
        const right = r.string(ko?.right, [...at, "right"], true);
        return left && right ? [{ left, right }] : [];
      });
  if (isJoin && keys.length === 0 && o.on === undefined) r.error([...path, "on"], "is required: the join keys, e.g. on: [merchant_id] or on: [{left: merchant_id, right: id}]");
  if (!group) return undefined;
  const features = r.strings(o.features, [...path, "features"]);
  const featuresAt = features.map((_, i) => r.at(typeof o.features === "string" ? [...path, "features"] : [...path, "features", i]));
  return { ref: { group, version, at: r.at([...path, "feature_group"]), featuresAt }, features, prefix: r.string(o.prefix, [...path, "prefix"]) ?? "", keys };
}

function transformation(r: Reader, value: unknown, path: Path): MessageInitShape<typeof TransformationSchema> | undefined {
  const o = r.object(value, path, ["feature", "output", ...transformationKinds]);
  if (!o) return undefined;
  const feature = r.string(o.feature, [...path, "feature"], true) ?? "";
  const output = r.string(o.output, [...path, "output"]) ?? "";
  const kinds = transformationKinds.filter((k) => k in o);
  if (kinds.length !== 1) {
    r.error(path, kinds.length ? `set exactly one transformation, not ${kinds.join(" and ")}` : `set one transformation: ${transformationKinds.join(", ")}`);
    return undefined;
  }
  const kind = kinds[0]!;
  const at = [...path, kind];
  // `standard_scaler:` with no options reads as null; `true` is accepted too.
  const options = o[kind] === null || o[kind] === true ? {} : o[kind];
  const base = { feature, output };
  switch (kind) {
    case "standard_scaler":
    case "min_max_scaler":
    case "label_encoder":
      r.object(options, at, []);
      return { ...base, kind: { case: kind === "standard_scaler" ? "standardScaler" : kind === "min_max_scaler" ? "minMaxScaler" : "labelEncoder", value: {} } };
    case "robust_scaler": {
      const q = r.object(options, at, ["lower_quantile", "upper_quantile"]);
      return { ...base, kind: { case: "robustScaler", value: { lowerQuantile: r.number(q?.lower_quantile, [...at, "lower_quantile"], { min: 0, max: 1 }) ?? 0, upperQuantile: r.number(q?.upper_quantile, [...at, "upper_quantile"], { min: 0, max: 1 }) ?? 0 } } };
    }
    case "one_hot_encoder": {
      const q = r.object(options, at, ["max_categories"]);
      return { ...base, kind: { case: "oneHotEncoder", value: { maxCategories: r.number(q?.max_categories, [...at, "max_categories"], { integer: true, min: 0 }) ?? 0 } } };
    }
    case "log": {
      const q = r.object(options, at, ["plus_one"]);
      return { ...base, kind: { case: "log", value: { plusOne: r.bool(q?.plus_one, [...at, "plus_one"]) ?? false } } };
    }
    case "imputer": {
      const q = r.object(options, at, ["strategy", "fill_value"]);
      const strategy = r.choice(q?.strategy, [...at, "strategy"], ["mean", "median", "most_frequent", "constant"] as const);
      if (!strategy) r.error([...at, "strategy"], "is required: mean, median, most_frequent or constant");
      const fill = q?.fill_value;
      if (strategy === "constant" && fill === undefined) r.error([...at, "fill_value"], "is required with strategy constant");
      const strategies = { mean: Imputer_Strategy.MEAN, median: Imputer_Strategy.MEDIAN, most_frequent: Imputer_Strategy.MOST_FREQUENT, constant: Imputer_Strategy.CONSTANT };
      return { ...base, kind: { case: "imputer", value: { strategy: strategy ? strategies[strategy] : Imputer_Strategy.UNSPECIFIED, fillValue: fill === undefined ? undefined : fillValue(r, fill, [...at, "fill_value"]) } } };
    }
    case "bucketize": {
      const q = r.object(options, at, ["boundaries", "quantile_buckets"]);
      if (q?.boundaries !== undefined) {
        const boundaries = r.list(q.boundaries, [...at, "boundaries"]).map((b, i) => r.number(b, [...at, "boundaries", i], { required: true }) ?? 0);
        if (boundaries.some((b, i) => i > 0 && b <= boundaries[i - 1]!)) r.error([...at, "boundaries"], "must be ascending");
        return { ...base, kind: { case: "bucketize", value: { boundariesSource: { case: "fixed", value: { boundaries } } } } };
      }
      const n = r.number(q?.quantile_buckets, [...at, "quantile_buckets"], { integer: true, min: 2, max: 1000, required: true }) ?? 0;
      return { ...base, kind: { case: "bucketize", value: { boundariesSource: { case: "quantileBuckets", value: n } } } };
    }
  }
}

/** A constant fill value; its type follows the YAML scalar (the registry checks it against the column). */
function fillValue(r: Reader, value: unknown, path: Path) {
  if (typeof value === "boolean") return create(ValueSchema, { kind: { case: "boolValue", value } });
  if (typeof value === "string") return create(ValueSchema, { kind: { case: "stringValue", value } });
  if (typeof value === "number") return create(ValueSchema, Number.isInteger(value) ? { kind: { case: "int64Value", value: BigInt(value) } } : { kind: { case: "doubleValue", value } });
  r.error(path, "must be a number, text or true/false");
  return undefined;
}
