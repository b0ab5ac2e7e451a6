// Monitor configs: create / get / list / update / delete with etags, and the
// validation that keeps a bad config out (unknown features, thresholds out of
// range, a feature view without a reference). Stored as protobuf bytes with
// the columns queries filter on.
import { clone, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { durationMs, timestampDate, timestampNow, type FieldMask } from "@bufbuild/protobuf/wkt";
import { applyMask, assertId, checkEtag, decodePageToken, formatEtag, maskPaths, pageSize, paginate, parseFilter, parseName, requestFingerprint } from "@fti/aip";
import { withTransaction, type Pool } from "@fti/db";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, type FieldViolation } from "@fti/errors";
import type { MetadataCache } from "@fti/registry-client";
import { Action, DriftMetric, MonitorSchema, type Monitor } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { names } from "./names.js";
import { deploymentFeatures, featureViewSources } from "./targets.js";
import { performanceMetricNames, higherIsBetter } from "./performance/metrics.js";

const updatable = ["description", "features", "window", "reference", "thresholds", "performance", "consecutive_windows", "min_rows", "action", "paused"];

export const DEFAULT_MIN_ROWS = 100n;
export const minRowsOf = (m: Monitor) => (m.minRows === 0n ? DEFAULT_MIN_ROWS : m.minRows);
export const consecutiveWindowsOf = (m: Monitor) => Math.max(1, m.consecutiveWindows);
export const windowMsOf = (m: Monitor) => (m.window ? durationMs(m.window) : 0);
export const targetOf = (m: Monitor) => (m.target.case === "featureView" || m.target.case === "deployment" ? m.target.value : "");

export interface MonitorsOptions {
  pool: Pool;
  cache: MetadataCache;
  /** Smallest window accepted; 1 minute in production, seconds in tests. */
  minWindowMs: number;
}

export type Monitors = ReturnType<typeof createMonitors>;

