// What makes a feature view valid against the feature groups it reads: the
// selected features exist, join keys cover the joined group's primary key
// with matching types, output names are unique. Also derives the view's
// serving keys and output schema.
import { create } from "@bufbuild/protobuf";
import { InvalidArgumentError, type FieldViolation } from "@fti/errors";
import { FeatureSchema$ as FeatureDesc, FeatureSchemaSchema, type Feature } from "@fti/proto/fti/common/v1/types_pb";
import type { FeatureGroup } from "@fti/proto/fti/registry/v1/feature_group_pb";
import type { FeatureGroupSelection, FeatureView } from "@fti/proto/fti/registry/v1/feature_view_pb";
import { typeName } from "@fti/schema";
import { compileOnDemandFeatures, featureTypeFromProto, transformationViolations, type Column } from "@fti/transforms";
import { featureTypeOf, idViolations, isKnownType, tagViolations } from "./validation.js";

const prefixPattern = /^[a-z][a-z0-9_]{0,31}$/;

/** The selections of a view in order: root first, then each join's. */
export function selectionsOf(view: FeatureView): { selection: FeatureGroupSelection | undefined; field: string }[] {
  return [{ selection: view.root, field: "feature_view.root" }, ...view.joins.map((j, i) => ({ selection: j.selection, field: `feature_view.joins[${i}].selection` }))];
}

export interface ViewPlan {
  violations: FieldViolation[];
  servingKeys: string[];
  outputSchema: Feature[];
}

/**
 * Checks `view` against its feature groups (`groups`, keyed by the resolved
 * version names its selections hold) and derives its outputs.
 */
