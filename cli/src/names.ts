// Resource names (aip.dev style) from the short forms people type:
// "transactions", "transactions@2", or a full "projects/..." name.
import { UsageError } from "./exit-codes.js";

export const resourceNames = {
  project: (p: string) => `projects/${p}`,
  featureGroupFamily: (p: string, id: string) => `projects/${p}/featureGroups/${id}`,
  featureGroup: (p: string, id: string, v: number | "latest") => `projects/${p}/featureGroups/${id}/versions/${v}`,
  featureViewFamily: (p: string, id: string) => `projects/${p}/featureViews/${id}`,
  featureView: (p: string, id: string, v: number | "latest") => `projects/${p}/featureViews/${id}/versions/${v}`,
  modelFamily: (p: string, id: string) => `projects/${p}/models/${id}`,
  model: (p: string, id: string, v: number | "latest") => `projects/${p}/models/${id}/versions/${v}`,
  deployment: (p: string, id: string) => `projects/${p}/deployments/${id}`,
  monitor: (p: string, id: string) => `projects/${p}/monitors/${id}`,
  trainingJob: (p: string, id: string) => `projects/${p}/trainingJobs/${id}`,
};

/** "name" or "name@version" → its parts; version "latest" when not given. */
export function splitVersion(text: string): { id: string; version: number | "latest" } {
  const m = /^([a-z][a-z0-9_]*)(?:@(\d+|latest))?$/.exec(text);
  if (!m) throw new UsageError(`"${text}" is not a name (lowercase letters, digits, _) optionally followed by @<version>`);
  return { id: m[1]!, version: m[2] === undefined || m[2] === "latest" ? "latest" : Number(m[2]) };
}

/** A versioned resource name from a short form, or the full name as given. */
export function versionedName(text: string, project: () => string, format: (p: string, id: string, v: number | "latest") => string): string {
  if (text.startsWith("projects/")) return text;
  const { id, version } = splitVersion(text);
  return format(project(), id, version);
}

/** The last id of a resource name, e.g. "transactions" of ".../featureGroups/transactions/versions/2". */
export function shortName(name: string): string {
  const parts = name.split("/");
  const v = parts.indexOf("versions");
  if (v > 0 && v === parts.length - 2) return `${parts[v - 1]}@${parts[v + 1]}`;
  return parts[parts.length - 1] ?? name;
}
