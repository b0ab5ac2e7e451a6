// Reads definition files (a directory of *.yaml / *.yml, or single files),
// checks everything that can be checked without a service, and returns the
// declared resources — or throws one UsageError listing every problem with
// its file, line and field.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { LineCounter, parseAllDocuments } from "yaml";
import { UsageError } from "../exit-codes.js";
import type { Definitions, FeatureGroupDefinition } from "./definitions.js";
import { parseFeatureGroup } from "./parse-feature-group.js";
import { parseFeatureView } from "./parse-feature-view.js";
import { parseDeployment, parseMonitor, parseProject } from "./parse-other.js";
import { formatProblem, Reader, type Problem } from "./reader.js";
import { formatLocation, type Location } from "./source.js";

const topLevelKeys = ["project", "feature_groups", "feature_views", "deployments", "monitors"];

export async function definitionFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    const info = await stat(p).catch(() => undefined);
    if (!info) throw new UsageError(`${p}: no such file or directory`);
    if (info.isDirectory()) {
      const entries = (await readdir(p, { recursive: true, withFileTypes: true })).filter((e) => e.isFile() && /\.ya?ml$/.test(e.name));
      files.push(...entries.map((e) => join(e.parentPath, e.name)).sort());
    } else files.push(p);
  }
  if (files.length === 0) throw new UsageError(`no *.yaml or *.yml files in ${paths.join(", ")}; see cli/README.md for the definition format`);
  return files;
}

export async function loadDefinitions(paths: readonly string[], defaultProject?: string): Promise<Definitions> {
  const problems: Problem[] = [];
  const defs: Definitions = { projects: [], featureGroups: [], featureViews: [], deployments: [], monitors: [] };
  for (const file of await definitionFiles(paths)) {
    const lineCounter = new LineCounter();
    const docs = parseAllDocuments(await readFile(file, "utf8"), { lineCounter, prettyErrors: false });
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      if (doc.errors.length) {
        for (const e of doc.errors) {
          const { line, col } = lineCounter.linePos(e.pos[0]);
          problems.push({ file, line, column: col, field: "", message: `YAML syntax: ${e.message.split("\n")[0]}` });
        }
        continue;
      }
      const value = doc.toJS() as unknown;
      if (value === null || value === undefined) continue;
      readDocument(new Reader({ file, doc, lineCounter }, problems), value, defs, defaultProject);
    }
  }
  checkReferences(defs, problems);
  if (problems.length) {
    problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
    throw new UsageError(`the definitions have ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was sent to any service:\n${problems.map((p) => `  ${formatProblem(p)}`).join("\n")}`);
  }
  return defs;
}

function readDocument(r: Reader, value: unknown, defs: Definitions, defaultProject: string | undefined): void {
  const o = r.object(value, [], topLevelKeys);
  if (!o) return;
  const project = o.project === undefined ? undefined : parseProject(r, o.project, ["project"]);
  if (project) defs.projects.push(project);
  const projectId = project?.id ?? defaultProject;
  if (!projectId) {
    if (o.project === undefined) r.error([], "no project: add `project: <name>` at the top of the document, or pass --project");
    return;
  }
  r.list(o.feature_groups, ["feature_groups"]).forEach((v, i) => {
    const d = parseFeatureGroup(r, v, ["feature_groups", i], projectId);
    if (d) defs.featureGroups.push(d);
  });
  r.list(o.feature_views, ["feature_views"]).forEach((v, i) => {
    const d = parseFeatureView(r, v, ["feature_views", i], projectId);
    if (d) defs.featureViews.push(d);
  });
  r.list(o.deployments, ["deployments"]).forEach((v, i) => {
    const d = parseDeployment(r, v, ["deployments", i], projectId);
    if (d) defs.deployments.push(d);
  });
  r.list(o.monitors, ["monitors"]).forEach((v, i) => {
    const d = parseMonitor(r, v, ["monitors", i], projectId);
    if (d) defs.monitors.push(d);
  });
}

const problemAt = (at: Location, message: string): Problem => ({ ...at, message });

/** Checks across files: duplicate names, and views against the groups defined alongside them. */
function checkReferences(defs: Definitions, problems: Problem[]): void {
  const unique = (kind: string, items: { project: string; id: string; at: Location }[]) => {
    const seen = new Map<string, Location>();
    for (const item of items) {
      const key = `${item.project}/${item.id}`;
      const first = seen.get(key);
      if (first) problems.push(problemAt(item.at, `${kind} "${item.id}" of project "${item.project}" is also defined at ${formatLocation(first)}; keep one definition`));
      else seen.set(key, item.at);
    }
  };
  unique("feature group", defs.featureGroups);
  unique("feature view", defs.featureViews);
  unique("deployment", defs.deployments);
  unique("monitor", defs.monitors);
  // A project may be named by many documents; its fields may be set only once.
  const projectFields = new Map<string, Location>();
  for (const p of defs.projects) {
    if (p.description === undefined && p.owner === undefined && p.tags === undefined) continue;
    const first = projectFields.get(p.id);
    if (first) problems.push(problemAt(p.at, `the fields of project "${p.id}" are also set at ${formatLocation(first)}; set description/owner/tags in one place`));
    else projectFields.set(p.id, p.at);
  }

  const groups = new Map(defs.featureGroups.map((g) => [`${g.project}/${g.id}`, g]));
  for (const view of defs.featureViews) {
    const local = (ref: { group: string; version?: number }): FeatureGroupDefinition | undefined => (ref.version === undefined ? groups.get(`${view.project}/${ref.group}`) : undefined);
    const selections = [
      { ref: view.root, features: view.featureView.root!.features },
      ...view.joins.map((ref, i) => ({ ref, features: view.featureView.joins[i]!.selection!.features, keys: view.featureView.joins[i]!.keys })),
    ];
    for (const s of selections) {
      const group = local(s.ref);
      if (!group) continue;
      for (const [i, f] of s.features.entries()) {
        if (!group.types.has(f)) problems.push(problemAt(s.ref.featuresAt[i] ?? s.ref.at, `feature view "${view.id}" selects "${f}", which feature group "${group.id}" does not have (it has ${[...group.types.keys()].join(", ")})`));
      }
      for (const k of "keys" in s ? (s.keys ?? []) : []) {
        if (!group.featureGroup.primaryKey.includes(k.right)) problems.push(problemAt(s.ref.at, `join key right side "${k.right}" is not a primary key column of "${group.id}" (${group.featureGroup.primaryKey.join(", ")})`));
      }
    }
  }
}
