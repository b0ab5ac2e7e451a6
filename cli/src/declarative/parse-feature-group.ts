// A `feature_groups:` entry → a FeatureGroup message, checking what the
// registry would check (names, types, keys, event time, expectations) so the
// mistake is reported at its line before any service is called.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { ExpectationPolicy, ExpectationSchema, FeatureGroupSchema } from "@fti/proto/fti/registry/v1/feature_group_pb";
import { featureTypeToWire } from "@fti/record-batch";
import { typeName, type FeatureType } from "@fti/schema";
import { parseFeatureType } from "../values.js";
import type { FeatureGroupDefinition } from "./definitions.js";
import { idPattern, type Reader } from "./reader.js";
import type { Path } from "./source.js";
import { valueMessage } from "./typed-values.js";

const groupKeys = ["name", "description", "owner", "tags", "features", "primary_key", "event_time", "online_enabled", "ttl", "expectation_policy", "expectations", "statistics"];
const featureKeys = ["name", "type", "nullable", "description", "tags"];
const ruleKinds = ["not_null", "range", "allowed_values", "regex", "unique_key", "mean_between", "stddev_between"] as const;
const keyTypes = ["bool", "int32", "int64", "string", "timestamp"];
const numeric = ["int32", "int64", "float", "double"];

export function parseFeatureGroup(r: Reader, value: unknown, path: Path, project: string): FeatureGroupDefinition | undefined {
  const o = r.object(value, path, groupKeys);
  if (!o) return undefined;
  const id = r.id(o.name, [...path, "name"]);
  const types = new Map<string, FeatureType | undefined>();
  const features = r.list(o.features, [...path, "features"]).flatMap((f, i) => {
    const at = [...path, "features", i];
    const fo = r.object(f, at, featureKeys);
    if (!fo) return [];
    const name = r.id(fo.name, [...at, "name"]);
    const typeText = r.string(fo.type, [...at, "type"], true);
    const type = typeText === undefined ? undefined : parseFeatureType(typeText);
    if (typeText !== undefined && !type) r.error([...at, "type"], `unknown type "${typeText}"; use bool, int32, int64, float, double, string, bytes, timestamp, array<scalar> or embedding<n>`);
    if (name && types.has(name)) r.error([...at, "name"], `duplicate feature "${name}"`);
    // A feature with a wrong type still exists: no second error where it is used.
    if (name) types.set(name, type);
    if (!name || !type) return [];
    return [{ name, type: featureTypeToWire(type), nullable: r.bool(fo.nullable, [...at, "nullable"]), description: r.string(fo.description, [...at, "description"]) ?? "", tags: r.tags(fo.tags, [...at, "tags"]) }];
  });
  if (features.length === 0 && !r.problems.some((p) => p.field.startsWith(`${fieldOf(path)}.features`))) r.error([...path, "features"], "is required: list the features (columns), including the key and event-time columns");

  const primaryKey = r.strings(o.primary_key, [...path, "primary_key"]);
  if (primaryKey.length === 0) r.error([...path, "primary_key"], "is required: the entity key column(s)");
  primaryKey.forEach((k, i) => {
    const t = types.get(k);
    const at = typeof o.primary_key === "string" ? [...path, "primary_key"] : [...path, "primary_key", i];
    if (!types.has(k)) r.error(at, `"${k}" is not one of the features; add it to features or fix the name`);
    else if (t && (typeof t !== "string" || !keyTypes.includes(t))) r.error(at, `"${k}" has type ${typeName(t)}; a key column must be ${keyTypes.join(", ")}`);
  });
  const eventTime = r.string(o.event_time, [...path, "event_time"], true);
  if (eventTime !== undefined) {
    const t = types.get(eventTime);
    if (!types.has(eventTime)) r.error([...path, "event_time"], `"${eventTime}" is not one of the features; add it as a timestamp feature`);
    else if (t && t !== "timestamp") r.error([...path, "event_time"], `"${eventTime}" must be a timestamp feature, not ${typeName(t)}`);
  }
  for (const [i, f] of features.entries()) {
    if (f.nullable === true && (primaryKey.includes(f.name) || f.name === eventTime)) r.error([...path, "features", i, "nullable"], `"${f.name}" is a key or event-time column, which is never nullable; remove nullable`);
  }

  const ttl = r.duration(o.ttl, [...path, "ttl"]);
  const policy = r.choice(o.expectation_policy, [...path, "expectation_policy"], ["strict", "always"] as const);
  const expectationNames = new Set<string>();
  const expectations = r.list(o.expectations, [...path, "expectations"]).flatMap((e, i) => {
    const exp = parseExpectation(r, e, [...path, "expectations", i], types);
    if (exp?.name && expectationNames.has(exp.name)) r.error([...path, "expectations", i, "name"], `duplicate expectation "${exp.name}"`);
    if (exp?.name) expectationNames.add(exp.name);
    return exp ? [exp] : [];
  });
  const statistics = parseStatistics(r, o.statistics, [...path, "statistics"], types);
  if (!id) return undefined;
  const featureGroup = create(FeatureGroupSchema, {
    description: r.string(o.description, [...path, "description"]) ?? "",
    owner: r.string(o.owner, [...path, "owner"]) ?? "",
    tags: r.tags(o.tags, [...path, "tags"]),
    schema: { features },
    primaryKey,
    eventTime: eventTime ?? "",
    onlineEnabled: r.bool(o.online_enabled, [...path, "online_enabled"]) ?? false,
    ttl: ttl === undefined ? undefined : { seconds: BigInt(Math.floor(ttl)), nanos: Math.round((ttl % 1) * 1e9) },
    expectations,
    expectationPolicy: policy === "always" ? ExpectationPolicy.ALWAYS : policy === "strict" ? ExpectationPolicy.STRICT : ExpectationPolicy.UNSPECIFIED,
    statisticsConfig: statistics,
  });
  return { project, id, at: r.at([...path, "name"]), featureGroup, types };
}

