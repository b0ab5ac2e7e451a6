// Reading feature vectors: one online-store read per feature group of the
// view (each a single lookup per entity), started as soon as its keys are
// known — groups joined on the serving keys are read in parallel with the
// root — then assembled column-major with a status per value, followed by the
// on-demand features and, when asked, the fitted transformations.
import type { EntityFeatures, OnlineStore } from "@fti/online-store";
import type { FeatureType, Row, Value } from "@fti/schema";
import { copyToExtend, type Columns, type TransformationPipeline } from "@fti/transforms";
import { entityKeys, type FeatureViewPlan } from "./feature-view-plan.js";
import type { EntityBatch } from "./request-batches.js";

/** Wire values of fti.serving.v1.FeatureStatus. */
export const Status = { PRESENT: 1, NULL_VALUE: 2, NOT_FOUND: 3, EXPIRED: 4 } as const;
const fromStore = { PRESENT: Status.PRESENT, NOT_FOUND: Status.NOT_FOUND, EXPIRED: Status.EXPIRED } as const;

/** One feature across the batch of entities. */
export interface VectorColumn {
  name: string;
  type: FeatureType;
  values: Value[];
  /** FeatureStatus per entity (read-only: columns may share it). */
  statuses: Uint8Array;
  /** Event time of the source row per entity, microseconds; 0 when none (read-only: shared likewise). */
  eventMicros: BigInt64Array;
}

export interface FeatureVectors {
  rowCount: number;
  /** The view's output columns before transformations, in view order. */
  columns: VectorColumn[];
}

/** Reads the looked-up and on-demand columns of `plan` for the entities. */
export async function readFeatureVectors(store: OnlineStore, plan: FeatureViewPlan, entities: EntityBatch, requestData: Columns, now: Date): Promise<FeatureVectors> {
  const n = entities.rowCount;
  const results: Promise<EntityFeatures[]>[] = [];
  plan.reads.forEach((read, r) => {
    if (r === 0) {
      results.push(store.read(read.table, entities.keys, { features: read.fetch, now }));
      return;
    }
    // A join on the serving keys (the usual case) needs nothing from earlier
    // reads: read it now, in the same turn as the root, so the store can send
    // both at once. Serving keys are validated non-null, so every entity has a key.
    const keyColumns = read.sources.map((s) => (s.read === entityKeys ? entities.columns[s.stored] : undefined));
    if (keyColumns.every((c) => c !== undefined)) {
      const keys: Row[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const key: Row = {};
        for (let j = 0; j < read.keys.length; j++) key[read.keys[j]!.column] = keyColumns[j]![i]!;
        keys[i] = key;
      }
      results.push(store.read(read.table, keys, { features: read.fetch, now }));
      return;
    }
    results.push(
      Promise.all(read.after.map((a) => results[a]!)).then(async () => {
        // Keys come from the entity keys or from earlier reads; an entity whose
        // key source is null (its root row missing, say) finds nothing here.
        const sources = await Promise.all(read.sources.map((s) => (s.read === entityKeys ? undefined : results[s.read])));
        const keys: Row[] = [];
        const positions: number[] = [];
        for (let i = 0; i < n; i++) {
          const key: Row = {};
          let complete = true;
          read.keys.forEach((k, j) => {
            const s = read.sources[j]!;
            const value = s.read === entityKeys ? entities.columns[s.stored]?.[i] ?? null : sources[j]![i]!.values[s.stored] ?? null;
            if (value === null) complete = false;
            key[k.column] = value;
          });
          if (complete) {
            keys.push(key);
            positions.push(i);
          }
        }
        const found = keys.length ? await store.read(read.table, keys, { features: read.fetch, now }) : [];
        const all: EntityFeatures[] = new Array(n);
        for (let i = 0; i < n; i++) all[i] = { status: "NOT_FOUND", values: {}, eventTime: null };
        positions.forEach((p, j) => (all[p] = found[j]!));
        return all;
      }),
    );
  });
  const rows = await Promise.all(results);

  // Event times are per read, not per column, and so are statuses unless a
  // present entity holds a null: the columns of one read share those
  // (read-only) arrays. Fifty small arrays per call were a visible share of
  // a one-entity read's garbage.
  const perRead = rows.map((source) => {
    const eventMicros = new BigInt64Array(n);
    const statuses = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const { eventTime, status } = source[i]!;
      if (eventTime) eventMicros[i] = BigInt(eventTime.getTime()) * 1000n;
      statuses[i] = fromStore[status];
    }
    return { eventMicros, statuses };
  });
  const columns: VectorColumn[] = [];
  for (const out of plan.outputs) {
    if (out.read < 0) continue;
    const source = rows[out.read]!;
    const values: Value[] = new Array(n);
    let presentNulls = false;
    for (let i = 0; i < n; i++) {
      const entity = source[i]!;
      if (entity.status === "PRESENT") {
        const value = entity.values[out.stored] ?? null;
        values[i] = value;
        if (value === null) presentNulls = true;
      } else values[i] = null;
    }
    const shared = perRead[out.read]!;
    let statuses = shared.statuses;
    if (presentNulls) {
      statuses = statuses.slice();
      for (let i = 0; i < n; i++) if (statuses[i] === Status.PRESENT && values[i] === null) statuses[i] = Status.NULL_VALUE;
    }
    columns.push({ name: out.name, type: out.type, values, statuses, eventMicros: shared.eventMicros });
  }
  // Without on-demand features the looked-up columns are already every output, in view order.
  if (!plan.onDemand) return { rowCount: n, columns };

  const inputs: Columns = copyToExtend(requestData);
  for (const c of columns) inputs[c.name] = c.values;
  const computed = plan.onDemand.evaluateBatch(inputs, n);
  plan.onDemand.columns.forEach((c, j) => columns.push(derivedColumn(c.name, c.type, computed[j]!, undefined)));
  // Keep the view's output order (on-demand features may sit anywhere in it).
  const byName = new Map(columns.map((c) => [c.name, c]));
  return { rowCount: n, columns: plan.outputs.map((o) => byName.get(o.name)!) };
}

/**
 * The vectors after the fitted transformations. A transformed column keeps the
 * statuses and event times of its input column: they tell what the store held.
 */
export function applyTransformations(vectors: FeatureVectors, pipeline: TransformationPipeline, sourceOf: ReadonlyMap<string, string>, requestData: Columns): FeatureVectors {
  const input: Columns = copyToExtend(requestData);
  const byName = new Map(vectors.columns.map((c) => [c.name, c]));
  for (const c of vectors.columns) input[c.name] = c.values;
  const out = pipeline.applyBatch(input, vectors.rowCount);
  const columns: VectorColumn[] = [];
  for (const c of pipeline.columns) {
    const origin = byName.get(sourceOf.get(c.name) ?? c.name);
    if (!origin) continue; // a request parameter, not an output of the view
    columns.push(derivedColumn(c.name, c.type, out[c.name]!, origin));
  }
  return { rowCount: vectors.rowCount, columns };
}

function derivedColumn(name: string, type: FeatureType, values: Value[], origin: VectorColumn | undefined): VectorColumn {
  const n = values.length;
  if (origin) return { name, type, values, statuses: origin.statuses, eventMicros: origin.eventMicros };
  const statuses = new Uint8Array(n);
  for (let i = 0; i < n; i++) statuses[i] = values[i] === null ? Status.NULL_VALUE : Status.PRESENT;
  return { name, type, values, statuses, eventMicros: new BigInt64Array(n) };
}
