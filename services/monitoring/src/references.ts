// Resolves what a monitor's windows are compared with:
// - a training dataset's train split: its Parquet files read with DuckDB
//   (exact values, so KS and Wasserstein are exact on the reference side),
//   histogram edges from its statistics; statistics alone when there are no
//   files;
// - an earlier window of the same target: the merged stored statistics;
// - fixed statistics given in the config;
// - unset (deployments): each model version's own training dataset.
// Training datasets are immutable once READY, so they are cached until the
// process ends; the others for `ttlMs`.
import { fileURLToPath } from "node:url";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { DuckDBInstance } from "@duckdb/node-api";
import type { Queryable } from "@fti/db";
import { FailedPreconditionError } from "@fti/errors";
import type { Logger } from "@fti/logger";
import type { MetadataCache } from "@fti/registry-client";
import type { FeatureStatistics } from "@fti/proto/fti/common/v1/statistics_pb";
import type { Monitor } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { TrainingDataset_State as DatasetState } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { binCounts } from "./drift/distributions.js";
import { quantileEdges, type FeatureReference, type ResolvedReference } from "./drift/reference-distribution.js";
import { binsOver } from "./statistics/feature-partial.js";
import { TDigest } from "./sketch/t-digest.js";
import { mergedStatistics } from "./window-store.js";

export interface References {
  /** The reference of a monitor's windows (of this model version, for deployments). */
  resolve(monitor: Monitor, model: string): Promise<ResolvedReference>;
}

export function createReferences(deps: { db: Queryable; cache: MetadataCache; duckdb: DuckDBInstance; logger: Logger; ttlMs?: number }): References {
  const ttlMs = deps.ttlMs ?? 30_000;
  const cached = new Map<string, { value: Promise<ResolvedReference>; at: number; forever: boolean }>();

  function memo(key: string, forever: boolean, load: () => Promise<ResolvedReference>): Promise<ResolvedReference> {
    const hit = cached.get(key);
    if (hit && (hit.forever || Date.now() - hit.at < ttlMs)) return hit.value;
    const value = load();
    cached.set(key, { value, at: Date.now(), forever });
    value.catch(() => cached.delete(key)); // never keep a failure
    return value;
  }

  async function trainingDataset(name: string): Promise<ResolvedReference> {
    const dataset = await deps.cache.trainingDataset(name);
    if (dataset.state !== DatasetState.READY) throw new FailedPreconditionError(`training dataset ${name} is not READY yet; drift is judged once it is`);
    const split = dataset.splits.find((s) => s.name === "train") ?? dataset.splits[0];
    if (!split) throw new FailedPreconditionError(`training dataset ${name} has no splits`);
    const statistics = new Map(split.statistics.map((s) => [s.feature, s]));
    const features = split.files.length ? await fromParquet(deps.duckdb, split.files.map(localPath), statistics) : fromStatistics(split.statistics);
    return { description: name, features };
  }

  return {
    resolve(monitor, model) {
      const source = monitor.reference?.source;
      if (source?.case === "trainingDataset") return memo(`dataset ${source.value}`, true, () => trainingDataset(source.value));
      if (source?.case === "fixed") return memo(`fixed ${monitor.name} ${monitor.etag}`, false, async () => ({ description: "fixed", features: fromStatistics(source.value.statistics) }));
      if (source?.case === "window") {
        const from = timestampDate(source.value.startTime!);
        const to = timestampDate(source.value.endTime!);
        return memo(`window ${monitor.name} ${from.toISOString()} ${to.toISOString()}`, false, async () => {
          const merged = await mergedStatistics(deps.db, monitor.name, { fromMs: from.getTime(), toMs: to.getTime() });
          const features = new Map<string, FeatureReference>();
          for (const [feature, partial] of Object.entries(merged.features)) {
            if (partial.digest) {
              const digest = TDigest.from(partial.digest);
              const edges = quantileEdges((q) => digest.quantile(q));
              const bins = binsOver(partial, edges);
              features.set(feature, { kind: "numeric", points: { values: partial.digest.means, weights: partial.digest.weights }, edges, counts: bins.counts });
            } else if (Object.keys(partial.categories).length) features.set(feature, { kind: "categorical", counts: new Map(Object.entries(partial.categories)) });
          }
          return { description: `window ${from.toISOString()}/${to.toISOString()}`, features };
        });
      }
      // Deployments without a reference: the model version's own training data.
      if (!model) return Promise.reject(new FailedPreconditionError(`monitor ${monitor.name} has no reference`));
      return (async () => {
        const m = await deps.cache.model(model);
        if (!m.trainingDataset) throw new FailedPreconditionError(`model ${model} names no training dataset to compare with; set the monitor's reference`);
        return memo(`dataset ${m.trainingDataset}`, true, () => trainingDataset(m.trainingDataset));
      })();
    },
  };
}

