// Resource names this service parses: which online table a feature group
// version is, which project a deployment belongs to, and how OIP model names
// map to registry model versions.
import { InvalidArgumentError } from "@fti/errors";

const featureGroupVersion = /^projects\/([^/]+)\/featureGroups\/([^/]+)\/versions\/(\d+)$/;
const deployment = /^projects\/([^/]+)\/deployments\/([^/]+)$/;
const featureView = /^projects\/([^/]+)\/featureViews\/([^/]+)\/versions\/(\d+)$/;
const modelFamily = /^projects\/([^/]+)\/models\/([^/]+)$/;
const modelVersion = /^projects\/([^/]+)\/models\/([^/]+)\/versions\/(\d+|latest)$/;

export function parseFeatureGroupName(name: string): { project: string; featureGroup: string; version: number } {
  const m = featureGroupVersion.exec(name);
  if (!m) throw new Error(`"${name}" is not a feature group version name`);
  return { project: m[1]!, featureGroup: m[2]!, version: Number(m[3]) };
}

export function parseDeploymentName(name: string, field: string): { project: string; deployment: string } {
  const m = deployment.exec(name);
  if (!m) throw InvalidArgumentError.field(field, `"${name}" is not a deployment name ("projects/{project}/deployments/{deployment}")`);
  return { project: m[1]!, deployment: m[2]! };
}

export function assertFeatureViewName(name: string, field: string): void {
  if (!featureView.test(name)) throw InvalidArgumentError.field(field, `"${name}" is not a feature view version name ("projects/{project}/featureViews/{feature_view}/versions/{version}")`);
}

/**
 * The registry model version an OIP request means: `model_name` is a model
 * ("projects/p/models/m") with `model_version` its number (empty: the latest),
 * or a full model version name with an empty or matching `model_version`.
 */
export function modelVersionName(modelName: string, version: string, field = "model_name"): string {
  const full = modelVersion.exec(modelName);
  if (full) {
    if (version !== "" && version !== full[3]) throw InvalidArgumentError.field("model_version", `"${version}" contradicts the version in model_name "${modelName}"`);
    return modelName;
  }
  if (!modelFamily.test(modelName)) throw InvalidArgumentError.field(field, `"${modelName}" is not a model name ("projects/{project}/models/{model}", optionally with "/versions/{version}")`);
  if (version !== "" && !/^\d+$/.test(version)) throw InvalidArgumentError.field("model_version", `"${version}" is not a version number`);
  return `${modelName}/versions/${version || "latest"}`;
}

/** "projects/p/models/m/versions/3" → { family: "projects/p/models/m", version: "3" }. */
export function splitModelVersion(name: string): { family: string; version: string } {
  const m = modelVersion.exec(name);
  if (!m) return { family: name, version: "" };
  return { family: `projects/${m[1]}/models/${m[2]}`, version: m[3]! };
}