export function createMonitors({ pool, cache, minWindowMs }: MonitorsOptions) {
  const decode = (bytes: Uint8Array) => fromBinary(MonitorSchema, bytes);

  async function load(name: string): Promise<Monitor> {
    const { rows } = await pool.query<{ monitor: Uint8Array }>("SELECT monitor FROM monitors WHERE name = $1", [name]);
    if (!rows[0]) throw new NotFoundError("monitor", name);
    return decode(rows[0].monitor);
  }

  /** Every violation of the config, checked against the registry. */
  async function validate(m: Monitor, project: string): Promise<void> {
    const v: FieldViolation[] = [];
    let known: Set<string> | undefined;
    if (m.target.case === "featureView") {
      const match = names.featureView.match(m.target.value);
      if (!match || match.project !== project) v.push({ field: "monitor.feature_view", description: `must be a feature view version of project "${project}", "projects/${project}/featureViews/{feature_view}/versions/{version}"` });
      else {
        const view = await lookup(() => cache.featureView(m.target.value as string), "monitor.feature_view", v);
        if (view) known = new Set((await featureViewSources(cache, view)).features);
      }
      if (!m.reference?.source.case) v.push({ field: "monitor.reference", description: "is required for a feature view monitor (a training dataset, an earlier window or fixed statistics)" });
      if (m.performance) v.push({ field: "monitor.performance", description: "model performance is tracked for deployment monitors only" });
    } else if (m.target.case === "deployment") {
      const match = names.deployment.match(m.target.value);
      if (!match || match.project !== project) v.push({ field: "monitor.deployment", description: `must be a deployment of project "${project}", "projects/${project}/deployments/{deployment}"` });
      else {
        const found = await lookup(() => deploymentFeatures(cache, m.target.value as string), "monitor.deployment", v);
        if (found) known = found.features;
      }
    } else v.push({ field: "monitor.target", description: "set feature_view or deployment" });

    if (known) {
      m.features.forEach((f, i) => {
        if (!known.has(f)) v.push({ field: `monitor.features[${i}]`, description: `unknown feature "${f}"; the target has ${[...known].join(", ") || "no features"}` });
      });
    }
    const windowMs = windowMsOf(m);
    if (!m.window) v.push({ field: "monitor.window", description: "is required, e.g. 3600s" });
    else if (!(windowMs >= minWindowMs)) v.push({ field: "monitor.window", description: `must be at least ${minWindowMs / 1000}s, got ${windowMs / 1000}s` });

    validateReference(m, project, v);
    m.thresholds.forEach((t, i) => {
      const field = `monitor.thresholds[${i}]`;
      if (t.metric === DriftMetric.UNSPECIFIED || !(t.metric in DriftMetric)) v.push({ field: `${field}.metric`, description: "set a drift metric (PSI, KS, JS, WASSERSTEIN, CHI_SQUARE)" });
      const problem = thresholdProblem(t.metric, t.threshold);
      if (problem) v.push({ field: `${field}.threshold`, description: problem });
      if (t.feature && known && !known.has(t.feature)) v.push({ field: `${field}.feature`, description: `unknown feature "${t.feature}"` });
      if (t.feature && m.features.length && !m.features.includes(t.feature)) v.push({ field: `${field}.feature`, description: `"${t.feature}" is not among the watched features` });
      if (m.thresholds.findIndex((o) => o.feature === t.feature && o.metric === t.metric) !== i) v.push({ field, description: `duplicate threshold for ${t.feature || "every feature"} and ${DriftMetric[t.metric]}` });
    });
    if (m.consecutiveWindows > 1000) v.push({ field: "monitor.consecutive_windows", description: "must be at most 1000" });
    if (m.minRows < 0n) v.push({ field: "monitor.min_rows", description: "must not be negative" });
    if (!(m.action in Action)) v.push({ field: "monitor.action", description: "unknown action" });
    if (m.performance) {
      const p = m.performance;
      if (!names.featureGroupVersion.match(p.labelFeatureGroup)) v.push({ field: "monitor.performance.label_feature_group", description: `must be "${names.featureGroupVersion.pattern}"` });
      else {
        const group = await lookup(() => cache.featureGroup(p.labelFeatureGroup), "monitor.performance.label_feature_group", v);
        if (group && !group.schema?.features.some((f) => f.name === p.labelColumn)) v.push({ field: "monitor.performance.label_column", description: `"${p.labelColumn}" is not a column of ${p.labelFeatureGroup}` });
      }
      if (!p.labelColumn) v.push({ field: "monitor.performance.label_column", description: "is required" });
      if (p.maxLabelDelay && durationMs(p.maxLabelDelay) <= 0) v.push({ field: "monitor.performance.max_label_delay", description: "must be positive" });
      p.thresholds.forEach((t, i) => {
        const field = `monitor.performance.thresholds[${i}]`;
        if (!performanceMetricNames.includes(t.metric)) v.push({ field: `${field}.metric`, description: `must be one of ${performanceMetricNames.join(", ")}` });
        else if (!(t.threshold > 0) || (higherIsBetter(t.metric) && t.threshold > 1)) v.push({ field: `${field}.threshold`, description: higherIsBetter(t.metric) ? "must be in (0, 1]" : "must be > 0" });
      });
    }
    if (v.length) throw new InvalidArgumentError(v);
  }

  return {
    async createMonitor(parent: string, monitorId: string, monitor: Monitor | undefined): Promise<Monitor> {
      const { project } = parseName(names.project, parent, "parent");
      assertId(monitorId, "monitor_id");
      if (!monitor) throw InvalidArgumentError.field("monitor", "is required");
      const m = clone(MonitorSchema, monitor);
      Object.assign(m, { name: names.monitor.format({ project, monitor: monitorId }), etag: "", createTime: undefined, updateTime: undefined });
      await validate(m, project);
      if (m.action === Action.UNSPECIFIED) m.action = Action.NOTIFY;
      Object.assign(m, { etag: formatEtag(1), createTime: timestampNow(), updateTime: timestampNow() });
      const inserted = await pool.query("INSERT INTO monitors (name, project, revision, target, paused, monitor) VALUES ($1, $2, 1, $3, $4, $5) ON CONFLICT DO NOTHING", [m.name, project, targetOf(m), m.paused, toBinary(MonitorSchema, m)]);
      if (inserted.rowCount === 0) throw new AlreadyExistsError("monitor", m.name);
      return m;
    },

    async getMonitor(name: string): Promise<Monitor> {
      parseName(names.monitor, name, "name");
      return load(name);
    },

    /** A monitor by name for the other RPCs: the field is named in errors. */
    async monitorOf(name: string, field: string): Promise<Monitor> {
      parseName(names.monitor, name, field);
      return load(name);
    },

    async listMonitors(request: { parent: string; pageSize: number; pageToken: string; filter: string }) {
      const { project } = parseName(names.project, request.parent, "parent");
      const size = pageSize(request.pageSize);
      const terms = parseFilter(request.filter, ["feature_view", "deployment", "paused"]);
      const fingerprint = requestFingerprint([request.parent, request.filter]);
      const cursor = decodePageToken(request.pageToken, fingerprint);
      const { rows } = await pool.query<{ created_seq: string; monitor: Uint8Array }>("SELECT created_seq, monitor FROM monitors WHERE project = $1 AND created_seq > $2 ORDER BY created_seq", [project, cursor?.[0] ?? 0]);
      const matching = rows.filter((r) => {
        const m = decode(r.monitor);
        return terms.every((term) => (term.field === "paused" ? String(m.paused) === term.value : m.target.case === (term.field === "feature_view" ? "featureView" : "deployment") && m.target.value === term.value));
      });
      const page = paginate(matching.slice(0, size + 1), size, (r) => [Number(r.created_seq)], fingerprint);
      return { items: page.items.map((r) => decode(r.monitor)), nextPageToken: page.nextPageToken };
    },

    /** Every monitor (for the consumers and the evaluator). */
    async allMonitors(): Promise<Monitor[]> {
      const { rows } = await pool.query<{ monitor: Uint8Array }>("SELECT monitor FROM monitors ORDER BY created_seq");
      return rows.map((r) => decode(r.monitor));
    },

    async updateMonitor(patch: Monitor | undefined, mask: FieldMask | undefined): Promise<Monitor> {
      if (!patch) throw InvalidArgumentError.field("monitor", "is required");
      const { project } = parseName(names.monitor, patch.name, "monitor.name");
      const paths = maskPaths(mask?.paths ?? [], updatable);
      return withTransaction(pool, async (db) => {
        const { rows } = await db.query<{ monitor: Uint8Array; revision: string }>("SELECT monitor, revision FROM monitors WHERE name = $1 FOR UPDATE", [patch.name]);
        if (!rows[0]) throw new NotFoundError("monitor", patch.name);
        const current = decode(rows[0].monitor);
        checkEtag(patch.etag, current.etag, current.name);
        const next = applyMask(clone(MonitorSchema, current), patch, paths);
        await validate(next, project);
        if (next.action === Action.UNSPECIFIED) next.action = Action.NOTIFY;
        const revision = Number(rows[0].revision) + 1;
        Object.assign(next, { etag: formatEtag(revision), updateTime: timestampNow() });
        await db.query("UPDATE monitors SET monitor = $2, revision = $3, paused = $4 WHERE name = $1", [next.name, toBinary(MonitorSchema, next), revision, next.paused]);
        return next;
      });
    },

    async deleteMonitor(name: string, etag: string): Promise<void> {
      parseName(names.monitor, name, "name");
      const current = await load(name);
      checkEtag(etag, current.etag, name);
      // Statistics, alerts and predictions go with it (ON DELETE CASCADE).
      await pool.query("DELETE FROM monitors WHERE name = $1", [name]);
    },
  };
}

