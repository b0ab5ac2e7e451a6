// Resource names of the ingestion API (aip.dev/122).
import { namePattern, parseName, parseVersion } from "@fti/aip";
import { InvalidArgumentError } from "@fti/errors";

export const featureGroupPattern = namePattern("projects/{project}/featureGroups/{feature_group}/versions/{version}");
const commitPattern = namePattern("projects/{project}/featureGroups/{feature_group}/versions/{version}/commits/{commit}");
const jobPattern = namePattern("projects/{project}/featureGroups/{feature_group}/versions/{version}/materializationJobs/{job}");

/** Checks a feature group version name ("latest" allowed); the registry resolves it. */
export function parseFeatureGroupName(name: string, field: string): string {
  parseName(featureGroupPattern, name, field, ["version"]);
  return name;
}

/** The feature group version and Delta version of a commit name. */
export function parseCommitName(name: string, field = "name"): { featureGroup: string; commitId: number } {
  const m = commitPattern.match(name);
  if (!m) throw InvalidArgumentError.field(field, name === "" ? `is required, as "${commitPattern.pattern}"` : `"${name}" does not match "${commitPattern.pattern}"`);
  if (parseVersion(m.version) === undefined) throw InvalidArgumentError.field(field, `version "${m.version}" must be a positive integer`);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(m.commit)) throw InvalidArgumentError.field(field, `commit id "${m.commit}" must be a non-negative integer`);
  return { featureGroup: name.slice(0, name.lastIndexOf("/commits/")), commitId: Number(m.commit) };
}

export function commitName(featureGroup: string, commitId: number | bigint): string {
  return `${featureGroup}/commits/${commitId}`;
}

export function parseJobName(name: string, field = "name"): { featureGroup: string; jobId: string } {
  const m = jobPattern.match(name);
  if (!m) throw InvalidArgumentError.field(field, name === "" ? `is required, as "${jobPattern.pattern}"` : `"${name}" does not match "${jobPattern.pattern}"`);
  return { featureGroup: name.slice(0, name.lastIndexOf("/materializationJobs/")), jobId: m.job };
}

export function jobName(featureGroup: string, jobId: string): string {
  return `${featureGroup}/materializationJobs/${jobId}`;
}

/** The (project, group, version) of a resolved version name. */
export function tableIdOf(featureGroup: string): { project: string; featureGroup: string; version: number } {
  const m = featureGroupPattern.match(featureGroup)!;
  return { project: m.project, featureGroup: m.feature_group, version: Number(m.version) };
}
