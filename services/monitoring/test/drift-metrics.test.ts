// Drift metrics, the sketch and mergeable statistics against reference
// formulas computed independently here (brute force or closed forms).
import { describe, expect, it } from "vitest";
import { chiSquareHomogeneity, chiSquareSurvival } from "../src/drift/chi-square.js";
import { binCounts } from "../src/drift/distributions.js";
import { jensenShannonDistance } from "../src/drift/js.js";
import { kolmogorovSmirnov } from "../src/drift/ks.js";
import { populationStabilityIndex } from "../src/drift/psi.js";
import { wasserstein1 } from "../src/drift/wasserstein.js";
import { rocAuc, modelMetrics } from "../src/performance/metrics.js";
import { TDigest } from "../src/sketch/t-digest.js";
import { normal, random } from "./random.js";
import { mergePartials, partialOf, toFeatureStatistics } from "../src/statistics/feature-partial.js";

const sorted = (xs: number[]) => Float64Array.from(xs).sort();

describe("numeric drift metrics", () => {
  const rand = random(1);
  const a = Array.from({ length: 400 }, () => normal(rand, 0, 1));
  const b = Array.from({ length: 300 }, () => normal(rand, 0.5, 1.2));

  it("KS equals the brute-force sup of |F_a − F_b| over every sample point", () => {
    const ecdf = (xs: number[], x: number) => xs.filter((v) => v <= x).length / xs.length;
    const expected = Math.max(...[...a, ...b].map((x) => Math.abs(ecdf(a, x) - ecdf(b, x))));
    expect(kolmogorovSmirnov({ values: sorted(a) }, { values: sorted(b) })).toBeCloseTo(expected, 12);
    expect(kolmogorovSmirnov({ values: [1, 2, 3, 4] }, { values: [3, 4, 5, 6] })).toBe(0.5);
    expect(kolmogorovSmirnov({ values: sorted(a) }, { values: sorted(a) })).toBe(0);
  });

  it("KS on ties compares after both samples step (identical discrete samples give 0)", () => {
    expect(kolmogorovSmirnov({ values: [1, 1, 2, 2] }, { values: [1, 2] })).toBe(0);
    expect(kolmogorovSmirnov({ values: [1, 2] }, { values: [1, 2], weights: [3, 1] })).toBeCloseTo(0.25, 12);
  });

  it("Wasserstein-1 equals the mean |a_(i) − b_(i)| for equal sizes, and a shift c for X vs X + c", () => {
    const x = Array.from({ length: 500 }, () => normal(rand, 3, 2));
    const y = Array.from({ length: 500 }, () => normal(rand, 4, 1));
    const sx = sorted(x);
    const sy = sorted(y);
    let expected = 0;
    for (let i = 0; i < 500; i++) expected += Math.abs(sx[i]! - sy[i]!) / 500;
    expect(wasserstein1({ values: sx }, { values: sy })).toBeCloseTo(expected, 9);
    expect(wasserstein1({ values: sx }, { values: sx.map((v) => v + 2.5) })).toBeCloseTo(2.5, 9);
  });

  it("PSI equals Σ (a − e) ln(a / e) over bin proportions", () => {
    const edges = [-20, -2, -1, 0, 1, 2, 20];
    const ref = binCounts(a, edges).counts;
    const win = binCounts(b, edges).counts;
    const e = ref.map((c) => c / a.length);
    const w = win.map((c) => c / b.length);
    const expected = e.reduce((sum, ei, i) => sum + (w[i]! - ei) * Math.log(w[i]! / ei), 0);
    expect(e.every((x) => x > 0) && w.every((x) => x > 0)).toBe(true); // no smoothing involved
    expect(populationStabilityIndex(ref, win)).toBeCloseTo(expected, 12);
    expect(populationStabilityIndex([10, 20, 30], [1, 2, 3])).toBeCloseTo(0, 12);
    // 0.5/0.5 vs 0.9/0.1: (0.4 ln 1.8) + (−0.4 ln 0.2)
    expect(populationStabilityIndex([50, 50], [90, 10])).toBeCloseTo(0.4 * Math.log(1.8) - 0.4 * Math.log(0.2), 12);
  });

  it("JS distance is sqrt of the base-2 JS divergence, 0 for equal and 1 for disjoint distributions", () => {
    const p = [0.1, 0.4, 0.5];
    const q = [0.3, 0.3, 0.4];
    const m = p.map((pi, i) => (pi + q[i]!) / 2);
    const kl = (x: number[], y: number[]) => x.reduce((s, xi, i) => s + xi * Math.log(xi / y[i]!), 0);
    const expected = Math.sqrt((kl(p, m) / 2 + kl(q, m) / 2) / Math.LN2);
    expect(jensenShannonDistance([10, 40, 50], [30, 30, 40])).toBeCloseTo(expected, 12);
    expect(jensenShannonDistance([5, 5], [50, 50])).toBe(0);
    expect(jensenShannonDistance([1, 0], [0, 1])).toBeCloseTo(1, 12);
  });
});

