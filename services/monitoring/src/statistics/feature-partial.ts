// Mergeable statistics of one feature over a set of rows. A window stores one
// per feature (as JSON in Postgres); adding a batch or combining windows is a
// merge, so no row is ever read twice. Numeric values feed moments (Chan et
// al.'s parallel update), a t-digest and, when the reference's bin edges are
// known, an exact histogram over them; strings and bools feed category counts.
import { create } from "@bufbuild/protobuf";
import { FeatureStatisticsSchema, type FeatureStatistics } from "@fti/proto/fti/common/v1/statistics_pb";
import type { Value } from "@fti/schema";
import { binOf } from "../drift/distributions.js";
import { TDigest, type TDigestState } from "../sketch/t-digest.js";

/** Distinct categories kept per feature and window; the rest are counted as OTHER_CATEGORY. */
export const MAX_CATEGORIES = 1_000;
export const OTHER_CATEGORY = "__other__";
export const REPORTED_QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];

/** A histogram over fixed edges, with the values that fell outside them. */
export interface Bins {
  edges: number[];
  counts: number[];
  below: number;
  above: number;
}

export interface FeaturePartial {
  /** Rows seen, nulls included. */
  count: number;
  nullCount: number;
  /** Non-null numeric values and their moments. */
  numericCount: number;
  mean: number;
  /** Sum of squared deviations from the mean. */
  m2: number;
  min: number | null;
  max: number | null;
  digest: TDigestState | null;
  bins: Bins | null;
  /** Non-null string / bool values. */
  categories: Record<string, number>;
}

export function emptyPartial(): FeaturePartial {
  return { count: 0, nullCount: 0, numericCount: 0, mean: 0, m2: 0, min: null, max: null, digest: null, bins: null, categories: {} };
}

/** A number for numeric values (timestamps as microseconds), a string for categories, null for null, undefined for what is not summarised (bytes, arrays). */
export function classify(value: Value | undefined): number | string | null | undefined {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Date) return value.getTime() * 1000;
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return String(value);
  return undefined;
}

/** Statistics of one column of a batch; `edges` are the reference's bins when known. */
export function partialOf(values: readonly (Value | undefined)[], edges?: readonly number[]): FeaturePartial {
  const p = emptyPartial();
  p.count = values.length;
  let digest: TDigest | undefined;
  const binned = edges && edges.length >= 2 ? { edges: [...edges], counts: new Array<number>(edges.length - 1).fill(0), below: 0, above: 0 } : null;
  for (const raw of values) {
    const v = classify(raw);
    if (v === null) {
      p.nullCount++;
      continue;
    }
    if (v === undefined) continue;
    if (typeof v === "string") {
      addCategory(p.categories, v, 1);
      continue;
    }
    // Welford's update: stable for large, close values.
    p.numericCount++;
    const delta = v - p.mean;
    p.mean += delta / p.numericCount;
    p.m2 += delta * (v - p.mean);
    if (p.min === null || v < p.min) p.min = v;
    if (p.max === null || v > p.max) p.max = v;
    (digest ??= new TDigest()).add(v);
    if (binned) {
      if (v < binned.edges[0]!) binned.below++;
      else if (v > binned.edges.at(-1)!) binned.above++;
      else binned.counts[binOf(v, binned.edges)]!++;
    }
  }
  p.digest = digest ? digest.state() : null;
  p.bins = p.numericCount > 0 ? binned : null;
  return p;
}

function addCategory(categories: Record<string, number>, value: string, n: number) {
  if (value in categories || Object.keys(categories).length < MAX_CATEGORIES) categories[value] = (categories[value] ?? 0) + n;
  else categories[OTHER_CATEGORY] = (categories[OTHER_CATEGORY] ?? 0) + n;
}

