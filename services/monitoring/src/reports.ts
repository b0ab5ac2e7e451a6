// The read side of the API: per-window statistics, drift reports and model
// performance over a time range, computed from the stored window statistics
// (so late rows merged into a window show up) and the resolved reference.
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Pool } from "@fti/db";
import { FailedPreconditionError, InvalidArgumentError } from "@fti/errors";
import type { Logger } from "@fti/logger";
import type { MetadataCache } from "@fti/registry-client";
import { FeatureStatisticsSchema, type FeatureStatistics } from "@fti/proto/fti/common/v1/statistics_pb";
import type { TimeRange } from "@fti/proto/fti/common/v1/types_pb";
import { DriftStatus, type Monitor } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { totalWeight } from "./drift/distributions.js";
import type { FeatureReference, ResolvedReference } from "./drift/reference-distribution.js";
import { windowDrift } from "./drift-report.js";
import { minRowsOf, windowMsOf } from "./monitors.js";
import { modelMetrics } from "./performance/metrics.js";
import { performanceWindows } from "./performance/predictions-store.js";
import type { References } from "./references.js";
import { toFeatureStatistics } from "./statistics/feature-partial.js";
import { deploymentFeatures, featureViewSources } from "./targets.js";
import { readWindows, type WindowRow } from "./window-store.js";
import { timeRangeOf, windowAt, windowStartOf } from "./windows.js";

/** Most windows one request may cover. */
export const MAX_WINDOWS_PER_REQUEST = 10_000;