describe("categorical drift metrics", () => {
  it("chi-square p-value matches the closed forms for 2 and 4 degrees of freedom", () => {
    for (const x of [0.5, 3, 5.991, 12]) {
      expect(chiSquareSurvival(x, 2)).toBeCloseTo(Math.exp(-x / 2), 12);
      expect(chiSquareSurvival(x, 4)).toBeCloseTo(Math.exp(-x / 2) * (1 + x / 2), 12);
    }
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 9);
  });

  it("chi-square statistic of a 2 × 3 table equals Σ (O − E)² / E", () => {
    const ref = [50, 30, 20];
    const win = [20, 30, 50];
    let expected = 0;
    for (let j = 0; j < 3; j++) {
      const col = ref[j]! + win[j]!;
      for (const [row, total] of [[ref, 100], [win, 100]] as const) expected += (row[j]! - (total * col) / 200) ** 2 / ((total * col) / 200);
    }
    const result = chiSquareHomogeneity(ref, win);
    expect(result.statistic).toBeCloseTo(expected, 12);
    expect(result.degreesOfFreedom).toBe(2);
    expect(result.pValue).toBeCloseTo(Math.exp(-expected / 2), 12);
    expect(chiSquareHomogeneity([500, 300, 200], [50, 30, 20]).pValue).toBeCloseTo(1, 12);
  });
});

describe("t-digest", () => {
  it("quantiles and CDF of 100k values within 0.5% of rank, also after merging parts", () => {
    const rand = random(7);
    const values = Array.from({ length: 100_000 }, () => normal(rand, 10, 3));
    const exact = sorted(values);
    const whole = new TDigest();
    const parts = [new TDigest(), new TDigest(), new TDigest()];
    values.forEach((v, i) => {
      whole.add(v);
      parts[i % 3]!.add(v);
    });
    const merged = TDigest.from(parts[0]!.state());
    merged.merge(parts[1]!);
    merged.merge(parts[2]!);
    for (const digest of [whole, merged]) {
      expect(digest.count).toBe(100_000);
      for (const q of [0.001, 0.01, 0.25, 0.5, 0.75, 0.99, 0.999]) {
        const estimate = digest.quantile(q);
        const rank = exact.findIndex((x) => x >= estimate) / exact.length;
        expect(Math.abs(rank - q), `q=${q}`).toBeLessThan(0.005);
        expect(Math.abs(digest.cdf(exact[Math.floor(q * exact.length)]!) - q)).toBeLessThan(0.005);
      }
      expect(digest.state().means.length).toBeLessThan(200);
      expect(digest.quantile(0)).toBe(exact[0]);
      expect(digest.quantile(1)).toBe(exact[exact.length - 1]);
    }
  });
});

describe("mergeable feature statistics", () => {
  it("merging two batches equals the statistics of both at once", () => {
    const rand = random(3);
    const edges = [0, 5, 10, 15, 20];
    const a = Array.from({ length: 1000 }, () => (rand() < 0.1 ? null : normal(rand, 10, 4)));
    const b = Array.from({ length: 700 }, () => (rand() < 0.1 ? null : normal(rand, 12, 2)));
    const merged = mergePartials(partialOf(a, edges), partialOf(b, edges));
    const all = partialOf([...a, ...b], edges);
    expect(merged.count).toBe(1700);
    expect(merged.nullCount).toBe(all.nullCount);
    expect(merged.mean).toBeCloseTo(all.mean, 9);
    expect(merged.m2).toBeCloseTo(all.m2, 6);
    expect(merged.bins).toEqual(all.bins);
    expect([merged.min, merged.max]).toEqual([all.min, all.max]);
    const nonNull = [...a, ...b].filter((x): x is number => x !== null);
    const mean = nonNull.reduce((s, x) => s + x, 0) / nonNull.length;
    const stats = toFeatureStatistics("x", merged);
    expect(stats.mean).toBeCloseTo(mean, 9);
    expect(stats.stddev).toBeCloseTo(Math.sqrt(nonNull.reduce((s, x) => s + (x - mean) ** 2, 0) / nonNull.length), 9);
    expect(stats.histogram!.counts.map(Number)).toEqual(binCounts(nonNull, edges).counts);
  });

  it("categories are counted and merged", () => {
    const merged = mergePartials(partialOf(["a", "b", "a", null, true]), partialOf(["b", "c"]));
    expect(merged.categories).toEqual({ a: 2, b: 2, c: 1, true: 1 });
    expect(merged.nullCount).toBe(1);
  });
});

describe("model metrics", () => {
  it("AUC equals the fraction of (positive, negative) pairs ranked right, ties one half", () => {
    const rand = random(11);
    const labels = Array.from({ length: 300 }, () => (rand() < 0.3 ? 1 : 0));
    const scores = labels.map((y) => Math.round((y ? 0.6 : 0.4) * 10 + normal(rand, 0, 2)) / 10); // rounded: many ties
    let pairs = 0;
    let right = 0;
    labels.forEach((yi, i) =>
      labels.forEach((yj, j) => {
        if (yi === 1 && yj === 0) {
          pairs++;
          right += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
        }
      }),
    );
    expect(rocAuc(scores, labels)).toBeCloseTo(right / pairs, 12);
    expect(modelMetrics([0.9, 0.2, 0.7, 0.4], [1, 0, 0, 1])).toMatchObject({ accuracy: 0.5, auc: 0.75 });
    expect(modelMetrics([1, 2, 3], [1, 2, 5])).toMatchObject({ rmse: Math.sqrt(4 / 3), mae: 2 / 3 });
  });
});
