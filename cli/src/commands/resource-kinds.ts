// The registry resource kinds `fti get|list|describe` know: how to name,
// fetch, list and show each.
import { toJson, type DescMessage, type Message } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { DeploymentSchema, type Deployment } from "@fti/proto/fti/registry/v1/deployment_pb";
import { FeatureGroupSchema, type FeatureGroup } from "@fti/proto/fti/registry/v1/feature_group_pb";
import { FeatureViewSchema, type FeatureView } from "@fti/proto/fti/registry/v1/feature_view_pb";
import { ModelSchema, type Model } from "@fti/proto/fti/registry/v1/model_pb";
import { ProjectSchema, type Project } from "@fti/proto/fti/registry/v1/registry_pb";
import { TrainingDatasetSchema, TrainingDataset_State, type TrainingDataset } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { featureTypeFromWire } from "@fti/record-batch";
import { typeName } from "@fti/schema";
import type { Context } from "../client.js";
import { UsageError } from "../exit-codes.js";
import { resourceNames as n, shortName, versionedName } from "../names.js";
import { formatFields, formatTable, formatTags } from "../output.js";
import { formatDuration } from "../values.js";

export interface ResourceKind<M extends Message = Message> {
  kind: string;
  aliases: string[];
  schema: DescMessage;
  /** The full name of what the user typed. */
  name(ctx: Context, text: string): string;
  get(ctx: Context, name: string): Promise<M>;
  list(ctx: Context, options: { featureView?: string }): Promise<M[]>;
  headers: string[];
  row(m: M): string[];
  describe(ctx: Context, m: M): Promise<string>;
}

export const time = (t: Timestamp | undefined) => (t ? timestampDate(t).toISOString().replace(/\.000Z$/, "Z") : "");

/** Every page of a List call. */
async function allPages<T>(fetch: (pageToken: string) => Promise<{ items: T[]; next: string }>): Promise<T[]> {
  const out: T[] = [];
  let token = "";
  do {
    const page = await fetch(token);
    out.push(...page.items);
    token = page.next;
  } while (token);
  return out;
}

const projectName = (ctx: Context, text: string) => (text.startsWith("projects/") ? text : n.project(text));

const project: ResourceKind<Project> = {
  kind: "project",
  aliases: ["projects"],
  schema: ProjectSchema,
  name: projectName,
  get: (ctx, name) => ctx.call("registry", async (c) => (await c.registry.getProject({ name })).project!, "fti list project"),
  list: (ctx) => ctx.call("registry", (c) => allPages(async (pageToken) => {
    const r = await c.registry.listProjects({ pageToken, pageSize: 1000 });
    return { items: r.projects, next: r.nextPageToken };
  })),
  headers: ["NAME", "OWNER", "DESCRIPTION", "CREATED"],
  row: (p) => [shortName(p.name), p.owner, p.description, time(p.createTime)],
  describe: async (_ctx, p) => formatFields([["name", p.name], ["description", p.description], ["owner", p.owner], ["tags", formatTags(p.tags)], ["created", time(p.createTime)], ["updated", time(p.updateTime)]]),
};

const featureType = (t: Parameters<typeof featureTypeFromWire>[0]) => {
  try {
    return typeName(featureTypeFromWire(t, "type"));
  } catch {
    return "?";
  }
};

const featureGroup: ResourceKind<FeatureGroup> = {
  kind: "feature-group",
  aliases: ["feature-groups", "fg"],
  schema: FeatureGroupSchema,
  name: (ctx, text) => versionedName(text, ctx.requireProject, n.featureGroup),
  get: (ctx, name) => ctx.call("registry", async (c) => (await c.registry.getFeatureGroup({ name })).featureGroup!, "fti list feature-group"),
  list: (ctx) => ctx.call("registry", (c) => allPages(async (pageToken) => {
    const r = await c.registry.listFeatureGroups({ parent: n.project(ctx.requireProject()), pageToken, pageSize: 1000 });
    return { items: r.featureGroups, next: r.nextPageToken };
  })),
  headers: ["NAME", "VERSION", "FEATURES", "PRIMARY KEY", "ONLINE", "OWNER", "DESCRIPTION"],
  row: (g) => [shortName(g.name).split("@")[0]!, String(g.version), String(g.schema?.features.length ?? 0), g.primaryKey.join(","), g.onlineEnabled ? "yes" : "no", g.owner, g.description],
  describe: async (_ctx, g) =>
    formatFields([
      ["name", g.name],
      ["description", g.description],
      ["owner", g.owner],
      ["tags", formatTags(g.tags)],
      ["primary key", g.primaryKey.join(", ")],
      ["event time", g.eventTime],
      ["online", g.onlineEnabled ? "enabled" : "disabled"],
      ["ttl", g.ttl ? formatDuration(Number(g.ttl.seconds)) : "none"],
      ["offline table", g.offlineTableUri],
      ["expectations", g.expectations.map((e) => `${e.name} (${e.kind.case ?? "?"}${e.feature ? ` on ${e.feature}` : ""})`).join(", ") || "none"],
      ["created", time(g.createTime)],
    ]) +
    "\nFeatures:\n" +
    formatTable(
      ["NAME", "TYPE", "NULLABLE", "DESCRIPTION"],
      (g.schema?.features ?? []).map((f) => [f.name, featureType(f.type), g.primaryKey.includes(f.name) || f.name === g.eventTime ? "no" : f.nullable === false ? "no" : "yes", f.description]),
    ),
};