export function createReports(deps: { pool: Pool; cache: MetadataCache; references: References; logger: Logger; now?: () => number }) {
  const now = deps.now ?? Date.now;

  /** Window starts overlapping the request's range; unset: the last `defaultCount` complete windows. */
  function windowRange(monitor: Monitor, range: TimeRange | undefined, defaultCount: number): { fromMs: number; toMs: number } {
    const w = windowMsOf(monitor);
    if (!range?.startTime && !range?.endTime) {
      const toMs = windowStartOf(now(), w);
      return { fromMs: toMs - defaultCount * w, toMs };
    }
    const fromMs = range.startTime ? windowStartOf(timestampDate(range.startTime).getTime(), w) : 0;
    const toMs = range.endTime ? timestampDate(range.endTime).getTime() : now();
    if (toMs <= fromMs) throw InvalidArgumentError.field("time_range", "is empty: end_time must be after start_time");
    if ((toMs - fromMs) / w > MAX_WINDOWS_PER_REQUEST && range.startTime) throw InvalidArgumentError.field("time_range", `covers ${Math.ceil((toMs - fromMs) / w)} windows; at most ${MAX_WINDOWS_PER_REQUEST} per request`);
    return { fromMs, toMs };
  }

  /** Stored windows, plus an empty one for each window start without rows (reported as insufficient data). */
  async function windowsIn(monitor: Monitor, range: { fromMs: number; toMs: number }, model: string): Promise<WindowRow[]> {
    const w = windowMsOf(monitor);
    const stored = await readWindows(deps.pool, monitor.name, w, range, model);
    if (range.fromMs === 0) return stored;
    const present = new Set(stored.map((s) => s.startMs));
    const out = [...stored];
    for (let start = range.fromMs; start < range.toMs; start += w) {
      if (!present.has(start)) out.push({ monitor: monitor.name, model, windowMs: w, startMs: start, rowCount: 0, features: {}, evaluated: false });
    }
    return out.sort((a, b) => a.startMs - b.startMs || a.model.localeCompare(b.model));
  }

  /** Throws INVALID_ARGUMENT for requested features the monitor does not watch. */
  async function checkFeatures(monitor: Monitor, requested: readonly string[]): Promise<void> {
    if (!requested.length) return;
    let known: Set<string>;
    if (monitor.features.length) known = new Set(monitor.features);
    else if (monitor.target.case === "featureView") known = new Set((await featureViewSources(deps.cache, await deps.cache.featureView(monitor.target.value))).features);
    else known = (await deploymentFeatures(deps.cache, monitor.target.value!)).features;
    const unknown = requested.filter((f) => !known.has(f));
    if (unknown.length) throw InvalidArgumentError.field("features", `unknown feature${unknown.length > 1 ? "s" : ""} ${unknown.map((f) => `"${f}"`).join(", ")}; ${monitor.name} watches ${[...known].join(", ")}`);
  }

  /** The reference for a model's windows, or undefined when it cannot be resolved (statistics are still returned). */
  async function referenceOrUndefined(monitor: Monitor, model: string): Promise<ResolvedReference | undefined> {
    try {
      return await deps.references.resolve(monitor, model);
    } catch (err) {
      deps.logger.debug("reference unavailable", { monitor: monitor.name, model, error: (err as Error).message });
      return undefined;
    }
  }

  return {
    async statistics(monitor: Monitor, request: { timeRange?: TimeRange; features: string[]; model: string; includeReference: boolean }) {
      await checkFeatures(monitor, request.features);
      const windows = await windowsIn(monitor, windowRange(monitor, request.timeRange, 24), request.model);
      const minRows = minRowsOf(monitor);
      const references = new Map<string, ResolvedReference | undefined>();
      const out = [];
      for (const w of windows) {
        if (!references.has(w.model)) references.set(w.model, await referenceOrUndefined(monitor, w.model));
        const reference = references.get(w.model);
        const features = Object.keys(w.features)
          .filter((f) => !request.features.length || request.features.includes(f))
          .sort()
          .map((f) => {
            const ref = reference?.features.get(f);
            return toFeatureStatistics(f, w.features[f]!, ref?.kind === "numeric" ? ref.edges : undefined);
          });
        out.push({ window: timeRangeOf(windowAt(w.startMs, w.windowMs)), model: w.model, rowCount: BigInt(w.rowCount), insufficientData: BigInt(w.rowCount) < minRows, features });
      }
      let reference: FeatureStatistics[] = [];
      if (request.includeReference) {
        const resolved = await deps.references.resolve(monitor, request.model || windows.find((w) => w.model)?.model || "");
        reference = [...resolved.features].filter(([f]) => !request.features.length || request.features.includes(f)).map(([f, r]) => referenceStatistics(f, r));
      }
      return { windows: out, reference };
    },

    async driftReport(monitor: Monitor, request: { timeRange?: TimeRange; features: string[]; model: string }) {
      await checkFeatures(monitor, request.features);
      const windows = await windowsIn(monitor, windowRange(monitor, request.timeRange, 1), request.model);
      const out = [];
      let description = "";
      for (const w of windows) {
        const reference = await deps.references.resolve(monitor, w.model).catch((err) => {
          // An empty window of a deployment has no model version to pick a training dataset by.
          if (w.rowCount === 0) return undefined;
          throw err;
        });
        if (!reference) {
          out.push({ window: timeRangeOf(windowAt(w.startMs, w.windowMs)), model: w.model, rowCount: 0n, status: DriftStatus.INSUFFICIENT_DATA, features: [] });
          continue;
        }
        description ||= reference.description;
        const drift = windowDrift(monitor, reference, w, request.features);
        out.push({
          window: timeRangeOf(windowAt(w.startMs, w.windowMs)),
          model: w.model,
          rowCount: BigInt(w.rowCount),
          status: drift.status,
          features: drift.features.map((f) => ({ feature: f.feature, status: f.status, valueCount: BigInt(f.valueCount), scores: f.scores.map((s) => ({ metric: s.metric, value: s.value, threshold: s.threshold, exceeded: s.exceeded })) })),
        });
      }
      if (!description && monitor.reference?.source.case) description = (await deps.references.resolve(monitor, "").catch(() => undefined))?.description ?? "";
      return { windows: out, reference: description };
    },

    async modelPerformance(monitor: Monitor, request: { timeRange?: TimeRange; model: string }) {
      if (!monitor.performance) throw new FailedPreconditionError(`${monitor.name} does not track model performance; set its performance config (a deployment monitor with a label feature group)`);
      const windowMs = windowMsOf(monitor);
      const minRows = minRowsOf(monitor);
      const windows = await performanceWindows(deps.pool, monitor.name, windowMs, windowRange(monitor, request.timeRange, 24), request.model);
      return {
        windows: windows.map((w) => {
          const insufficientData = BigInt(w.labels.length) < minRows;
          return { window: timeRangeOf(windowAt(w.startMs, windowMs)), model: w.model, predictionCount: BigInt(w.predictionCount), labeledCount: BigInt(w.labels.length), insufficientData, metrics: insufficientData ? {} : modelMetrics(w.scores, w.labels) };
        }),
      };
    },
  };
}

/** A resolved reference feature as wire statistics. */
function referenceStatistics(feature: string, reference: FeatureReference): FeatureStatistics {
  if (reference.kind === "categorical") {
    const top = [...reference.counts].sort((a, b) => b[1] - a[1]);
    const count = top.reduce((a, [, c]) => a + c, 0);
    return create(FeatureStatisticsSchema, { feature, count: BigInt(Math.round(count)), topValues: top.map(([value, c]) => ({ value, count: BigInt(Math.round(c)) })) });
  }
  const { values, weights } = reference.points;
  const total = totalWeight(reference.points);
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += (values[i]! * (weights ? weights[i]! : 1)) / total;
  let variance = 0;
  for (let i = 0; i < values.length; i++) variance += ((values[i]! - mean) ** 2 * (weights ? weights[i]! : 1)) / total;
  return create(FeatureStatisticsSchema, {
    feature,
    count: BigInt(Math.round(total)),
    min: values[0],
    max: values[values.length - 1],
    mean,
    stddev: Math.sqrt(variance),
    histogram: { edges: reference.edges, counts: reference.counts.map((c) => BigInt(Math.round(c))) },
  });
}
