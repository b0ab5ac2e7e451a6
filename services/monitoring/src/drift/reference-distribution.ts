// What a window is compared with, per feature: numeric features as weighted
// points (exact training values, or a digest's centroids) plus the histogram
// bins PSI and JS use; categorical features as category counts.
import type { WeightedPoints } from "./distributions.js";

export interface NumericReference {
  kind: "numeric";
  /** The reference's values (for KS and Wasserstein), ascending. */
  points: WeightedPoints;
  /** Histogram edges (for PSI and JS), ascending, at least two. */
  edges: number[];
  /** The reference's counts per bin of `edges`. */
  counts: number[];
}

export interface CategoricalReference {
  kind: "categorical";
  counts: Map<string, number>;
}

export type FeatureReference = NumericReference | CategoricalReference;

/** A monitor's reference, resolved: a description for reports, and one distribution per feature. */
export interface ResolvedReference {
  description: string;
  features: Map<string, FeatureReference>;
}

/** Bin edges for a sample with no histogram of its own: deciles, de-duplicated. */
export function quantileEdges(quantile: (q: number) => number, bins = 10): number[] {
  const edges: number[] = [];
  for (let i = 0; i <= bins; i++) {
    const e = quantile(i / bins);
    if (Number.isFinite(e) && (edges.length === 0 || e > edges.at(-1)!)) edges.push(e);
  }
  // A constant feature still needs one bin.
  if (edges.length === 1) edges.push(edges[0]! + 1);
  return edges;
}