const sameEdges = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** a ∪ b. Histograms over different edges cannot be added; the result then has none (drift falls back to the digest). */
export function mergePartials(a: FeaturePartial, b: FeaturePartial): FeaturePartial {
  const n = a.numericCount + b.numericCount;
  const delta = b.mean - a.mean;
  const out: FeaturePartial = {
    count: a.count + b.count,
    nullCount: a.nullCount + b.nullCount,
    numericCount: n,
    mean: n === 0 ? 0 : a.mean + (delta * b.numericCount) / n,
    m2: n === 0 ? 0 : a.m2 + b.m2 + (delta * delta * a.numericCount * b.numericCount) / n,
    min: a.min === null ? b.min : b.min === null ? a.min : Math.min(a.min, b.min),
    max: a.max === null ? b.max : b.max === null ? a.max : Math.max(a.max, b.max),
    digest: mergeDigests(a.digest, b.digest),
    bins: mergeBins(a, b),
    categories: { ...a.categories },
  };
  for (const [value, count] of Object.entries(b.categories)) addCategory(out.categories, value, count);
  return out;
}

function mergeDigests(a: TDigestState | null, b: TDigestState | null): TDigestState | null {
  if (!a) return b;
  if (!b) return a;
  const d = TDigest.from(a);
  d.merge(TDigest.from(b));
  return d.state();
}

function mergeBins(a: FeaturePartial, b: FeaturePartial): Bins | null {
  // A side without numeric values contributes nothing to the histogram.
  if (a.numericCount === 0) return b.bins;
  if (b.numericCount === 0) return a.bins;
  if (!a.bins || !b.bins || !sameEdges(a.bins.edges, b.bins.edges)) return null;
  return { edges: a.bins.edges, counts: a.bins.counts.map((c, i) => c + b.bins!.counts[i]!), below: a.bins.below + b.bins.below, above: a.bins.above + b.bins.above };
}

export function isNumeric(p: FeaturePartial): boolean {
  return p.numericCount > 0;
}

/** Values counted in the feature's drift (non-null values of its kind). */
export function valueCount(p: FeaturePartial): number {
  return p.numericCount > 0 ? p.numericCount : Object.values(p.categories).reduce((a, b) => a + b, 0);
}

/** The histogram over `edges` (with out-of-range counts): exact when stored for these edges, else estimated from the digest. */
export function binsOver(p: FeaturePartial, edges: readonly number[]): Bins {
  if (p.bins && sameEdges(p.bins.edges, edges)) return p.bins;
  const counts = new Array<number>(edges.length - 1).fill(0);
  if (!p.digest) return { edges: [...edges], counts, below: 0, above: 0 };
  const digest = TDigest.from(p.digest);
  const n = p.numericCount;
  const cdf = edges.map((e) => digest.cdf(e) * n);
  for (let j = 0; j < counts.length; j++) counts[j] = Math.max(0, cdf[j + 1]! - cdf[j]!);
  return { edges: [...edges], counts, below: cdf[0]!, above: Math.max(0, n - cdf.at(-1)!) };
}

/** The wire statistics of a partial; `histogram` over the given bins when known. */
export function toFeatureStatistics(feature: string, p: FeaturePartial, edges?: readonly number[]): FeatureStatistics {
  const stats = create(FeatureStatisticsSchema, { feature, count: BigInt(p.count), nullCount: BigInt(p.nullCount) });
  if (p.numericCount > 0) {
    stats.min = p.min ?? undefined;
    stats.max = p.max ?? undefined;
    stats.mean = p.mean;
    stats.stddev = Math.sqrt(p.m2 / p.numericCount);
    if (p.digest) {
      const digest = TDigest.from(p.digest);
      stats.quantiles = REPORTED_QUANTILES.map((q) => ({ $typeName: "fti.common.v1.Quantile", quantile: q, value: digest.quantile(q) }));
    }
    const bins = edges ? binsOver(p, edges) : p.bins;
    if (bins) stats.histogram = { $typeName: "fti.common.v1.Histogram", edges: bins.edges, counts: bins.counts.map((c) => BigInt(Math.round(c))) };
  }
  const categories = Object.entries(p.categories).sort((a, b) => b[1] - a[1]);
  if (categories.length) stats.topValues = categories.map(([value, count]) => ({ $typeName: "fti.common.v1.CategoryCount", value, count: BigInt(count) }));
  stats.approxDistinct = BigInt(categories.length);
  return stats;
}
