// Compares the definitions with what is registered and returns the changes,
// in the order they must be applied (projects, feature groups, feature views,
// deployments, monitors), each with the calls that make it so.
import { clone, create } from "@bufbuild/protobuf";
import { FeatureGroupSchema, type FeatureGroup } from "@fti/proto/fti/registry/v1/feature_group_pb";
import { FeatureViewSchema, type FeatureView } from "@fti/proto/fti/registry/v1/feature_view_pb";
import { DeploymentSchema, type Deployment } from "@fti/proto/fti/registry/v1/deployment_pb";
import { ProjectSchema, type Project } from "@fti/proto/fti/registry/v1/registry_pb";
import { MonitorSchema, type Monitor } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import type { Context } from "../client.js";
import { CliError } from "../exit-codes.js";
import { resourceNames as n } from "../names.js";
import { explainRpcError, isNotFound, isUnavailable } from "../rpc-errors.js";
import { breakingChanges, changedFields, schemaChangeDetails } from "./compare.js";
import type { Definitions, DeploymentDefinition, FeatureGroupDefinition, FeatureViewDefinition, MonitorDefinition, ProjectDefinition } from "./definitions.js";
import { formatLocation, type Location } from "./source.js";

export type Action = "create" | "new-version" | "update" | "no-change" | "skip";

export interface Change {
  kind: "project" | "feature group" | "feature view" | "deployment" | "monitor";
  /** The resource name (for versioned kinds, the version it will be). */
  name: string;
  action: Action;
  /** Changed fields, or why a new version / skip. */
  details: string[];
  at: Location;
  /** Makes the change; resolves to what was done, for the apply report. */
  apply?: () => Promise<string>;
}

/** State shared between planned changes while applying: names assigned by the registry. */
class Applied {
  readonly groupNames = new Map<string, string>();
  readonly viewNames = new Map<string, string>();
}

export async function plan(ctx: Context, defs: Definitions): Promise<Change[]> {
  const applied = new Applied();
  const changes: Change[] = [];
  const newProjects = new Set<string>();
  for (const p of projectsOf(defs)) {
    const change = await planProject(ctx, p);
    if (change.action === "create") newProjects.add(p.id);
    changes.push(change);
  }
  // The version each view will read, by "project/group": planned from the files, else the registry's latest.
  const groupVersions = new Map<string, number>();
  for (const g of defs.featureGroups) {
    const { change, version } = await planFeatureGroup(ctx, g, newProjects.has(g.project), applied);
    groupVersions.set(`${g.project}/${g.id}`, version);
    changes.push(change);
  }
  const viewVersions = new Map<string, number>();
  for (const v of defs.featureViews) {
    const { change, version } = await planFeatureView(ctx, v, newProjects.has(v.project), groupVersions, applied);
    viewVersions.set(`${v.project}/${v.id}`, version);
    changes.push(change);
  }
  for (const d of defs.deployments) changes.push(await planDeployment(ctx, d, newProjects.has(d.project)));
  let monitoringReachable = true;
  for (const m of defs.monitors) {
    const change = await planMonitor(ctx, m, viewVersions, applied, monitoringReachable);
    if (change.action === "skip") monitoringReachable = false;
    changes.push(change);
  }
  return changes;
}

/** Every project the definitions use, with the fields one of them sets. */
function projectsOf(defs: Definitions): ProjectDefinition[] {
  const byId = new Map<string, ProjectDefinition>();
  for (const p of defs.projects) {
    const known = byId.get(p.id);
    if (!known || p.description !== undefined || p.owner !== undefined || p.tags !== undefined) byId.set(p.id, p);
  }
  for (const r of [...defs.featureGroups, ...defs.featureViews, ...defs.deployments, ...defs.monitors]) {
    if (!byId.has(r.project)) byId.set(r.project, { id: r.project, at: r.at });
  }
  return [...byId.values()];
}