/** Why a threshold is out of range for its metric (see DriftMetric for the scales), or undefined. */
export function thresholdProblem(metric: DriftMetric, threshold: number): string | undefined {
  if (!Number.isFinite(threshold) || threshold <= 0) return `must be > 0, got ${threshold}`;
  if ((metric === DriftMetric.KS || metric === DriftMetric.JS) && threshold > 1) return `${DriftMetric[metric]} lies in [0, 1]; a threshold of ${threshold} can never be crossed`;
  if (metric === DriftMetric.CHI_SQUARE && threshold >= 1) return `the chi-square score is a p-value; the threshold must be in (0, 1), got ${threshold}`;
  return undefined;
}

function validateReference(m: Monitor, project: string, v: FieldViolation[]) {
  const source = m.reference?.source;
  if (!source?.case) return;
  if (source.case === "trainingDataset") {
    const match = names.trainingDataset.match(source.value);
    if (!match || match.project !== project) v.push({ field: "monitor.reference.training_dataset", description: `must be a training dataset of project "${project}"` });
  } else if (source.case === "window") {
    const { startTime, endTime } = source.value;
    if (!startTime || !endTime || timestampDate(startTime) >= timestampDate(endTime)) v.push({ field: "monitor.reference.window", description: "needs start_time before end_time" });
  } else if (source.case === "fixed") {
    if (source.value.statistics.length === 0) v.push({ field: "monitor.reference.fixed.statistics", description: "give at least one feature's histogram or top_values" });
    source.value.statistics.forEach((s, i) => {
      const field = `monitor.reference.fixed.statistics[${i}]`;
      const h = s.histogram;
      if (!s.feature) v.push({ field: `${field}.feature`, description: "is required" });
      if (h) {
        const ascending = h.edges.every((e, j) => j === 0 || e > h.edges[j - 1]!);
        if (h.edges.length < 2 || !ascending) v.push({ field: `${field}.histogram.edges`, description: "needs at least two strictly ascending edges" });
        else if (h.counts.length !== h.edges.length - 1) v.push({ field: `${field}.histogram.counts`, description: `needs ${h.edges.length - 1} counts (one per bin), got ${h.counts.length}` });
        else if (h.counts.some((c) => c < 0n) || h.counts.every((c) => c === 0n)) v.push({ field: `${field}.histogram.counts`, description: "must be non-negative and not all zero" });
      } else if (s.topValues.length === 0) v.push({ field, description: "give a histogram (numeric) or top_values (categorical)" });
    });
  }
}

/** Runs a registry lookup; a missing resource becomes a violation of `field`. */
async function lookup<T>(load: () => Promise<T>, field: string, v: FieldViolation[]): Promise<T | undefined> {
  try {
    return await load();
  } catch (err) {
    if (err instanceof NotFoundError) {
      v.push({ field, description: `${err.resourceType} "${err.resourceName}" does not exist` });
      return undefined;
    }
    throw err;
  }
}