/** "file:///x/y.parquet" → "/x/y.parquet"; other strings are paths already. */
function localPath(uri: string): string {
  return uri.startsWith("file:") ? fileURLToPath(uri) : uri;
}

const numericTypes = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/;
const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** Every column of the split: numeric (and timestamps, as microseconds) as sorted exact values, strings and bools as counts. */
async function fromParquet(duckdb: DuckDBInstance, files: string[], statistics: Map<string, FeatureStatistics>): Promise<Map<string, FeatureReference>> {
  const connection = await duckdb.connect();
  try {
    const source = `read_parquet([${files.map(sqlString).join(", ")}])`;
    const described = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowsJS() as [string, string][];
    const features = new Map<string, FeatureReference>();
    for (const [column, type] of described) {
      if (numericTypes.test(type) || type.startsWith("TIMESTAMP")) {
        const value = type.startsWith("TIMESTAMP") ? `epoch_us(${ident(column)})::DOUBLE` : `${ident(column)}::DOUBLE`;
        const reader = await connection.runAndReadAll(`SELECT ${value} FROM ${source} WHERE ${ident(column)} IS NOT NULL ORDER BY 1`);
        const values = Float64Array.from(reader.getColumnsJS()[0] as number[]);
        if (values.length === 0) continue;
        const histogram = statistics.get(column)?.histogram;
        const edges = histogram && histogram.edges.length >= 2 ? histogram.edges : quantileEdges((q) => values[Math.min(values.length - 1, Math.floor(q * values.length))]!);
        const bins = binCounts(values, edges);
        // Values the split's own histogram did not cover (it should cover them all) join the outer bins.
        bins.counts[0]! += bins.below;
        bins.counts[bins.counts.length - 1]! += bins.above;
        features.set(column, { kind: "numeric", points: { values }, edges, counts: bins.counts });
      } else if (type === "VARCHAR" || type === "BOOLEAN") {
        const reader = await connection.runAndReadAll(`SELECT ${ident(column)}::VARCHAR, count(*)::DOUBLE FROM ${source} WHERE ${ident(column)} IS NOT NULL GROUP BY 1`);
        features.set(column, { kind: "categorical", counts: new Map(reader.getRowsJS() as [string, number][]) });
      }
    }
    return features;
  } finally {
    connection.closeSync();
  }
}

/** References from statistics only: numeric features as their histogram (bin centres stand in for the values), categorical as top values. */
export function fromStatistics(statistics: readonly FeatureStatistics[]): Map<string, FeatureReference> {
  const features = new Map<string, FeatureReference>();
  for (const s of statistics) {
    const h = s.histogram;
    if (h && h.edges.length >= 2 && h.counts.length === h.edges.length - 1) {
      const counts = h.counts.map(Number);
      const centres = counts.map((_, j) => (h.edges[j]! + h.edges[j + 1]!) / 2);
      features.set(s.feature, { kind: "numeric", points: { values: centres, weights: counts }, edges: [...h.edges], counts });
    } else if (s.topValues.length) features.set(s.feature, { kind: "categorical", counts: new Map(s.topValues.map((t) => [t.value, Number(t.count)])) });
  }
  return features;
}
