// Resource names of monitoring and of the registry resources it refers to.
import { namePattern } from "@fti/aip";

export const names = {
  project: namePattern("projects/{project}"),
  monitor: namePattern("projects/{project}/monitors/{monitor}"),
  alert: namePattern("projects/{project}/monitors/{monitor}/alerts/{alert}"),
  featureView: namePattern("projects/{project}/featureViews/{feature_view}/versions/{version}"),
  featureGroupVersion: namePattern("projects/{project}/featureGroups/{feature_group}/versions/{version}"),
  trainingDataset: namePattern("projects/{project}/featureViews/{feature_view}/versions/{version}/trainingDatasets/{dataset}"),
  deployment: namePattern("projects/{project}/deployments/{deployment}"),
};

/** "projects/fraud/…" → "fraud". */
export function projectIdOf(name: string): string {
  return name.split("/")[1] ?? "";
}