/** GetX, with NOT_FOUND as undefined and any other failure as a CliError. */
async function getOrUndefined<T>(ctx: Context, run: () => Promise<T>, service: "registry" | "monitoring" = "registry"): Promise<T | undefined> {
  try {
    return await run();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw explainRpcError(err, ctx.callContext(service));
  }
}

async function planProject(ctx: Context, p: ProjectDefinition): Promise<Change> {
  const name = n.project(p.id);
  const desired = create(ProjectSchema, { description: p.description ?? "", owner: p.owner ?? "", tags: p.tags ?? {} });
  const current = await getOrUndefined(ctx, async () => (await ctx.client.registry.getProject({ name })).project);
  const base = { kind: "project" as const, name, at: p.at };
  if (!current) {
    return { ...base, action: "create", details: [], apply: async () => `created ${(await ctx.client.registry.createProject({ projectId: p.id, project: desired })).project!.name}` };
  }
  const managed = [p.description !== undefined && "description", p.owner !== undefined && "owner", p.tags !== undefined && "tags"].filter((x): x is string => !!x);
  const changes = changedFields(ProjectSchema, current, desired, managed);
  if (changes.length === 0) return { ...base, action: "no-change", details: [] };
  return {
    ...base,
    action: "update",
    details: changes.map((c) => c.detail),
    apply: async () => {
      await ctx.client.registry.updateProject({ project: { ...desired, name, etag: current.etag }, updateMask: { paths: changes.map((c) => c.path) } });
      return `updated ${name} (${changes.map((c) => c.path).join(", ")})`;
    },
  };
}

const groupInPlaceFields = ["description", "owner", "tags", "online_enabled", "ttl", "expectations", "expectation_policy", "statistics_config", "schema"];

async function planFeatureGroup(ctx: Context, g: FeatureGroupDefinition, projectIsNew: boolean, applied: Applied): Promise<{ change: Change; version: number }> {
  const family = n.featureGroupFamily(g.project, g.id);
  const key = `${g.project}/${g.id}`;
  const current: FeatureGroup | undefined = projectIsNew ? undefined : await getOrUndefined(ctx, async () => (await ctx.client.registry.getFeatureGroup({ name: n.featureGroup(g.project, g.id, "latest") })).featureGroup);
  const remember = (fg: FeatureGroup) => {
    applied.groupNames.set(key, fg.name);
    return fg.name;
  };
  if (!current) {
    return {
      version: 1,
      change: {
        kind: "feature group",
        name: n.featureGroup(g.project, g.id, 1),
        action: "create",
        details: [],
        at: g.at,
        apply: async () => `created ${remember((await ctx.client.registry.createFeatureGroup({ parent: n.project(g.project), featureGroupId: g.id, featureGroup: g.featureGroup })).featureGroup!)}`,
      },
    };
  }
  const breaking = breakingChanges(current, g.featureGroup);
  if (breaking.length) {
    return {
      version: current.version + 1,
      change: {
        kind: "feature group",
        name: n.featureGroup(g.project, g.id, current.version + 1),
        action: "new-version",
        details: breaking,
        at: g.at,
        apply: async () => `created ${remember((await ctx.client.registry.createFeatureGroupVersion({ parent: family, featureGroup: g.featureGroup })).featureGroup!)}`,
      },
    };
  }
  const changes = changedFields(FeatureGroupSchema, current, g.featureGroup, groupInPlaceFields);
  const details = changes.flatMap((c) => (c.path === "schema" ? schemaChangeDetails(current, g.featureGroup) : [c.detail]));
  const base = { kind: "feature group" as const, name: current.name, at: g.at, details };
  if (changes.length === 0) return { version: current.version, change: { ...base, action: "no-change" } };
  return {
    version: current.version,
    change: {
      ...base,
      action: "update",
      apply: async () => {
        const desired = clone(FeatureGroupSchema, g.featureGroup);
        desired.name = current.name;
        desired.etag = current.etag;
        await ctx.client.registry.updateFeatureGroup({ featureGroup: desired, updateMask: { paths: changes.map((c) => c.path) } });
        return `updated ${current.name} (${changes.map((c) => c.path).join(", ")})`;
      },
    },
  };
}

