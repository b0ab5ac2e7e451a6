// A feature view version compiled for online reads: which online table each
// selection reads, which stored columns it needs, how each join finds its keys,
// and the on-demand features over the looked-up columns. Built once per view
// version (and rebuilt when a registry event says one of its groups changed),
// so a request only reads and assembles.
import type { FeatureGroup } from "@fti/proto/fti/registry/v1/feature_group_pb";
import type { FeatureView, FeatureGroupSelection } from "@fti/proto/fti/registry/v1/feature_view_pb";
import type { OnlineTable } from "@fti/online-store";
import { featureGroupSchemaFromWire } from "@fti/record-batch";
import type { FeatureGroupSchema, FeatureType } from "@fti/schema";
import { compileOnDemandFeatures, featureTypeFromProto, type Column, type OnDemandFeatures } from "@fti/transforms";
import { parseFeatureGroupName } from "./names.js";

/** `GroupRead.keys[].from` read from the entity keys, not from a group read. */
export const entityKeys = -1;

/** One feature group read of a view: the root, or a join. */
export interface GroupRead {
  /** The feature group version name. */
  featureGroup: string;
  table: OnlineTable;
  /** Stored columns to fetch: the selected (non-label) features plus join-key sources of later joins. */
  fetch: string[];
  /** Selected features: stored name → output column name. */
  outputs: { stored: string; output: string }[];
  /**
   * Where each primary key column's value comes from: for the root the serving
   * keys; for a join a column of the view's row context (a root column by its
   * own name, or an earlier join's output).
   */
  keys: { column: string; from: string }[];
  /** Indices of earlier reads whose results hold this read's key sources (the root is 0). */
  after: number[];
  /** Per key column: the read holding its source (entityKeys for a serving key) and the stored name there. */
  sources: { read: number; stored: string }[];
}

export interface FeatureViewPlan {
  name: string;
  /** The root group's primary key columns, supplied per entity. */
  servingKeys: Column[];
  requestParameters: Column[];
  /** The view's output columns before transformations (labels excluded), in order. */
  outputs: (Column & { read: number; stored: string } | Column & { read: -1; stored: "" })[];
  reads: GroupRead[];
  onDemand: OnDemandFeatures | undefined;
  /** How many model-dependent transformations the view declares (their parameters live with training datasets). */
  transformationCount: number;
  /** The registry resources this plan was built from: a change to any means rebuild. */
  dependsOn: string[];
}

/**
 * Builds the plan of `view` from its feature groups (by version name, as the
 * view pins them). The registry validated the view, so this trusts its shape.
 */
export function planFeatureView(view: FeatureView, groups: ReadonlyMap<string, FeatureGroup>): FeatureViewPlan {
  const labels = new Set(view.labelColumns);
  const schemas = new Map<string, FeatureGroupSchema>();
  const schemaOf = (name: string) => {
    let s = schemas.get(name);
    if (!s) schemas.set(name, (s = featureGroupSchemaFromWire(groups.get(name)!)));
    return s;
  };
  // Which read provides each column of the row context, under which stored name.
  const context = new Map<string, { read: number; stored: string }>();
  const reads: GroupRead[] = [];

  const addRead = (selection: FeatureGroupSelection, keys: GroupRead["keys"], after: number[]) => {
    const schema = schemaOf(selection.featureGroup);
    const chosen = selection.features.length ? selection.features : schema.features.map((f) => f.name).filter((n) => !schema.primaryKey.includes(n) && n !== schema.eventTime);
    const index = reads.length;
    const outputs = chosen.map((stored) => ({ stored, output: selection.prefix + stored })).filter((o) => !labels.has(o.output));
    const sources = keys.map((k) => context.get(k.from) ?? { read: entityKeys, stored: k.from });
    reads.push({ featureGroup: selection.featureGroup, table: { ...parseFeatureGroupName(selection.featureGroup), schema }, fetch: outputs.map((o) => o.stored), outputs, keys, after, sources });
    for (const o of outputs) context.set(o.output, { read: index, stored: o.stored });
    return { index, schema };
  };

  const root = view.root!;
  const rootSchema = schemaOf(root.featureGroup);
  addRead(root, rootSchema.primaryKey.map((k) => ({ column: k, from: k })), []);
  // Join keys may name any root column by its own name, selected or not; the
  // root's primary key columns are the serving keys the caller supplies.
  for (const f of rootSchema.features) if (!context.has(f.name)) context.set(f.name, rootSchema.primaryKey.includes(f.name) ? { read: entityKeys, stored: f.name } : { read: 0, stored: f.name });

  for (const join of view.joins) {
    const after = new Set<number>();
    const keys = join.keys.map((k) => {
      const source = context.get(k.left);
      if (source && source.read !== entityKeys) {
        after.add(source.read);
        if (!reads[source.read]!.fetch.includes(source.stored)) reads[source.read]!.fetch.push(source.stored);
      }
      return { column: k.right, from: k.left };
    });
    addRead(join.selection!, keys, [...after]);
  }

  const typeOf = (f: { type?: Parameters<typeof featureTypeFromProto>[0] }): FeatureType => featureTypeFromProto(f.type)!;
  const outputSchema = view.outputSchema?.features ?? [];
  const onDemandNames = new Set(view.onDemandFeatures.map((f) => f.name));
  const outputs: FeatureViewPlan["outputs"] = outputSchema.map((f) => {
    if (onDemandNames.has(f.name)) return { name: f.name, type: typeOf(f), read: -1 as const, stored: "" as const };
    const source = context.get(f.name)!;
    return { name: f.name, type: typeOf(f), read: source.read, stored: source.stored };
  });
  const requestParameters = view.requestParameters.map((p) => ({ name: p.name, type: typeOf(p) }));
  const looked = outputs.filter((o) => o.read >= 0).map(({ name, type }) => ({ name, type }));
  const onDemand = view.onDemandFeatures.length ? compileOnDemandFeatures(view.onDemandFeatures, [...looked, ...requestParameters]) : undefined;

  return {
    name: view.name,
    servingKeys: rootSchema.primaryKey.map((k) => ({ name: k, type: rootSchema.features.find((f) => f.name === k)!.type })),
    requestParameters,
    outputs,
    reads,
    onDemand,
    transformationCount: view.transformations.length,
    dependsOn: [view.name, ...groups.keys()],
  };
}

/** The feature group version names a view reads, root first. */
export function featureGroupsOf(view: FeatureView): string[] {
  return [view.root, ...view.joins.map((j) => j.selection)].flatMap((s) => (s ? [s.featureGroup] : []));
}
