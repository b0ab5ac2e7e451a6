// What a monitor's target offers to watch, from registry metadata:
// - a feature view: the features it selects from each feature group, under
//   their output names (prefix + column), since ingestion commits carry group
//   columns;
// - a deployment: the feature vectors and outputs of every routed or shadow
//   model version, as the prediction log carries them.
import type { MetadataCache } from "@fti/registry-client";
import type { FeatureView } from "@fti/proto/fti/registry/v1/feature_view_pb";

export interface FeatureViewSources {
  /** Feature group version → (group column → output name). */
  groups: Map<string, Map<string, string>>;
  /** Every output name, in view order. */
  features: string[];
}

export async function featureViewSources(cache: MetadataCache, view: FeatureView): Promise<FeatureViewSources> {
  const groups = new Map<string, Map<string, string>>();
  const features: string[] = [];
  const selections = [view.root, ...view.joins.map((j) => j.selection)].filter((s) => s !== undefined);
  for (const selection of selections) {
    let columns = selection.features;
    if (columns.length === 0) {
      const group = await cache.featureGroup(selection.featureGroup);
      const skip = new Set([...group.primaryKey, group.eventTime]);
      columns = (group.schema?.features ?? []).map((f) => f.name).filter((n) => !skip.has(n));
    }
    const mapping = groups.get(selection.featureGroup) ?? new Map<string, string>();
    for (const column of columns) {
      mapping.set(column, selection.prefix + column);
      features.push(selection.prefix + column);
    }
    groups.set(selection.featureGroup, mapping);
  }
  return { groups, features };
}

/** Names a deployment's prediction log can carry: its models' feature vectors, request parameters and outputs. */
export async function deploymentFeatures(cache: MetadataCache, deploymentName: string): Promise<{ features: Set<string>; models: string[] }> {
  const deployment = await cache.deployment(deploymentName);
  const models = [...deployment.routes.map((r) => r.model), ...deployment.shadows.map((s) => s.model)];
  const features = new Set<string>();
  for (const modelName of models) {
    const model = await cache.model(modelName);
    for (const output of model.outputs) features.add(output.name);
    if (!model.featureView) continue;
    const view = await cache.featureView(model.featureView);
    for (const f of view.outputSchema?.features ?? []) features.add(f.name);
    for (const f of view.requestParameters) features.add(f.name);
  }
  return { features, models };
}