const viewQueryFields = ["root", "joins", "label_columns", "request_parameters", "on_demand_features", "transformations"];
const viewInPlaceFields = ["description", "owner", "tags"];

async function planFeatureView(ctx: Context, v: FeatureViewDefinition, projectIsNew: boolean, groupVersions: Map<string, number>, applied: Applied): Promise<{ change: Change; version: number }> {
  const registryLatest = new Map<string, number>();
  const resolveGroup = async (ref: { group: string; version?: number; at: Location }): Promise<string> => {
    if (ref.version !== undefined) return n.featureGroup(v.project, ref.group, ref.version);
    const planned = groupVersions.get(`${v.project}/${ref.group}`);
    if (planned !== undefined) return n.featureGroup(v.project, ref.group, planned);
    if (!registryLatest.has(ref.group)) {
      const fg = projectIsNew ? undefined : await getOrUndefined(ctx, async () => (await ctx.client.registry.getFeatureGroup({ name: n.featureGroup(v.project, ref.group, "latest") })).featureGroup);
      if (!fg) throw new CliError(`${formatLocation(ref.at)}: feature view "${v.id}" reads feature group "${ref.group}", which is neither defined in these files nor registered in project "${v.project}"; define it, or fix the name (\`fti list feature-group\` shows what exists)`, 2);
      registryLatest.set(ref.group, fg.version);
    }
    return n.featureGroup(v.project, ref.group, registryLatest.get(ref.group)!);
  };
  // The group names as applied (a group created moments ago may have got another version than planned).
  const withGroups = (rootName: string, joinNames: string[], asApplied = true): FeatureView => {
    const view = clone(FeatureViewSchema, v.featureView);
    const actual = (ref: { group: string; version?: number }, planned: string) => (asApplied && ref.version === undefined ? (applied.groupNames.get(`${v.project}/${ref.group}`) ?? planned) : planned);
    view.root!.featureGroup = actual(v.root, rootName);
    view.joins.forEach((j, i) => (j.selection!.featureGroup = actual(v.joins[i]!, joinNames[i]!)));
    return view;
  };
  const rootName = await resolveGroup(v.root);
  const joinNames: string[] = [];
  for (const j of v.joins) joinNames.push(await resolveGroup(j));
  const desired = withGroups(rootName, joinNames, false);
  const key = `${v.project}/${v.id}`;
  const remember = (view: FeatureView) => {
    applied.viewNames.set(key, view.name);
    return view.name;
  };
  const current: FeatureView | undefined = projectIsNew ? undefined : await getOrUndefined(ctx, async () => (await ctx.client.registry.getFeatureView({ name: n.featureView(v.project, v.id, "latest") })).featureView);
  if (!current) {
    return {
      version: 1,
      change: {
        kind: "feature view",
        name: n.featureView(v.project, v.id, 1),
        action: "create",
        details: [],
        at: v.at,
        apply: async () => `created ${remember((await ctx.client.registry.createFeatureView({ parent: n.project(v.project), featureViewId: v.id, featureView: withGroups(rootName, joinNames) })).featureView!)}`,
      },
    };
  }
  const query = changedFields(FeatureViewSchema, current, desired, viewQueryFields);
  const describeQuery = (path: string) => {
    if (path === "root" && current.root?.featureGroup !== desired.root?.featureGroup) return `root reads ${desired.root?.featureGroup} instead of ${current.root?.featureGroup}`;
    if (path === "joins") {
      const moved = desired.joins.flatMap((j, i) => (current.joins[i] && current.joins[i]!.selection?.featureGroup !== j.selection?.featureGroup ? [`joins[${i}] reads ${j.selection?.featureGroup} instead of ${current.joins[i]!.selection?.featureGroup}`] : []));
      if (moved.length && desired.joins.length === current.joins.length) return moved.join("; ");
    }
    return `${path} changes`;
  };
  if (query.length) {
    return {
      version: current.version + 1,
      change: {
        kind: "feature view",
        name: n.featureView(v.project, v.id, current.version + 1),
        action: "new-version",
        details: query.map((c) => describeQuery(c.path)),
        at: v.at,
        apply: async () => `created ${remember((await ctx.client.registry.createFeatureViewVersion({ parent: n.featureViewFamily(v.project, v.id), featureView: withGroups(rootName, joinNames) })).featureView!)}`,
      },
    };
  }
  const changes = changedFields(FeatureViewSchema, current, desired, viewInPlaceFields);
  const base = { kind: "feature view" as const, name: current.name, at: v.at, details: changes.map((c) => c.detail) };
  if (changes.length === 0) return { version: current.version, change: { ...base, action: "no-change" } };
  return {
    version: current.version,
    change: {
      ...base,
      action: "update",
      apply: async () => {
        await ctx.client.registry.updateFeatureView({ featureView: { ...desired, name: current.name, etag: current.etag }, updateMask: { paths: changes.map((c) => c.path) } });
        return `updated ${current.name} (${changes.map((c) => c.path).join(", ")})`;
      },
    },
  };
}

