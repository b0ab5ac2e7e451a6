// What makes a feature group valid, and which changes an existing version can
// take in place (appending nullable features) versus which need a new version.
import type { FieldViolation } from "@fti/errors";
import type { FeatureGroup } from "@fti/proto/fti/registry/v1/feature_group_pb";
import { schemaViolations, typeName, type FeatureGroupSchema } from "@fti/schema";
import { featureTypeOf, idViolations, isNumeric, tagViolations } from "./validation.js";

/** The feature group's schema as the storage engines see it. */
export function storageSchema(fg: FeatureGroup): FeatureGroupSchema {
  const ttlSeconds = fg.ttl ? Number(fg.ttl.seconds) + fg.ttl.nanos / 1e9 : undefined;
  return {
    features: (fg.schema?.features ?? []).map((f) => ({ name: f.name, type: featureTypeOf(f.type), nullable: f.nullable })),
    primaryKey: fg.primaryKey,
    eventTime: fg.eventTime,
    ttlSeconds,
  };
}

/** Every problem with a feature group definition, with paths under `prefix`. */
export function featureGroupViolations(fg: FeatureGroup, prefix = "feature_group"): FieldViolation[] {
  const schema = storageSchema(fg);
  // @fti/schema names key, event-time and TTL paths under the schema; on the
  // wire they are fields of the feature group itself.
  const v = schemaViolations(schema, `${prefix}.schema`).map((x) => ({
    ...x,
    field: x.field.replace(`${prefix}.schema.primary_key`, `${prefix}.primary_key`).replace(`${prefix}.schema.event_time`, `${prefix}.event_time`).replace(`${prefix}.schema.ttl`, `${prefix}.ttl`),
  }));
  v.push(...tagViolations(fg.tags, `${prefix}.tags`));
  const byName = new Map(schema.features.map((f) => [f.name, f]));
  (fg.schema?.features ?? []).forEach((f, i) => {
    v.push(...tagViolations(f.tags, `${prefix}.schema.features[${i}].tags`));
    if (f.nullable === true && (fg.primaryKey.includes(f.name) || fg.eventTime === f.name))
      v.push({ field: `${prefix}.schema.features[${i}].nullable`, description: `"${f.name}" is a key or event-time column, which is never nullable` });
  });
  const expectationNames = new Set<string>();
  fg.expectations.forEach((e, i) => {
    const at = `${prefix}.expectations[${i}]`;
    v.push(...idViolations(e.name, `${at}.name`));
    if (expectationNames.has(e.name)) v.push({ field: `${at}.name`, description: `duplicate expectation name "${e.name}"` });
    expectationNames.add(e.name);
    const feature = byName.get(e.feature);
    if (e.kind.case === undefined) v.push({ field: `${at}.kind`, description: "set one rule (not_null, range, allowed_values, regex, unique_key, mean_between, stddev_between)" });
    if (e.kind.case === "uniqueKey") {
      e.kind.value.columns.forEach((c, j) => {
        if (!byName.has(c)) v.push({ field: `${at}.unique_key.columns[${j}]`, description: `"${c}" is not a feature of the schema` });
      });
      return;
    }
    if (!feature) {
      v.push({ field: `${at}.feature`, description: e.feature ? `"${e.feature}" is not a feature of the schema` : "is required" });
      return;
    }
    if (e.kind.case === "range" || e.kind.case === "meanBetween" || e.kind.case === "stddevBetween") {
      const rule = { range: "range", meanBetween: "mean_between", stddevBetween: "stddev_between" }[e.kind.case];
      if (!isNumeric(feature.type)) v.push({ field: `${at}.feature`, description: `"${e.feature}" is ${typeName(feature.type)}; ${rule} needs a numeric feature` });
      const { min, max } = e.kind.value;
      if (min !== undefined && max !== undefined && min > max) v.push({ field: `${at}.${rule}`, description: "min is greater than max" });
    }
    if (e.kind.case === "regex") {
      if (feature.type !== "string") v.push({ field: `${at}.feature`, description: `"${e.feature}" is ${typeName(feature.type)}; regex needs a string feature` });
      try {
        new RegExp(`^(?:${e.kind.value.pattern})$`);
      } catch {
        v.push({ field: `${at}.regex.pattern`, description: "is not a valid ECMAScript regular expression" });
      }
    }
  });
  (fg.statisticsConfig?.features ?? []).forEach((f, i) => {
    if (!byName.has(f)) v.push({ field: `${prefix}.statistics_config.features[${i}]`, description: `"${f}" is not a feature of the schema` });
  });
  return v;
}

/**
 * Why `next` cannot replace `current`'s schema in place: each entry says what
 * breaks. Empty when `next` keeps every feature as it was (descriptions and
 * tags may change) and only appends nullable features.
 */
export function breakingSchemaChanges(current: FeatureGroup, next: FeatureGroup): string[] {
  const problems: string[] = [];
  const before = storageSchema(current).features;
  const after = storageSchema(next).features;
  const afterByName = new Map(after.map((f, i) => [f.name, { f, i }]));
  before.forEach((f, i) => {
    const now = afterByName.get(f.name);
    if (!now) problems.push(`feature "${f.name}" is removed`);
    else if (typeName(now.f.type) !== typeName(f.type)) problems.push(`feature "${f.name}" changes type from ${typeName(f.type)} to ${typeName(now.f.type)}`);
    else if ((now.f.nullable ?? true) !== (f.nullable ?? true)) problems.push(`feature "${f.name}" changes nullability`);
    else if (now.i !== i) problems.push(`feature "${f.name}" moves from position ${i} to ${now.i}`);
  });
  const known = new Set(before.map((f) => f.name));
  for (const f of after) if (!known.has(f.name) && f.nullable === false) problems.push(`new feature "${f.name}" is not nullable (existing rows have no value for it)`);
  return problems;
}
