// Judges closed windows, oldest first: drift against the reference, then the
// alert streaks, all in one transaction per window (marked evaluated, so a
// window is judged once even with several replicas). A window [s, e) is closed
// once rows from past e + allowed lateness have arrived (so a replayed or fast
// synthetic stream is judged as it goes), or once e + allowed lateness has
// passed on the clock and the window has not changed for the settle time (so a
// backfilled window is not judged while its rows are still arriving).
// Windows without any row are not judged: they neither extend nor break a
// streak. Performance windows are judged once max_label_delay has also passed.
import { durationMs } from "@bufbuild/protobuf/wkt";
import { withTransaction, type Pool } from "@fti/db";
import { isUnavailable } from "@fti/errors";
import type { Logger } from "@fti/logger";
import { Alert_Kind as Kind, DriftStatus, type Monitor } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { observe, driftMetricKey } from "./alerts.js";
import { DEFAULT_MAX_LABEL_DELAY_MS } from "./consumers/ingestion-commit.js";
import type { DriftGauges } from "./drift-gauges.js";
import { windowDrift } from "./drift-report.js";
import { minRowsOf, windowMsOf } from "./monitors.js";
import { modelMetrics, worseThan } from "./performance/metrics.js";
import { performanceWindows } from "./performance/predictions-store.js";
import type { References } from "./references.js";
import { markEvaluated, newestWindowStart, pendingWindows } from "./window-store.js";
import { timeRangeOf, windowAt } from "./windows.js";

export interface EvaluatorOptions {
  pool: Pool;
  references: References;
  gauges: DriftGauges;
  logger: Logger;
  subjectPrefix: string;
  allowedLatenessMs: number;
  /** How long a window past its end must stay unchanged before the clock alone closes it. */
  windowSettleMs: number;
  monitors(): Promise<Monitor[]>;
  /** A raised or resolved alert was committed (wakes the outbox relay). */
  onAlert(): void;
  now?: () => number;
}

export function createEvaluator(options: EvaluatorOptions) {
  const { pool, logger } = options;
  const now = options.now ?? Date.now;

  /** Which windows count as closed (see the top of this file). */
  async function closedBounds(monitor: Monitor, windowMs: number) {
    const newest = (await newestWindowStart(pool, monitor.name, windowMs)) ?? 0;
    // Window [s, s + w) is closed when s + w <= bound, i.e. s < bound - w + 1.
    return {
      closedByDataBefore: newest - options.allowedLatenessMs - windowMs + 1,
      closedByClockBefore: now() - options.allowedLatenessMs - windowMs + 1,
      settleMs: options.windowSettleMs,
    };
  }

  async function evaluateDrift(monitor: Monitor): Promise<void> {
    const windowMs = windowMsOf(monitor);
    for (const window of await pendingWindows(pool, monitor.name, windowMs, await closedBounds(monitor, windowMs))) {
      const reference = await options.references.resolve(monitor, window.model);
      const drift = windowDrift(monitor, reference, window);
      const alerts = await withTransaction(pool, async (db) => {
        if (!(await markEvaluated(db, window))) return 0;
        if (drift.status === DriftStatus.INSUFFICIENT_DATA) return 0;
        let changed = 0;
        for (const feature of drift.features) {
          if (feature.status === DriftStatus.INSUFFICIENT_DATA) continue;
          for (const score of feature.scores) {
            const alert = await observe(db, monitor, {
              kind: Kind.FEATURE_DRIFT,
              feature: feature.feature,
              metric: driftMetricKey(score.metric),
              model: window.model,
              exceeded: score.exceeded,
              evidence: { metric: { case: "driftMetric", value: score.metric }, value: score.value!, threshold: score.threshold, window: timeRangeOf(windowAt(window.startMs, windowMs)), rowCount: BigInt(window.rowCount) },
            }, options.subjectPrefix);
            if (alert) changed++;
          }
        }
        return changed;
      });
      if (alerts) options.onAlert();
      options.gauges.windowRows.set({ monitor: monitor.name, model: window.model }, window.rowCount);
      for (const feature of drift.features) {
        for (const score of feature.scores) if (score.value !== undefined) options.gauges.driftScore.set({ monitor: monitor.name, feature: feature.feature, metric: driftMetricKey(score.metric), model: window.model }, score.value);
      }
    }
  }

  async function evaluatePerformance(monitor: Monitor): Promise<void> {
    const p = monitor.performance;
    if (!p || p.thresholds.length === 0) return;
    const windowMs = windowMsOf(monitor);
    const delayMs = p.maxLabelDelay ? durationMs(p.maxLabelDelay) : DEFAULT_MAX_LABEL_DELAY_MS;
    const before = Math.max(now(), (await newestWindowStart(pool, monitor.name, windowMs)) ?? 0) - options.allowedLatenessMs - delayMs;
    const { rows: done } = await pool.query<{ model: string; window_start: Date }>("SELECT model, window_start FROM performance_evaluations WHERE monitor = $1 AND window_ms = $2", [monitor.name, windowMs]);
    const judged = new Set(done.map((r) => `${r.model} ${r.window_start.getTime()}`));
    const windows = (await performanceWindows(pool, monitor.name, windowMs, { fromMs: 0, toMs: before - windowMs + 1 })).filter((w) => !judged.has(`${w.model} ${w.startMs}`));
    for (const w of windows) {
      const metrics = modelMetrics(w.scores, w.labels);
      const enough = BigInt(w.labels.length) >= minRowsOf(monitor);
      const alerts = await withTransaction(pool, async (db) => {
        const claimed = await db.query("INSERT INTO performance_evaluations (monitor, model, window_ms, window_start) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", [monitor.name, w.model, windowMs, new Date(w.startMs)]);
        if (claimed.rowCount !== 1 || !enough) return 0;
        let changed = 0;
        for (const t of p.thresholds) {
          const value = metrics[t.metric];
          if (value === undefined) continue;
          const alert = await observe(db, monitor, {
            kind: Kind.MODEL_PERFORMANCE,
            feature: "",
            metric: t.metric,
            model: w.model,
            exceeded: worseThan(t.metric, value, t.threshold),
            evidence: { metric: { case: "performanceMetric", value: t.metric }, value, threshold: t.threshold, window: timeRangeOf(windowAt(w.startMs, windowMs)), rowCount: BigInt(w.labels.length) },
          }, options.subjectPrefix);
          if (alert) changed++;
        }
        return changed;
      });
      if (alerts) options.onAlert();
      if (enough) for (const [metric, value] of Object.entries(metrics)) options.gauges.modelMetric.set({ monitor: monitor.name, metric, model: w.model }, value);
    }
  }

  /** One pass over every active monitor; one monitor's failure does not stop the others. */
  async function evaluateOnce(): Promise<void> {
    for (const monitor of await options.monitors()) {
      if (monitor.paused) continue;
      try {
        await evaluateDrift(monitor);
        await evaluatePerformance(monitor);
      } catch (err) {
        const level = isUnavailable(err) ? "warn" : "error";
        logger[level]("cannot evaluate monitor; will retry", { monitor: monitor.name, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  return { evaluateOnce };
}

/** Runs `evaluateOnce` every `intervalMs` until stopped. */
export function startEvaluationLoop(evaluateOnce: () => Promise<void>, intervalMs: number, logger: Logger) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = evaluateOnce()
      .catch((err) => logger.warn("evaluation pass failed", { error: err instanceof Error ? err.message : String(err) }))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  timer = setTimeout(tick, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