async function planDeployment(ctx: Context, d: DeploymentDefinition, projectIsNew: boolean): Promise<Change> {
  const name = n.deployment(d.project, d.id);
  const resolveModel = async (ref: { model: string; version?: number; at: Location }) => {
    if (ref.version !== undefined) return n.model(d.project, ref.model, ref.version);
    const m = projectIsNew ? undefined : await getOrUndefined(ctx, async () => (await ctx.client.registry.getModel({ name: n.model(d.project, ref.model, "latest") })).model);
    if (!m) throw new CliError(`${formatLocation(ref.at)}: deployment "${d.id}" routes to model "${ref.model}", which is not registered in project "${d.project}"; train and register it first (\`fti train\`), or fix the name (\`fti list model\`)`, 2);
    return m.name;
  };
  const routes: { model: string; weight: number }[] = [];
  for (const r of d.routes) routes.push({ model: await resolveModel(r), weight: r.weight });
  const shadows: { model: string; samplePercent: number }[] = [];
  for (const s of d.shadows) shadows.push({ model: await resolveModel(s), samplePercent: s.samplePercent });
  const desired = create(DeploymentSchema, { description: d.description, owner: d.owner, tags: d.tags, routes, shadows });
  const current: Deployment | undefined = projectIsNew ? undefined : await getOrUndefined(ctx, async () => (await ctx.client.registry.getDeployment({ name })).deployment);
  const base = { kind: "deployment" as const, name, at: d.at };
  if (!current) {
    return { ...base, action: "create", details: routes.map((r) => `route ${r.weight}% → ${r.model}`), apply: async () => `created ${(await ctx.client.registry.createDeployment({ parent: n.project(d.project), deploymentId: d.id, deployment: desired, reason: "fti apply" })).deployment!.name}` };
  }
  const routeKey = (rs: { model: string; weight: number }[]) => rs.map((r) => `${r.model}=${r.weight}`).sort().join(",");
  const shadowKey = (ss: { model: string; samplePercent: number }[]) => ss.map((s) => `${s.model}=${s.samplePercent || 100}`).sort().join(",");
  const trafficChanged = routeKey(current.routes) !== routeKey(routes) || shadowKey(current.shadows) !== shadowKey(shadows);
  const fields = changedFields(DeploymentSchema, current, desired, ["description", "owner", "tags"]);
  const details = [...(trafficChanged ? [`routes: ${routeKey(current.routes) || "none"} → ${routeKey(routes)}`, ...(shadowKey(current.shadows) !== shadowKey(shadows) ? [`shadows: ${shadowKey(current.shadows) || "none"} → ${shadowKey(shadows) || "none"}`] : [])] : []), ...fields.map((f) => f.detail)];
  if (!trafficChanged && fields.length === 0) return { ...base, action: "no-change", details: [] };
  return {
    ...base,
    // A traffic change is a new revision of the deployment; rollback returns to the previous one.
    action: trafficChanged ? "new-version" : "update",
    details,
    apply: async () => {
      let etag = current.etag;
      const done: string[] = [];
      if (trafficChanged) {
        const upgraded = (await ctx.client.registry.upgradeDeployment({ name, routes, shadows, reason: "fti apply", etag })).deployment!;
        etag = upgraded.etag;
        done.push(`upgraded ${name} to revision ${upgraded.revision}`);
      }
      if (fields.length) {
        await ctx.client.registry.updateDeployment({ deployment: { ...desired, name, etag }, updateMask: { paths: fields.map((f) => f.path) } });
        done.push(`updated ${name} (${fields.map((f) => f.path).join(", ")})`);
      }
      return done.join("; ");
    },
  };
}

