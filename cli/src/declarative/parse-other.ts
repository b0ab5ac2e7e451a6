// `project:`, `deployments:` and `monitors:` entries.
import { create } from "@bufbuild/protobuf";
import { Action, DriftMetric, MonitorSchema } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { DeploymentDefinition, MonitorDefinition, ProjectDefinition } from "./definitions.js";
import type { Reader } from "./reader.js";
import type { Path } from "./source.js";

/** `project: fraud` or `project: {name: fraud, description: ..., owner: ..., tags: ...}`. */
export function parseProject(r: Reader, value: unknown, path: Path): ProjectDefinition | undefined {
  if (typeof value === "string") {
    const id = r.id(value, path);
    return id ? { id, at: r.at(path) } : undefined;
  }
  const o = r.object(value, path, ["name", "description", "owner", "tags"]);
  if (!o) return undefined;
  const id = r.id(o.name, [...path, "name"]);
  if (!id) return undefined;
  return {
    id,
    at: r.at([...path, "name"]),
    description: r.string(o.description, [...path, "description"]),
    owner: r.string(o.owner, [...path, "owner"]),
    tags: o.tags === undefined ? undefined : r.tags(o.tags, [...path, "tags"]),
  };
}

function modelReference(r: Reader, o: Record<string, unknown> | undefined, path: Path) {
  const model = r.id(o?.model, [...path, "model"]);
  const version = r.number(o?.version, [...path, "version"], { integer: true, min: 1 });
  return model ? { model, version, at: r.at([...path, "model"]) } : undefined;
}

export function parseDeployment(r: Reader, value: unknown, path: Path, project: string): DeploymentDefinition | undefined {
  const o = r.object(value, path, ["name", "description", "owner", "tags", "routes", "shadows"]);
  if (!o) return undefined;
  const id = r.id(o.name, [...path, "name"]);
  const routes = r.list(o.routes, [...path, "routes"]).flatMap((x, i) => {
    const at = [...path, "routes", i];
    const ro = r.object(x, at, ["model", "version", "weight"]);
    const ref = modelReference(r, ro, at);
    const weight = r.number(ro?.weight ?? 100, [...at, "weight"], { integer: true, min: 0, max: 100 });
    return ref && weight !== undefined ? [{ ...ref, weight }] : [];
  });
  if (o.routes === undefined) r.error([...path, "routes"], "is required: the model versions that answer requests, e.g. routes: [{model: scorer, weight: 100}]");
  else if (routes.length && routes.reduce((s, x) => s + x.weight, 0) !== 100) r.error([...path, "routes"], `weights sum to ${routes.reduce((s, x) => s + x.weight, 0)}; they must sum to 100`);
  const shadows = r.list(o.shadows, [...path, "shadows"]).flatMap((x, i) => {
    const at = [...path, "shadows", i];
    const so = r.object(x, at, ["model", "version", "sample_percent"]);
    const ref = modelReference(r, so, at);
    const samplePercent = r.number(so?.sample_percent ?? 100, [...at, "sample_percent"], { integer: true, min: 1, max: 100 });
    return ref && samplePercent !== undefined ? [{ ...ref, samplePercent }] : [];
  });
  if (!id) return undefined;
  return {
    project,
    id,
    at: r.at([...path, "name"]),
    description: r.string(o.description, [...path, "description"]) ?? "",
    owner: r.string(o.owner, [...path, "owner"]) ?? "",
    tags: r.tags(o.tags, [...path, "tags"]),
    routes,
    shadows,
  };
}

const metrics = { psi: DriftMetric.PSI, ks: DriftMetric.KS, js: DriftMetric.JS, wasserstein: DriftMetric.WASSERSTEIN, chi_square: DriftMetric.CHI_SQUARE } as const;

