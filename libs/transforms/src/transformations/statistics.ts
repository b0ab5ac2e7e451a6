// The train-split statistics transformations are fitted from. Each depends
// only on the multiset of values, never on their row order: numbers are
// sorted before summing, and ties between categories are broken by value, so
// the same train split always fits the same parameters.
import type { ScalarValue, Value } from "@fti/schema";
import { categoryKey, compareValues } from "../values.js";

/** Null, undefined and NaN are missing: skipped by fitting, and what imputers fill. */
export const isMissing = (v: Value | undefined): v is null | undefined => v === null || v === undefined || (typeof v === "number" && v !== v);

/** The non-missing values of a numeric column (bigints converted), sorted ascending. */
export function sortedNumbers(values: readonly (Value | undefined)[]): Float64Array {
  const out = new Float64Array(values.length);
  let n = 0;
  for (const v of values) if (!isMissing(v)) out[n++] = typeof v === "bigint" ? Number(v) : (v as number);
  return out.subarray(0, n).sort();
}

/** Mean with Neumaier-compensated summation. */
export function mean(sorted: Float64Array): number {
  let sum = 0;
  let compensation = 0;
  for (const x of sorted) {
    const t = sum + x;
    compensation += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
    sum = t;
  }
  return (sum + compensation) / sorted.length;
}

/** Population standard deviation (divisor n, as scikit-learn's StandardScaler), two-pass. */
export function stddev(sorted: Float64Array, mu: number): number {
  let sum = 0;
  for (const x of sorted) sum += (x - mu) * (x - mu);
  return Math.sqrt(sum / sorted.length);
}

/**
 * The p-quantile by linear interpolation between closest ranks (Hyndman &
 * Fan type 7; NumPy's and pandas' default): h = (n − 1)·p, then interpolate
 * between the values at ranks ⌊h⌋ and ⌈h⌉. The median is p = 0.5.
 */
export function quantile(sorted: Float64Array, p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Distinct non-missing values with their counts: most frequent first, ties by ascending value. */
export function frequencies(values: readonly (Value | undefined)[]): { value: ScalarValue; count: number }[] {
  const counts = new Map<string | number | boolean | bigint, { value: ScalarValue; count: number }>();
  for (const v of values) {
    if (isMissing(v)) continue;
    const key = categoryKey(v as ScalarValue);
    const entry = counts.get(key);
    if (entry) entry.count++;
    else counts.set(key, { value: v as ScalarValue, count: 1 });
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || compareValues(a.value, b.value));
}