const monitorFields = ["description", "features", "window", "reference", "thresholds", "consecutive_windows", "min_rows", "action", "paused"];

async function planMonitor(ctx: Context, m: MonitorDefinition, viewVersions: Map<string, number>, applied: Applied, reachable: boolean): Promise<Change> {
  const name = n.monitor(m.project, m.id);
  const base = { kind: "monitor" as const, name, at: m.at };
  const skip: Change = { ...base, action: "skip", details: ["monitoring service not reachable (not built or not running); apply will skip this monitor — re-run apply once it runs"] };
  if (!reachable) return skip;
  const plannedView = () => {
    if (m.target.kind !== "featureView") return "";
    const version = m.target.version ?? viewVersions.get(`${m.project}/${m.target.id}`);
    return version === undefined ? n.featureView(m.project, m.target.id, "latest") : n.featureView(m.project, m.target.id, version);
  };
  const desiredMonitor = (): Monitor => {
    const monitor = clone(MonitorSchema, m.monitor);
    if (m.target.kind === "deployment") monitor.target = { case: "deployment", value: n.deployment(m.project, m.target.id) };
    else monitor.target = { case: "featureView", value: m.target.version === undefined ? (applied.viewNames.get(`${m.project}/${m.target.id}`) ?? plannedView()) : plannedView() };
    return monitor;
  };
  let current: Monitor | undefined;
  try {
    current = (await ctx.client.monitoring.getMonitor({ name })).monitor;
  } catch (err) {
    if (isUnavailable(err)) return skip;
    if (!isNotFound(err)) throw explainRpcError(err, ctx.callContext("monitoring"));
  }
  const desired = desiredMonitor();
  if (!current) {
    return { ...base, action: "create", details: [`target ${desired.target.value}`], apply: async () => `created ${(await ctx.client.monitoring.createMonitor({ parent: n.project(m.project), monitorId: m.id, monitor: desiredMonitor() })).monitor!.name}` };
  }
  const changes = changedFields(MonitorSchema, current, desired, monitorFields);
  if (current.target.value !== desired.target.value) changes.push({ path: "", detail: `target: ${current.target.value} → ${desired.target.value} (a monitor's target cannot change; rename the monitor to create a new one)` });
  if (changes.length === 0) return { ...base, action: "no-change", details: [] };
  const paths = changes.map((c) => c.path).filter(Boolean);
  return {
    ...base,
    action: "update",
    details: changes.map((c) => c.detail),
    apply: async () => {
      if (paths.length === 0) throw new CliError(`monitor ${name}: its target cannot change in place`);
      await ctx.client.monitoring.updateMonitor({ monitor: { ...desired, name, etag: current.etag }, updateMask: { paths } });
      return `updated ${name} (${paths.join(", ")})`;
    },
  };
}