export function parseMonitor(r: Reader, value: unknown, path: Path, project: string): MonitorDefinition | undefined {
  const o = r.object(value, path, ["name", "description", "feature_view", "version", "deployment", "features", "window", "reference", "thresholds", "consecutive_windows", "min_rows", "action", "paused"]);
  if (!o) return undefined;
  const id = r.id(o.name, [...path, "name"]);
  let target: MonitorDefinition["target"] | undefined;
  if ((o.feature_view === undefined) === (o.deployment === undefined)) r.error(path, "set exactly one target: feature_view (with an optional version) or deployment");
  else if (o.feature_view !== undefined) {
    const view = r.id(o.feature_view, [...path, "feature_view"]);
    if (view) target = { kind: "featureView", id: view, version: r.number(o.version, [...path, "version"], { integer: true, min: 1 }) };
  } else {
    const deployment = r.id(o.deployment, [...path, "deployment"]);
    if (deployment) target = { kind: "deployment", id: deployment };
  }
  const window = r.duration(o.window, [...path, "window"]);
  if (window === undefined && o.window === undefined) r.error([...path, "window"], "is required: the window size, e.g. 1h");
  else if (window !== undefined && window < 60) r.error([...path, "window"], "must be at least 1m");
  let reference: { source: { case: "trainingDataset"; value: string } | { case: "window"; value: { startTime?: ReturnType<typeof timestampFromDate>; endTime?: ReturnType<typeof timestampFromDate> } } } | undefined;
  if (o.reference !== undefined) {
    const ro = r.object(o.reference, [...path, "reference"], ["training_dataset", "start_time", "end_time"]);
    const td = r.string(ro?.training_dataset, [...path, "reference", "training_dataset"]);
    const time = (v: unknown, at: Path) => {
      const d = typeof v === "string" || v instanceof Date ? new Date(v) : undefined;
      if (v !== undefined && (!d || Number.isNaN(d.getTime()))) r.error(at, "must be an ISO 8601 time, e.g. 2024-05-01T00:00:00Z");
      return d && !Number.isNaN(d.getTime()) ? timestampFromDate(d) : undefined;
    };
    if (td) reference = { source: { case: "trainingDataset", value: td } };
    else reference = { source: { case: "window", value: { startTime: time(ro?.start_time, [...path, "reference", "start_time"]), endTime: time(ro?.end_time, [...path, "reference", "end_time"]) } } };
  } else if (target?.kind === "featureView") r.error([...path, "reference"], "is required for a feature view monitor: reference: {training_dataset: <name>} or {start_time, end_time}");
  const thresholds = r.list(o.thresholds, [...path, "thresholds"]).flatMap((t, i) => {
    const at = [...path, "thresholds", i];
    const to = r.object(t, at, ["feature", "metric", "threshold"]);
    const metric = r.choice(to?.metric, [...at, "metric"], Object.keys(metrics) as (keyof typeof metrics)[]);
    if (to && to.metric === undefined) r.error([...at, "metric"], `is required: ${Object.keys(metrics).join(", ")}`);
    const threshold = r.number(to?.threshold, [...at, "threshold"], { min: Number.MIN_VALUE, required: true });
    return metric && threshold !== undefined ? [{ feature: r.string(to?.feature, [...at, "feature"]) ?? "", metric: metrics[metric], threshold }] : [];
  });
  const action = r.choice(o.action, [...path, "action"], ["notify", "trigger_training"] as const);
  if (!id || !target) return undefined;
  const monitor = create(MonitorSchema, {
    description: r.string(o.description, [...path, "description"]) ?? "",
    features: r.strings(o.features, [...path, "features"]),
    window: window === undefined ? undefined : { seconds: BigInt(Math.floor(window)) },
    reference,
    thresholds,
    consecutiveWindows: r.number(o.consecutive_windows, [...path, "consecutive_windows"], { integer: true, min: 1 }) ?? 0,
    minRows: BigInt(r.number(o.min_rows, [...path, "min_rows"], { integer: true, min: 1 }) ?? 0),
    action: action === "trigger_training" ? Action.TRIGGER_TRAINING : action === "notify" ? Action.NOTIFY : Action.UNSPECIFIED,
    paused: r.bool(o.paused, [...path, "paused"]) ?? false,
  });
  return { project, id, at: r.at([...path, "name"]), monitor, target };
}
