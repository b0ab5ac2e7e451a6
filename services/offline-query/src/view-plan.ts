// A feature view version resolved against its feature groups: which columns
// each group contributes under which output names, how joins find their keys,
// and the compiled on-demand features. Everything a point-in-time read needs
// from the registry, loaded once per call.
import { parseName } from "@fti/aip";
import { FailedPreconditionError } from "@fti/errors";
import type { FeatureView } from "@fti/proto/fti/registry/v1/feature_view_pb";
import { featureGroupSchemaFromWire, featureTypeFromWire } from "@fti/record-batch";
import type { MetadataCache } from "@fti/registry-client";
import type { FeatureGroupSchema, FeatureType } from "@fti/schema";
import { compileOnDemandFeatures, type Column, type OnDemandFeatures } from "@fti/transforms";
import type { TableId } from "@fti/offline-store";
import { names, tableIdOf } from "./names.js";

export interface SelectedFeature {
  /** The group's column. */
  source: string;
  /** The view's column: prefix + source. */
  output: string;
  type: FeatureType;
}

export interface GroupRead {
  /** Feature group version name. */
  name: string;
  table: TableId;
  /** The registry's schema, with the TTL. */
  schema: FeatureGroupSchema;
  /** SQL alias, g0 for the root, g1… for joins in order. */
  alias: string;
  features: SelectedFeature[];
  /** For joins: view column (left) = this group's primary key column (right). */
  keys: { left: string; right: string }[];
}

export interface ViewPlan {
  view: FeatureView;
  root: GroupRead;
  joins: GroupRead[];
  /** Every group, root first. */
  groups: GroupRead[];
  /** The view's output columns the groups provide (not on-demand), output_schema order. */
  lookedUp: Column[];
  /** output_schema: looked-up and on-demand columns, labels excluded. */
  outputs: Column[];
  /** Label columns that are selected root features (others come from entity rows). */
  rootLabels: Column[];
  labelNames: string[];
  requestParameters: Column[];
  /** The root group's primary key: the key columns entity rows carry. */
  servingKeys: Column[];
  onDemand: OnDemandFeatures;
}

export async function loadViewPlan(metadata: MetadataCache, name: string, field: string): Promise<ViewPlan> {
  parseName(names.featureView, name, field, ["version"]);
  const view = await metadata.featureView(name);
  if (!view.root) throw new FailedPreconditionError(`${view.name} has no root feature group`);
  const selections = [{ selection: view.root, keys: [] as { left: string; right: string }[] }, ...view.joins.map((j) => ({ selection: j.selection!, keys: j.keys.map((k) => ({ left: k.left, right: k.right })) }))];
  const groups: GroupRead[] = await Promise.all(
    selections.map(async ({ selection, keys }, i) => {
      const group = await metadata.featureGroup(selection.featureGroup);
      const schema = featureGroupSchemaFromWire(group);
      const chosen = selection.features.length ? selection.features : schema.features.filter((f) => !schema.primaryKey.includes(f.name) && f.name !== schema.eventTime).map((f) => f.name);
      const features = chosen.map((source) => {
        const feature = schema.features.find((f) => f.name === source);
        if (!feature) throw new FailedPreconditionError(`${view.name} selects "${source}", which ${group.name} no longer has`);
        return { source, output: selection.prefix + source, type: feature.type };
      });
      return { name: group.name, table: tableIdOf(group.name, "feature_group"), schema, alias: `g${i}`, features, keys };
    }),
  );
  const root = groups[0]!;
  const outputs = (view.outputSchema?.features ?? []).map((f, i) => ({ name: f.name, type: featureTypeFromWire(f.type, `feature_view.output_schema.features[${i}].type`) }));
  const provided = new Map(groups.flatMap((g) => g.features.map((f) => [f.output, f.type] as const)));
  const lookedUp = outputs.filter((c) => provided.has(c.name));
  const labelNames = [...view.labelColumns];
  const rootLabels = labelNames.flatMap((l) => {
    const f = root.features.find((x) => x.output === l);
    return f ? [{ name: l, type: f.type }] : [];
  });
  const requestParameters = view.requestParameters.map((p, i) => ({ name: p.name, type: featureTypeFromWire(p.type, `feature_view.request_parameters[${i}].type`) }));
  const servingKeys = root.schema.primaryKey.map((k) => ({ name: k, type: root.schema.features.find((f) => f.name === k)!.type }));
  const onDemand = compileOnDemandFeatures(view.onDemandFeatures, [...requestParameters, ...lookedUp, ...rootLabels]);
  return { view, root, joins: groups.slice(1), groups, lookedUp, outputs, rootLabels, labelNames, requestParameters, servingKeys, onDemand };
}

/** The root group's event-time column name: the default event-time column of entity rows. */
export function rootEventTime(plan: ViewPlan): string {
  return plan.root.schema.eventTime;
}
