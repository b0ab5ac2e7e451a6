// The registry's resource names and kinds.
import { namePattern } from "@fti/aip";
import { ResourceKind } from "@fti/proto/fti/registry/v1/registry_pb";

export type Kind = "project" | "feature_group" | "feature_view" | "training_dataset" | "model" | "deployment";

export const names = {
  project: namePattern("projects/{project}"),
  featureGroupFamily: namePattern("projects/{project}/featureGroups/{feature_group}"),
  featureGroup: namePattern("projects/{project}/featureGroups/{feature_group}/versions/{version}"),
  featureViewFamily: namePattern("projects/{project}/featureViews/{feature_view}"),
  featureView: namePattern("projects/{project}/featureViews/{feature_view}/versions/{version}"),
  trainingDataset: namePattern("projects/{project}/featureViews/{feature_view}/versions/{version}/trainingDatasets/{dataset}"),
  modelFamily: namePattern("projects/{project}/models/{model}"),
  model: namePattern("projects/{project}/models/{model}/versions/{version}"),
  deployment: namePattern("projects/{project}/deployments/{deployment}"),
};

export const resourceKinds: Record<Kind, ResourceKind> = {
  project: ResourceKind.PROJECT,
  feature_group: ResourceKind.FEATURE_GROUP,
  feature_view: ResourceKind.FEATURE_VIEW,
  training_dataset: ResourceKind.TRAINING_DATASET,
  model: ResourceKind.MODEL,
  deployment: ResourceKind.DEPLOYMENT,
};

/** "feature_group" → "feature group", for messages people read. */
export const label = (kind: Kind) => kind.replace("_", " ");

/** The project id of any registry name ("projects/fraud/..." → "fraud"). */
export const projectIdOf = (name: string) => name.split("/")[1] ?? "";

/** The project name of any registry name ("projects/fraud/..." → "projects/fraud"). */
export const projectNameOf = (name: string) => `projects/${projectIdOf(name)}`;

/** A version name without its "/versions/{n}" suffix. */
export const familyOf = (versionName: string) => versionName.replace(/\/versions\/[^/]+$/, "");