const featureView: ResourceKind<FeatureView> = {
  kind: "feature-view",
  aliases: ["feature-views", "fv"],
  schema: FeatureViewSchema,
  name: (ctx, text) => versionedName(text, ctx.requireProject, n.featureView),
  get: (ctx, name) => ctx.call("registry", async (c) => (await c.registry.getFeatureView({ name })).featureView!, "fti list feature-view"),
  list: (ctx) => ctx.call("registry", (c) => allPages(async (pageToken) => {
    const r = await c.registry.listFeatureViews({ parent: n.project(ctx.requireProject()), pageToken, pageSize: 1000 });
    return { items: r.featureViews, next: r.nextPageToken };
  })),
  headers: ["NAME", "VERSION", "ROOT", "JOINS", "LABELS", "OWNER"],
  row: (v) => [shortName(v.name).split("@")[0]!, String(v.version), shortName(v.root?.featureGroup ?? ""), v.joins.map((j) => shortName(j.selection?.featureGroup ?? "")).join(","), v.labelColumns.join(","), v.owner],
  describe: async (_ctx, v) =>
    formatFields([
      ["name", v.name],
      ["description", v.description],
      ["owner", v.owner],
      ["tags", formatTags(v.tags)],
      ["root", `${v.root?.featureGroup}${v.root?.features.length ? ` [${v.root.features.join(", ")}]` : ""}`],
      ...v.joins.map((j, i) => [`join ${i + 1}`, `${j.selection?.featureGroup} on ${j.keys.map((k) => (k.left === k.right ? k.left : `${k.left}=${k.right}`)).join(", ")}${j.selection?.prefix ? ` prefix ${j.selection.prefix}` : ""}`] as [string, string]),
      ["labels", v.labelColumns.join(", ")],
      ["serving keys", v.servingKeys.join(", ")],
      ["on-demand", v.onDemandFeatures.map((f) => `${f.name} = ${f.expression}`).join("; ") || "none"],
      ["transformations", v.transformations.map((t) => `${t.kind.case}(${t.feature})${t.output ? ` → ${t.output}` : ""}`).join(", ") || "none"],
      ["created", time(v.createTime)],
    ]) +
    "\nOutput columns:\n" +
    formatTable(["NAME", "TYPE"], (v.outputSchema?.features ?? []).map((f) => [f.name, featureType(f.type)])),
};

const datasetStates: Record<number, string> = { [TrainingDataset_State.CREATING]: "CREATING", [TrainingDataset_State.READY]: "READY", [TrainingDataset_State.FAILED]: "FAILED" };

/** "fraud@1/2" (view fraud version 1, dataset 2) or a full name. */
function datasetName(ctx: Context, text: string): string {
  if (text.startsWith("projects/")) return text;
  const m = /^(.+)\/(\d+)$/.exec(text);
  if (!m) throw new UsageError(`"${text}" is not a training dataset: use <feature-view>[@<version>]/<dataset-version>, e.g. fraud@1/2, or the full name`);
  return `${versionedName(m[1]!, ctx.requireProject, n.featureView)}/trainingDatasets/${m[2]}`;
}

const trainingDataset: ResourceKind<TrainingDataset> = {
  kind: "training-dataset",
  aliases: ["training-datasets", "td"],
  schema: TrainingDatasetSchema,
  name: datasetName,
  get: (ctx, name) => ctx.call("registry", async (c) => (await c.registry.getTrainingDataset({ name })).trainingDataset!, "fti list training-dataset --feature-view <view>"),
  list: async (ctx, { featureView: view }) => {
    if (!view) throw new UsageError("training datasets belong to a feature view version: `fti list training-dataset --feature-view <name>[@<version>]`");
    const parent = versionedName(view, ctx.requireProject, n.featureView);
    // List needs a concrete version; "latest" is resolved first.
    const resolved = parent.endsWith("/versions/latest") ? (await featureView.get(ctx, parent)).name : parent;
    return ctx.call("registry", (c) => allPages(async (pageToken) => {
      const r = await c.registry.listTrainingDatasets({ parent: resolved, pageToken, pageSize: 1000 });
      return { items: r.trainingDatasets, next: r.nextPageToken };
    }), "fti list feature-view");
  },
  headers: ["NAME", "STATE", "ROWS", "SPLITS", "CREATED"],
  row: (d) => [`${shortName(d.featureView)}/${d.version}`, datasetStates[d.state] ?? "?", String(d.splits.reduce((s, x) => s + Number(x.rowCount), 0)), d.splits.map((s) => `${s.name}:${s.rowCount}`).join(","), time(d.createTime)],
  describe: async (_ctx, d) =>
    formatFields([
      ["name", d.name],
      ["feature view", d.featureView],
      ["state", datasetStates[d.state] ?? "?"],
      ["description", d.description],
      ["location", d.location],
      ["job", d.job],
      ...(d.failureReason ? [["failure", d.failureReason] as [string, string]] : []),
      ["created", time(d.createTime)],
    ]) +
    "\nSplits:\n" +
    formatTable(["SPLIT", "ROWS", "FILES"], d.splits.map((s) => [s.name, String(s.rowCount), String(s.files.length)])),
};