function fieldOf(path: Path): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("").slice(1);
}

function parseExpectation(r: Reader, value: unknown, path: Path, types: Map<string, FeatureType | undefined>): MessageInitShape<typeof ExpectationSchema> | undefined {
  const o = r.object(value, path, ["name", "feature", "description", ...ruleKinds]);
  if (!o) return undefined;
  const name = r.string(o.name, [...path, "name"], true);
  if (name !== undefined && !idPattern.test(name)) r.error([...path, "name"], `"${name}" must be lowercase letters, digits and _, starting with a letter`);
  const rules = ruleKinds.filter((k) => o[k] !== undefined);
  if (rules.length !== 1) {
    r.error(path, rules.length ? `set exactly one rule, not ${rules.join(" and ")}` : `set one rule: ${ruleKinds.join(", ")}`);
    return undefined;
  }
  const rule = rules[0]!;
  const feature = rule === "unique_key" ? (r.string(o.feature, [...path, "feature"]) ?? "") : (r.string(o.feature, [...path, "feature"], true) ?? "");
  const type = types.get(feature);
  if (rule !== "unique_key" && feature && !types.has(feature)) r.error([...path, "feature"], `"${feature}" is not one of the group's features`);
  const needs = (ok: boolean, what: string) => {
    if (type && !ok) r.error([...path, "feature"], `"${feature}" is ${typeName(type)}; ${rule} needs ${what}`);
  };
  const bounds = (v: unknown, at: Path) => {
    const b = r.object(v, at, ["min", "max"]);
    const min = r.number(b?.min, [...at, "min"]);
    const max = r.number(b?.max, [...at, "max"]);
    if (min !== undefined && max !== undefined && min > max) r.error(at, `min ${min} is greater than max ${max}`);
    return { min, max };
  };
  const at = [...path, rule];
  const base = { name: name ?? "", feature, description: r.string(o.description, [...path, "description"]) ?? "" };
  switch (rule) {
    case "not_null":
      return { ...base, kind: { case: "notNull", value: {} } };
    case "range":
      needs(typeof type === "string" && numeric.includes(type), "a numeric feature");
      return { ...base, kind: { case: "range", value: bounds(o.range, at) } };
    case "mean_between":
      needs(typeof type === "string" && numeric.includes(type), "a numeric feature");
      return { ...base, kind: { case: "meanBetween", value: bounds(o.mean_between, at) } };
    case "stddev_between":
      needs(typeof type === "string" && numeric.includes(type), "a numeric feature");
      return { ...base, kind: { case: "stddevBetween", value: bounds(o.stddev_between, at) } };
    case "allowed_values": {
      const values = r.list(o.allowed_values, at).flatMap((v, i) => {
        const m = type ? valueMessage(r, v, type, [...at, i]) : undefined;
        return m ? [m] : [];
      });
      return { ...base, kind: { case: "allowedValues", value: { values } } };
    }
    case "regex": {
      needs(type === "string", "a string feature");
      const pattern = r.string(o.regex, at, true) ?? "";
      try {
        new RegExp(`^(?:${pattern})$`);
      } catch {
        r.error(at, `"${pattern}" is not a valid regular expression`);
      }
      return { ...base, kind: { case: "regex", value: { pattern } } };
    }
    case "unique_key": {
      const columns = o.unique_key === true ? [] : r.strings(o.unique_key, at);
      columns.forEach((c, i) => {
        if (!types.has(c)) r.error([...at, i], `"${c}" is not one of the group's features`);
      });
      return { ...base, kind: { case: "uniqueKey", value: { columns } } };
    }
  }
}

function parseStatistics(r: Reader, value: unknown, path: Path, types: Map<string, FeatureType | undefined>) {
  if (value === undefined || value === null) return undefined;
  const o = r.object(value, path, ["disabled", "features", "histogram_bins", "top_k"]);
  if (!o) return undefined;
  const features = r.strings(o.features, [...path, "features"]);
  features.forEach((f, i) => {
    if (!types.has(f)) r.error([...path, "features", i], `"${f}" is not one of the group's features`);
  });
  return {
    disabled: r.bool(o.disabled, [...path, "disabled"]) ?? false,
    features,
    histogramBins: r.number(o.histogram_bins, [...path, "histogram_bins"], { integer: true, min: 1, max: 1000 }) ?? 0,
    topK: r.number(o.top_k, [...path, "top_k"], { integer: true, min: 1, max: 1000 }) ?? 0,
  };
}
