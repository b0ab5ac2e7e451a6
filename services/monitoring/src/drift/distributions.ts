// The shapes drift metrics compare: binned counts (PSI, JS, chi-square) and
// weighted points (KS, Wasserstein). Exact samples are points of weight 1; a
// window's t-digest is its centroids with their weights.

/** Points in ascending order; `weights` absent means every point weighs 1. */
export interface WeightedPoints {
  values: ArrayLike<number>;
  weights?: ArrayLike<number>;
}

export function totalWeight(points: WeightedPoints): number {
  if (!points.weights) return points.values.length;
  let total = 0;
  for (let i = 0; i < points.weights.length; i++) total += points.weights[i]!;
  return total;
}

/**
 * Counts of `sortedValues` per bin of `edges`, plus the values below the first
 * edge and above the last. Bin j holds edges[j] <= x < edges[j+1]; the last bin
 * also holds x == edges[n] (statistics.proto's Histogram rule).
 */
export function binCounts(values: ArrayLike<number>, edges: readonly number[]): { counts: number[]; below: number; above: number } {
  const bins = edges.length - 1;
  const counts = new Array<number>(bins).fill(0);
  let below = 0;
  let above = 0;
  const last = edges[bins]!;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (x < edges[0]!) below++;
    else if (x > last) above++;
    else counts[binOf(x, edges)]!++;
  }
  return { counts, below, above };
}

/** The bin of x (edges[0] <= x <= edges[n]) by binary search. */
export function binOf(x: number, edges: readonly number[]): number {
  let lo = 0;
  let hi = edges.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (x >= edges[mid]!) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Aligns two category → count maps on the union of their categories (sorted, for stable output). */
export function alignCategories(reference: ReadonlyMap<string, number>, window: ReadonlyMap<string, number>): { categories: string[]; reference: number[]; window: number[] } {
  const categories = [...new Set([...reference.keys(), ...window.keys()])].sort();
  return { categories, reference: categories.map((c) => reference.get(c) ?? 0), window: categories.map((c) => window.get(c) ?? 0) };
}

export function proportions(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

/**
 * Walks the merged support of two weighted point sets in ascending order and
 * calls `step(x, fa, fb)` at each distinct value with both empirical CDFs
 * just after x (ties between the samples stepped together). The one loop
 * behind KS and Wasserstein. Returns false when either side is empty.
 */
export function walkCdfs(a: WeightedPoints, b: WeightedPoints, step: (x: number, fa: number, fb: number) => void): boolean {
  const totalA = totalWeight(a);
  const totalB = totalWeight(b);
  if (totalA === 0 || totalB === 0) return false;
  const { values: va, weights: wa } = a;
  const { values: vb, weights: wb } = b;
  let i = 0;
  let j = 0;
  let cumA = 0;
  let cumB = 0;
  while (i < va.length || j < vb.length) {
    const x = j >= vb.length || (i < va.length && va[i]! <= vb[j]!) ? va[i]! : vb[j]!;
    while (i < va.length && va[i]! === x) cumA += wa ? wa[i++]! : (i++, 1);
    while (j < vb.length && vb[j]! === x) cumB += wb ? wb[j++]! : (j++, 1);
    step(x, cumA / totalA, cumB / totalB);
  }
  return true;
}