const model: ResourceKind<Model> = {
  kind: "model",
  aliases: ["models"],
  schema: ModelSchema,
  name: (ctx, text) => versionedName(text, ctx.requireProject, n.model),
  get: (ctx, name) => ctx.call("registry", async (c) => (await c.registry.getModel({ name })).model!, "fti list model"),
  list: (ctx) => ctx.call("registry", (c) => allPages(async (pageToken) => {
    const r = await c.registry.listModels({ parent: n.project(ctx.requireProject()), pageToken, pageSize: 1000 });
    return { items: r.models, next: r.nextPageToken };
  })),
  headers: ["NAME", "VERSION", "METRICS", "FEATURE VIEW", "OWNER"],
  row: (m) => [shortName(m.name).split("@")[0]!, String(m.version), formatMetrics(m.metrics), shortName(m.featureView), m.owner],
  describe: async (_ctx, m) =>
    formatFields([
      ["name", m.name],
      ["description", m.description],
      ["owner", m.owner],
      ["tags", formatTags(m.tags)],
      ["artifact", m.artifactUri],
      ["checksum", m.checksum],
      ["metrics", formatMetrics(m.metrics)],
      ["label", m.label],
      ["training dataset", m.trainingDataset],
      ["feature view", m.featureView],
      ["training job", m.trainingJob],
      ["created", time(m.createTime)],
    ]) +
    "\nInputs:\n" +
    formatTable(["TENSOR", "SHAPE", "FEATURES"], m.inputs.map((t) => [t.name, `[${t.shape.join(", ")}]`, t.features.join(", ")])),
};

export function formatMetrics(metrics: Record<string, number>): string {
  return Object.entries(metrics)
    .map(([k, v]) => `${k}=${Number(v.toPrecision(4))}`)
    .join(",");
}

const deployment: ResourceKind<Deployment> = {
  kind: "deployment",
  aliases: ["deployments"],
  schema: DeploymentSchema,
  name: (ctx, text) => (text.startsWith("projects/") ? text : n.deployment(ctx.requireProject(), text)),
  get: (ctx, name) => ctx.call("registry", async (c) => (await c.registry.getDeployment({ name })).deployment!, "fti list deployment"),
  list: (ctx) => ctx.call("registry", (c) => allPages(async (pageToken) => {
    const r = await c.registry.listDeployments({ parent: n.project(ctx.requireProject()), pageToken, pageSize: 1000 });
    return { items: r.deployments, next: r.nextPageToken };
  })),
  headers: ["NAME", "REVISION", "ROUTES", "SHADOWS", "OWNER"],
  row: (d) => [shortName(d.name), String(d.revision), routesText(d), d.shadows.map((s) => `${shortName(s.model)}(${s.samplePercent || 100}%)`).join(","), d.owner],
  describe: async (ctx, d) => {
    const revisions = await ctx.call("registry", async (c) => (await c.registry.listDeploymentRevisions({ parent: d.name, pageSize: 20 })).revisions);
    return (
      formatFields([
        ["name", d.name],
        ["description", d.description],
        ["owner", d.owner],
        ["tags", formatTags(d.tags)],
        ["revision", String(d.revision)],
        ["updated", time(d.updateTime)],
      ]) +
      "\nRoutes:\n" +
      formatTable(["MODEL", "WEIGHT", "FEATURE VIEW"], [...d.routes.map((r) => [r.model, `${r.weight}%`, r.featureView]), ...d.shadows.map((s) => [`${s.model} (shadow)`, `${s.samplePercent || 100}% mirrored`, s.featureView])]) +
      "\nRevisions:\n" +
      formatTable(["REVISION", "ROUTES", "REASON", "CREATED"], revisions.map((r) => [String(r.revision), r.routes.map((x) => `${shortName(x.model)}=${x.weight}`).join(","), r.restoredRevision ? `${r.reason} (restores ${r.restoredRevision})`.trim() : r.reason, time(r.createTime)]))
    );
  },
};

export function routesText(d: { routes: { model: string; weight: number }[] }): string {
  return d.routes.map((r) => `${shortName(r.model)}=${r.weight}%`).join(",");
}

export const resourceKinds: ResourceKind[] = [project, featureGroup, featureView, trainingDataset, model, deployment] as ResourceKind[];

export function findKind(text: string | undefined): ResourceKind {
  const kind = resourceKinds.find((k) => k.kind === text || k.aliases.includes(text ?? ""));
  if (!kind) throw new UsageError(`${text ? `unknown kind "${text}"` : "which kind?"}; use one of ${resourceKinds.map((k) => k.kind).join(", ")}`);
  return kind;
}

export function toJsonValue(kind: ResourceKind, m: Message): unknown {
  return toJson(kind.schema, m as never);
}
