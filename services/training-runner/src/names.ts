// Resource names of the training runner and of the registry resources it refers to.
import { namePattern } from "@fti/aip";

export const names = {
  project: namePattern("projects/{project}"),
  job: namePattern("projects/{project}/trainingJobs/{job}"),
  schedule: namePattern("projects/{project}/schedules/{schedule}"),
  trigger: namePattern("projects/{project}/triggers/{trigger}"),
  modelFamily: namePattern("projects/{project}/models/{model}"),
  deployment: namePattern("projects/{project}/deployments/{deployment}"),
  featureView: namePattern("projects/{project}/featureViews/{feature_view}/versions/{version}"),
  trainingDataset: namePattern("projects/{project}/featureViews/{feature_view}/versions/{version}/trainingDatasets/{dataset}"),
  featureGroup: namePattern("projects/{project}/featureGroups/{feature_group}"),
  featureGroupVersion: namePattern("projects/{project}/featureGroups/{feature_group}/versions/{version}"),
  monitor: namePattern("projects/{project}/monitors/{monitor}"),
};

/** "projects/fraud/…" → "fraud". */
export function projectIdOf(name: string): string {
  return name.split("/")[1] ?? "";
}
