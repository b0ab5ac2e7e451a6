// Per-window statistics in Postgres. Adding rows to a window merges their
// partial statistics into the stored ones under a row lock, so windows fill
// up from any number of batches (and replicas) without rescanning data.
import type { Queryable } from "@fti/db";
import { emptyPartial, mergePartials, type FeaturePartial } from "./statistics/feature-partial.js";

export interface WindowRow {
  monitor: string;
  model: string;
  windowMs: number;
  startMs: number;
  rowCount: number;
  features: Record<string, FeaturePartial>;
  evaluated: boolean;
}

export interface WindowDelta {
  model: string;
  windowMs: number;
  startMs: number;
  rowCount: number;
  features: Record<string, FeaturePartial>;
}

/** Merges a batch's statistics into its window; call inside the batch's transaction. */
export async function mergeIntoWindow(db: Queryable, monitor: string, delta: WindowDelta): Promise<void> {
  const key = [monitor, delta.windowMs, new Date(delta.startMs), delta.model];
  await db.query("INSERT INTO window_stats (monitor, window_ms, window_start, model, row_count, features) VALUES ($1, $2, $3, $4, 0, '{}') ON CONFLICT DO NOTHING", key);
  const { rows } = await db.query<{ row_count: string; features: Record<string, FeaturePartial> }>(
    "SELECT row_count, features FROM window_stats WHERE monitor = $1 AND window_ms = $2 AND window_start = $3 AND model = $4 FOR UPDATE",
    key,
  );
  const stored = rows[0]!.features;
  const merged: Record<string, FeaturePartial> = { ...stored };
  for (const [feature, partial] of Object.entries(delta.features)) merged[feature] = mergePartials(stored[feature] ?? emptyPartial(), partial);
  await db.query("UPDATE window_stats SET row_count = row_count + $5, features = $6, updated_at = now() WHERE monitor = $1 AND window_ms = $2 AND window_start = $3 AND model = $4", [...key, delta.rowCount, JSON.stringify(merged)]);
}

type Row = { monitor: string; model: string; window_ms: string; window_start: Date; row_count: string; features: Record<string, FeaturePartial>; evaluated_at: Date | null };
const fromRow = (r: Row): WindowRow => ({ monitor: r.monitor, model: r.model, windowMs: Number(r.window_ms), startMs: r.window_start.getTime(), rowCount: Number(r.row_count), features: r.features, evaluated: r.evaluated_at !== null });

/** Windows of a monitor with start in [fromMs, toMs), oldest first, then by model. */
export async function readWindows(db: Queryable, monitor: string, windowMs: number, range: { fromMs: number; toMs: number }, model = ""): Promise<WindowRow[]> {
  const { rows } = await db.query<Row>(
    `SELECT * FROM window_stats WHERE monitor = $1 AND window_ms = $2 AND window_start >= $3 AND window_start < $4 ${model ? "AND model = $5" : ""} ORDER BY window_start, model`,
    [monitor, windowMs, new Date(range.fromMs), new Date(range.toMs), ...(model ? [model] : [])],
  );
  return rows.map(fromRow);
}

/** The start of the newest window holding data: rows up to there have arrived. */
export async function newestWindowStart(db: Queryable, monitor: string, windowMs: number): Promise<number | undefined> {
  const { rows } = await db.query<{ start: Date | null }>("SELECT max(window_start) AS start FROM window_stats WHERE monitor = $1 AND window_ms = $2", [monitor, windowMs]);
  return rows[0]?.start?.getTime();
}

/** Windows not yet judged whose start is before `beforeMs`, oldest first. */
/**
 * Windows not judged yet that are closed: those starting before
 * `closedByDataBefore` (rows from well past their end have arrived), and those
 * starting before `closedByClockBefore` that have not changed for `settleMs`.
 */
export async function pendingWindows(db: Queryable, monitor: string, windowMs: number, bounds: { closedByDataBefore: number; closedByClockBefore: number; settleMs: number }): Promise<WindowRow[]> {
  const { rows } = await db.query<Row>(
    `SELECT * FROM window_stats WHERE monitor = $1 AND window_ms = $2 AND evaluated_at IS NULL
       AND (window_start < $3 OR (window_start < $4 AND updated_at <= now() - make_interval(secs => $5)))
     ORDER BY window_start, model`,
    [monitor, windowMs, new Date(bounds.closedByDataBefore), new Date(bounds.closedByClockBefore), bounds.settleMs / 1000],
  );
  return rows.map(fromRow);
}

/** Marks a window judged; false when another evaluator got there first. */
export async function markEvaluated(db: Queryable, w: WindowRow): Promise<boolean> {
  const result = await db.query("UPDATE window_stats SET evaluated_at = now() WHERE monitor = $1 AND window_ms = $2 AND window_start = $3 AND model = $4 AND evaluated_at IS NULL", [w.monitor, w.windowMs, new Date(w.startMs), w.model]);
  return result.rowCount === 1;
}

/** Every feature's statistics over all windows (any size, any model) starting in [fromMs, toMs): a window reference. */
export async function mergedStatistics(db: Queryable, monitor: string, range: { fromMs: number; toMs: number }): Promise<{ rowCount: number; features: Record<string, FeaturePartial> }> {
  const { rows } = await db.query<Row>("SELECT * FROM window_stats WHERE monitor = $1 AND window_start >= $2 AND window_start < $3", [monitor, new Date(range.fromMs), new Date(range.toMs)]);
  // One window size only, so rows are not counted twice after a window change.
  const sizes = new Set(rows.map((r) => r.window_ms));
  const size = [...sizes].sort((a, b) => Number(a) - Number(b))[0];
  const out: Record<string, FeaturePartial> = {};
  let rowCount = 0;
  for (const r of rows.filter((x) => x.window_ms === size)) {
    rowCount += Number(r.row_count);
    for (const [f, p] of Object.entries(r.features)) out[f] = out[f] ? mergePartials(out[f], p) : p;
  }
  return { rowCount, features: out };
}
