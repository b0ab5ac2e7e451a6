// Resource names this service reads and mints.
import { namePattern, parseName } from "@fti/aip";
import type { TableId } from "@fti/offline-store";

export const names = {
  project: namePattern("projects/{project}"),
  featureGroup: namePattern("projects/{project}/featureGroups/{feature_group}/versions/{version}"),
  featureView: namePattern("projects/{project}/featureViews/{feature_view}/versions/{version}"),
  trainingDataset: namePattern("projects/{project}/featureViews/{feature_view}/versions/{version}/trainingDatasets/{dataset}"),
  job: namePattern("projects/{project}/trainingDatasetJobs/{job}"),
};

/** The offline table of a feature group version name. */
export function tableIdOf(featureGroup: string, field: string): TableId {
  const ids = parseName(names.featureGroup, featureGroup, field, ["version"]);
  return { project: ids.project, featureGroup: ids.feature_group, version: Number(ids.version) };
}
