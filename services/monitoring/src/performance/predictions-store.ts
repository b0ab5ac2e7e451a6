// Logged predictions of deployment monitors that track performance, and the
// join of late labels to them: a label with event time t for key k goes to
// the latest prediction of each model version for k made in
// [t − max_label_delay, t].
import type { Pool, Queryable } from "@fti/db";

export interface LoggedPrediction {
  model: string;
  requestId: string;
  entityKey: string;
  timeMs: number;
  score: number | null;
}

export interface Label {
  entityKey: string;
  timeMs: number;
  label: number;
}

/** The join key of an entity: its key columns sorted by name, so predictions (serving keys) and labels (primary key) agree. */
export function entityKeyOf(columns: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(columns).sort().map((name) => [name, String(columns[name])]));
}

export async function insertPredictions(db: Queryable, monitor: string, predictions: readonly LoggedPrediction[]): Promise<void> {
  if (!predictions.length) return;
  await db.query(
    `INSERT INTO predictions (monitor, model, request_id, entity_key, time, score)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::float8[])`,
    [monitor, predictions.map((p) => p.model), predictions.map((p) => p.requestId), predictions.map((p) => p.entityKey), predictions.map((p) => new Date(p.timeMs)), predictions.map((p) => p.score)],
  );
}

/** Joins labels to predictions; returns how many predictions got a label. */
export async function joinLabels(db: Queryable, monitor: string, labels: readonly Label[], maxDelayMs: number): Promise<number> {
  if (!labels.length) return 0;
  const result = await db.query(
    `WITH labels AS (SELECT * FROM unnest($2::text[], $3::timestamptz[], $4::float8[]) AS l(entity_key, time, label)),
     matched AS (
       SELECT DISTINCT ON (l.entity_key, l.time, p.model) p.id, l.label, l.time
       FROM labels l JOIN predictions p ON p.monitor = $1 AND p.entity_key = l.entity_key AND p.time <= l.time AND p.time >= l.time - $5 * interval '1 millisecond'
       ORDER BY l.entity_key, l.time, p.model, p.time DESC, p.id DESC)
     UPDATE predictions p SET label = m.label, label_time = m.time FROM matched m WHERE p.id = m.id`,
    [monitor, labels.map((l) => l.entityKey), labels.map((l) => new Date(l.timeMs)), labels.map((l) => l.label), maxDelayMs],
  );
  return result.rowCount ?? 0;
}

export interface PerformanceWindow {
  model: string;
  startMs: number;
  predictionCount: number;
  scores: number[];
  labels: number[];
}

/** Predictions by window (of prediction time) and model version in [fromMs, toMs), with their labelled pairs. */
export async function performanceWindows(pool: Pool, monitor: string, windowMs: number, range: { fromMs: number; toMs: number }, model = ""): Promise<PerformanceWindow[]> {
  const { rows } = await pool.query<{ model: string; start: string; predictions: string; scores: (number | null)[] | null; labels: (number | null)[] | null }>(
    `SELECT model, (floor(extract(epoch FROM time) * 1000 / $2) * $2)::bigint AS start, count(*) AS predictions,
            array_agg(score) FILTER (WHERE label IS NOT NULL AND score IS NOT NULL) AS scores,
            array_agg(label) FILTER (WHERE label IS NOT NULL AND score IS NOT NULL) AS labels
     FROM predictions WHERE monitor = $1 AND time >= $3 AND time < $4 ${model ? "AND model = $5" : ""}
     GROUP BY 1, 2 ORDER BY 2, 1`,
    [monitor, windowMs, new Date(range.fromMs), new Date(range.toMs), ...(model ? [model] : [])],
  );
  return rows.map((r) => ({ model: r.model, startMs: Number(r.start), predictionCount: Number(r.predictions), scores: (r.scores ?? []) as number[], labels: (r.labels ?? []) as number[] }));
}
