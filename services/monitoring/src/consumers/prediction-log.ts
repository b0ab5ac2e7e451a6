// Prediction log → deployment monitors: the logged feature vectors and
// outputs of each model version go into that version's windows (by
// prediction time); monitors that track performance also keep each
// prediction's key and score for the label join.
import type { Pool } from "@fti/db";
import { withTransaction } from "@fti/db";
import type { Logger } from "@fti/logger";
import { decodeRecordBatch } from "@fti/record-batch";
import type { Value } from "@fti/schema";
import type { RecordBatch } from "@fti/proto/fti/common/v1/record_batch_pb";
import type { PredictionLog, PredictionLogBatch } from "@fti/proto/fti/events/v1/events_pb";
import type { Monitor } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { windowMsOf } from "../monitors.js";
import { entityKeyOf, insertPredictions, type LoggedPrediction } from "../performance/predictions-store.js";
import { classify } from "../statistics/feature-partial.js";
import { claimInput, mergeRows, type EdgesOf } from "./window-rows.js";

export async function handlePredictionLog(deps: { pool: Pool; logger: Logger; edgesOf: EdgesOf }, eventId: string, batch: PredictionLogBatch, monitors: readonly Monitor[]): Promise<void> {
  for (const monitor of monitors) {
    const windowMs = windowMsOf(monitor);
    const prepared = await Promise.all(
      batch.logs.map(async (log) => {
        const features = columnsOf(log.features, "features");
        const outputs = columnsOf(log.outputs, "outputs");
        const columns: Record<string, readonly Value[]> = { ...features, ...outputs };
        const timesMs = log.timeMicros.map((t) => Number(t / 1000n));
        return { log, columns, outputs, timesMs, edges: await deps.edgesOf(monitor, log.model) };
      }),
    );
    await withTransaction(deps.pool, async (db) => {
      if (!(await claimInput(db, monitor.name, eventId))) return; // a redelivery: already merged
      for (const p of prepared) {
        await mergeRows(db, monitor, { model: p.log.model, windowMs, timesMs: p.timesMs, columns: p.columns, edges: p.edges });
        if (monitor.performance) await insertPredictions(db, monitor.name, predictionsOf(p.log, p.outputs, p.timesMs));
      }
    });
  }
}

function predictionsOf(log: PredictionLog, outputs: Record<string, readonly Value[]>, timesMs: number[]): LoggedPrediction[] {
  const entities = columnsOf(log.entities, "entities");
  const scoreColumn = Object.values(outputs)[0] ?? [];
  return timesMs.map((timeMs, i) => {
    const key: Record<string, unknown> = {};
    for (const [name, values] of Object.entries(entities)) key[name] = values[i] instanceof Date ? (values[i] as Date).getTime() : values[i];
    return { model: log.model, requestId: log.requestIds[i] ?? "", entityKey: entityKeyOf(key), timeMs, score: scoreOf(scoreColumn[i]) };
  });
}

/** The model's score for one row: a numeric output, or the last element (positive class) of a probability vector. */
function scoreOf(value: Value | undefined): number | null {
  if (Array.isArray(value) || value instanceof Float32Array) return scoreOf(value[value.length - 1] as Value);
  const v = classify(value);
  return typeof v === "number" ? v : v === "true" ? 1 : v === "false" ? 0 : null;
}

function columnsOf(batch: RecordBatch | undefined, field: string): Record<string, readonly Value[]> {
  return batch ? decodeRecordBatch(batch, field).columns : {};
}
