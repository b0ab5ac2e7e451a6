// Per-commit feature statistics, computed while ingesting: count, nulls,
// min/max (numbers, and timestamps as epoch microseconds), mean and population
// standard deviation, an equal-width histogram, an approximate distinct count
// and the most frequent values of categorical features.
import { create } from "@bufbuild/protobuf";
import { FeatureStatisticsSchema, type CategoryCount, type FeatureStatistics } from "@fti/proto/fti/common/v1/statistics_pb";
import type { StatisticsConfig } from "@fti/proto/fti/registry/v1/feature_group_pb";
import type { ColumnBatch, Feature, FeatureGroupSchema, Value } from "@fti/schema";
import { HyperLogLog } from "./hyperloglog.js";

/** Categories counted exactly per batch; values first seen after this many distinct ones are not counted (top-k stays approximate). */
const maxTrackedCategories = 10_000;

export function computeStatistics(schema: FeatureGroupSchema, batch: ColumnBatch, config: StatisticsConfig | undefined): FeatureStatistics[] {
  if (config?.disabled) return [];
  const wanted = config?.features.length ? new Set(config.features) : undefined;
  const bins = config?.histogramBins || 20;
  const topK = config?.topK || 20;
  return schema.features.filter((f) => !wanted || wanted.has(f.name)).map((f) => featureStatistics(f, batch.columns[f.name], batch.rowCount, bins, topK));
}

function featureStatistics(feature: Feature, column: readonly Value[] | undefined, rowCount: number, bins: number, topK: number): FeatureStatistics {
  const stats = create(FeatureStatisticsSchema, { feature: feature.name, count: BigInt(rowCount), nullCount: BigInt(rowCount) });
  if (!column) return stats;
  const type = feature.type;
  if (typeof type !== "string") {
    let nulls = 0;
    for (let i = 0; i < rowCount; i++) if (column[i] === null || column[i] === undefined) nulls++;
    stats.nullCount = BigInt(nulls);
    return stats;
  }
  switch (type) {
    case "int32":
    case "int64":
    case "float":
    case "double":
      return numericStatistics(stats, column, rowCount, bins, type === "int32" || type === "int64" ? topK : 0);
    case "timestamp":
      return timestampStatistics(stats, column, rowCount);
    case "string":
    case "bool":
    case "bytes":
      return categoricalStatistics(stats, column, rowCount, type === "bytes" ? 0 : topK);
  }
}

function numericStatistics(stats: FeatureStatistics, column: readonly Value[], rowCount: number, bins: number, topK: number): FeatureStatistics {
  const sketch = new HyperLogLog();
  const counts = topK ? new Map<string, number>() : undefined;
  let nulls = 0;
  let n = 0;
  let mean = 0;
  let m2 = 0;
  let min = Infinity;
  let max = -Infinity;
  const finite = new Float64Array(rowCount);
  for (let i = 0; i < rowCount; i++) {
    const v = column[i];
    if (v === null || v === undefined) {
      nulls++;
      continue;
    }
    const x = typeof v === "bigint" ? Number(v) : (v as number);
    sketch.addNumber(x);
    if (counts) count(counts, String(v));
    if (!Number.isFinite(x)) continue; // NaN and ±Inf are values, but not for moments and bins
    finite[n++] = x;
    const d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
    if (x < min) min = x;
    if (x > max) max = x;
  }
  stats.nullCount = BigInt(nulls);
  stats.approxDistinct = BigInt(Math.min(sketch.estimate(), rowCount - nulls));
  if (counts) stats.topValues = top(counts, topK);
  if (n === 0) return stats;
  stats.min = min;
  stats.max = max;
  stats.mean = mean;
  stats.stddev = Math.sqrt(m2 / n);
  stats.histogram = histogram(finite.subarray(0, n), min, max, bins);
  return stats;
}

/** Equal-width bins from min to max; the last bin includes max. */
function histogram(values: Float64Array, min: number, max: number, bins: number) {
  const edges = Array.from({ length: bins + 1 }, (_, j) => (j === bins ? max : min + ((max - min) * j) / bins));
  const counts = new Array<bigint>(bins).fill(0n);
  const tally = new Float64Array(bins);
  const width = (max - min) / bins;
  for (const x of values) {
    const j = width === 0 ? 0 : Math.min(bins - 1, Math.floor((x - min) / width));
    tally[j]!++;
  }
  for (let j = 0; j < bins; j++) counts[j] = BigInt(tally[j]!);
  return { $typeName: "fti.common.v1.Histogram" as const, edges, counts };
}

function timestampStatistics(stats: FeatureStatistics, column: readonly Value[], rowCount: number): FeatureStatistics {
  const sketch = new HyperLogLog();
  let nulls = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < rowCount; i++) {
    const v = column[i] as Date | null;
    if (v === null || v === undefined) {
      nulls++;
      continue;
    }
    const ms = v.getTime();
    sketch.addNumber(ms);
    if (ms < min) min = ms;
    if (ms > max) max = ms;
  }
  stats.nullCount = BigInt(nulls);
  stats.approxDistinct = BigInt(Math.min(sketch.estimate(), rowCount - nulls));
  if (nulls < rowCount) {
    stats.min = min * 1000;
    stats.max = max * 1000;
  }
  return stats;
}

function categoricalStatistics(stats: FeatureStatistics, column: readonly Value[], rowCount: number, topK: number): FeatureStatistics {
  const sketch = new HyperLogLog();
  const counts = topK ? new Map<string, number>() : undefined;
  let nulls = 0;
  for (let i = 0; i < rowCount; i++) {
    const v = column[i];
    if (v === null || v === undefined) {
      nulls++;
      continue;
    }
    if (typeof v === "string") sketch.addString(v);
    else if (typeof v === "boolean") sketch.addNumber(v ? 1 : 0);
    else sketch.addBytes(v as Uint8Array);
    if (counts) count(counts, String(v));
  }
  stats.nullCount = BigInt(nulls);
  stats.approxDistinct = BigInt(Math.min(sketch.estimate(), rowCount - nulls));
  if (counts) stats.topValues = top(counts, topK);
  return stats;
}

function count(counts: Map<string, number>, key: string) {
  const c = counts.get(key);
  if (c !== undefined) counts.set(key, c + 1);
  else if (counts.size < maxTrackedCategories) counts.set(key, 1);
}

function top(counts: Map<string, number>, k: number): CategoryCount[] {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, k)
    .map(([value, n]) => ({ $typeName: "fti.common.v1.CategoryCount", value, count: BigInt(n) }));
}