export function planFeatureView(view: FeatureView, groups: ReadonlyMap<string, FeatureGroup>): ViewPlan {
  const v: FieldViolation[] = [];
  v.push(...tagViolations(view.tags, "feature_view.tags"));
  const outputs = new Map<string, Feature>();
  // Columns a join key's left side may use: every root group column by its
  // own name, then the output columns of earlier joins.
  const joinable = new Map<string, string>();

  const select = (selection: FeatureGroupSelection, field: string): Feature[] | undefined => {
    const group = groups.get(selection.featureGroup);
    if (!group) return undefined;
    if (selection.prefix !== "" && !prefixPattern.test(selection.prefix)) v.push({ field: `${field}.prefix`, description: "a prefix starts with a lowercase letter and holds lowercase letters, digits and _ (at most 32)" });
    const all = group.schema?.features ?? [];
    const byName = new Map(all.map((f) => [f.name, f]));
    const chosen = selection.features.length
      ? selection.features.flatMap((name, i) => {
          const f = byName.get(name);
          if (!f) v.push({ field: `${field}.features[${i}]`, description: `"${name}" is not a feature of ${selection.featureGroup}` });
          return f ? [f] : [];
        })
      : all.filter((f) => !group.primaryKey.includes(f.name) && f.name !== group.eventTime);
    const out = chosen.map((f) => ({ ...f, name: selection.prefix + f.name }));
    for (const f of out) {
      if (outputs.has(f.name)) v.push({ field: `${field}.features`, description: `output column "${f.name}" is produced twice; set a prefix` });
      outputs.set(f.name, f);
    }
    return out;
  };

  const root = view.root ? groups.get(view.root.featureGroup) : undefined;
  if (view.root && root) {
    for (const f of root.schema?.features ?? []) joinable.set(f.name, typeName(featureTypeOf(f.type)));
    select(view.root, "feature_view.root");
  }

  view.joins.forEach((join, j) => {
    const field = `feature_view.joins[${j}]`;
    const group = join.selection ? groups.get(join.selection.featureGroup) : undefined;
    if (!join.selection || !group) return;
    const groupTypes = new Map((group.schema?.features ?? []).map((f) => [f.name, typeName(featureTypeOf(f.type))]));
    const covered = new Set<string>();
    join.keys.forEach((key, k) => {
      const left = joinable.get(key.left);
      const right = groupTypes.get(key.right);
      if (!group.primaryKey.includes(key.right)) v.push({ field: `${field}.keys[${k}].right`, description: `"${key.right}" is not a primary key column of ${join.selection!.featureGroup} (${group.primaryKey.join(", ")})` });
      else if (covered.has(key.right)) v.push({ field: `${field}.keys[${k}].right`, description: `"${key.right}" is joined twice` });
      covered.add(key.right);
      if (left === undefined) v.push({ field: `${field}.keys[${k}].left`, description: `"${key.left}" is not a root group column or an output of an earlier join` });
      else if (right !== undefined && left !== right) v.push({ field: `${field}.keys[${k}].left`, description: `"${key.left}" is ${left} but "${key.right}" is ${right}; join keys must have the same type` });
    });
    const missing = group.primaryKey.filter((k) => !covered.has(k));
    if (missing.length) v.push({ field: `${field}.keys`, description: `every primary key column of the joined group needs a key; missing ${missing.join(", ")}` });
    for (const f of select(join.selection, `${field}.selection`) ?? []) joinable.set(f.name, typeName(featureTypeOf(f.type)));
  });

  const parameters = new Set<string>();
  view.requestParameters.forEach((p, i) => {
    v.push(...idViolations(p.name, `feature_view.request_parameters[${i}].name`));
    if (parameters.has(p.name)) v.push({ field: `feature_view.request_parameters[${i}].name`, description: `duplicate request parameter "${p.name}"` });
    parameters.add(p.name);
    if (!isKnownType(featureTypeOf(p.type))) v.push({ field: `feature_view.request_parameters[${i}].type`, description: "unknown or unset type" });
  });

  const baseColumns = [...outputs.values()];
  const onDemand: Feature[] = [];
  view.onDemandFeatures.forEach((f, i) => {
    const field = `feature_view.on_demand_features[${i}]`;
    v.push(...idViolations(f.name, `${field}.name`));
    if (outputs.has(f.name)) v.push({ field: `${field}.name`, description: `output column "${f.name}" already exists` });
    if (!isKnownType(featureTypeOf(f.type))) v.push({ field: `${field}.type`, description: "unknown or unset type" });
    if (f.expression.trim() === "") v.push({ field: `${field}.expression`, description: "is required" });
    const feature = create(FeatureDesc, { name: f.name, type: f.type, description: f.description });
    outputs.set(f.name, feature);
    onDemand.push(feature);
  });

  view.labelColumns.forEach((l, i) => v.push(...idViolations(l, `feature_view.label_columns[${i}]`)));

  const transformable = new Set(outputs.keys());
  view.transformations.forEach((t, i) => {
    const field = `feature_view.transformations[${i}]`;
    if (!transformable.has(t.feature)) v.push({ field: `${field}.feature`, description: `"${t.feature}" is not an output column of the view` });
    if (t.kind.case === undefined) v.push({ field: `${field}.kind`, description: "set one transformation" });
    if (t.output !== "") {
      v.push(...idViolations(t.output, `${field}.output`));
      transformable.add(t.output);
    }
  });

  // Expressions and transformations are checked by the library that runs them
  // (offline-query, serving), so a view that saves is a view that computes.
  if (v.length === 0) v.push(...computationViolations(view, baseColumns));

  const labels = new Set(view.labelColumns);
  const outputSchema = [...outputs.values()].filter((f) => !labels.has(f.name));
  return { violations: v, servingKeys: root ? [...root.primaryKey] : [], outputSchema };
}

function computationViolations(view: FeatureView, baseColumns: Feature[]): FieldViolation[] {
  const toColumn = (name: string, type: Feature["type"]): Column[] => {
    const t = featureTypeFromProto(type);
    return t === undefined ? [] : [{ name, type: t }];
  };
  const inputs = [...baseColumns.flatMap((f) => toColumn(f.name, f.type)), ...view.requestParameters.flatMap((p) => toColumn(p.name, p.type))];
  try {
    const compiled = compileOnDemandFeatures(view.onDemandFeatures, inputs);
    return transformationViolations(view.transformations, [...inputs, ...compiled.columns]);
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err.violations;
    throw err;
  }
}

export const outputSchemaMessage = (features: Feature[]) => create(FeatureSchemaSchema, { features });
