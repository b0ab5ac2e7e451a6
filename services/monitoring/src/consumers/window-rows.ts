// Rows of a batch → the windows they fall in: partial statistics per window
// and feature, merged into the stored windows.
import type { Queryable } from "@fti/db";
import type { Value } from "@fti/schema";
import type { Monitor } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { partialOf, type FeaturePartial } from "../statistics/feature-partial.js";
import { mergeIntoWindow } from "../window-store.js";
import { rowsByWindow } from "../windows.js";

/** The reference's histogram edges per numeric feature, when the reference can be resolved now. */
export type EdgesOf = (monitor: Monitor, model: string) => Promise<Map<string, number[]>>;

/** Records that a monitor took an input; false when it already had (at-least-once delivery). */
export async function claimInput(db: Queryable, monitor: string, inputId: string): Promise<boolean> {
  const result = await db.query("INSERT INTO processed_inputs (monitor, input_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [monitor, inputId]);
  return result.rowCount === 1;
}

export async function mergeRows(db: Queryable, monitor: Monitor, batch: { model: string; windowMs: number; timesMs: readonly number[]; columns: Record<string, readonly Value[]>; edges: Map<string, number[]> }): Promise<void> {
  const watched = monitor.features.length ? monitor.features.filter((f) => f in batch.columns) : Object.keys(batch.columns);
  for (const [startMs, rows] of rowsByWindow(batch.timesMs, batch.windowMs)) {
    const features: Record<string, FeaturePartial> = {};
    for (const feature of watched) {
      const column = batch.columns[feature]!;
      features[feature] = partialOf(rows.map((i) => column[i]), batch.edges.get(feature));
    }
    await mergeIntoWindow(db, monitor.name, { model: batch.model, windowMs: batch.windowMs, startMs, rowCount: rows.length, features });
  }
}
