// Drift of one feature in one window: every configured metric applicable to
// the feature's kind, judged by its threshold in the metric's direction.
import { DriftMetric, DriftStatus } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { binsOver, valueCount, type FeaturePartial } from "../statistics/feature-partial.js";
import { chiSquareHomogeneity } from "./chi-square.js";
import { alignCategories } from "./distributions.js";
import { jensenShannonDistance } from "./js.js";
import { kolmogorovSmirnov } from "./ks.js";
import { populationStabilityIndex } from "./psi.js";
import type { FeatureReference } from "./reference-distribution.js";
import { wasserstein1 } from "./wasserstein.js";

export interface Threshold {
  feature: string;
  metric: DriftMetric;
  threshold: number;
}

export interface Score {
  metric: DriftMetric;
  /** Undefined with insufficient data. */
  value?: number;
  threshold: number;
  exceeded: boolean;
}

export interface FeatureDriftResult {
  feature: string;
  status: DriftStatus;
  valueCount: number;
  scores: Score[];
}

export const numericMetrics = [DriftMetric.PSI, DriftMetric.KS, DriftMetric.JS, DriftMetric.WASSERSTEIN];
export const categoricalMetrics = [DriftMetric.PSI, DriftMetric.JS, DriftMetric.CHI_SQUARE];
/** Used for a feature when no configured threshold applies to its kind. */
export const DEFAULT_PSI_THRESHOLD = 0.2;

/** Lower is worse only for the chi-square p-value. */
export const exceeds = (metric: DriftMetric, value: number, threshold: number) => (metric === DriftMetric.CHI_SQUARE ? value < threshold : value > threshold);

/** The thresholds that apply to a feature: its own per metric, else the monitor's default ("" feature). */
export function thresholdsFor(feature: string, kind: FeatureReference["kind"], thresholds: readonly Threshold[]): Threshold[] {
  const applicable = kind === "numeric" ? numericMetrics : categoricalMetrics;
  const out: Threshold[] = [];
  for (const metric of applicable) {
    const own = thresholds.find((t) => t.feature === feature && t.metric === metric) ?? thresholds.find((t) => t.feature === "" && t.metric === metric);
    if (own) out.push({ feature, metric, threshold: own.threshold });
  }
  return out.length ? out : [{ feature, metric: DriftMetric.PSI, threshold: DEFAULT_PSI_THRESHOLD }];
}

export function featureDrift(feature: string, reference: FeatureReference, window: FeaturePartial | undefined, thresholds: readonly Threshold[], enoughRows: boolean): FeatureDriftResult {
  const applicable = thresholdsFor(feature, reference.kind, thresholds);
  const values = window ? (reference.kind === "numeric" ? window.numericCount : valueCount(window) - window.numericCount) : 0;
  if (!window || !enoughRows || values === 0) {
    return { feature, status: DriftStatus.INSUFFICIENT_DATA, valueCount: values, scores: applicable.map((t) => ({ metric: t.metric, threshold: t.threshold, exceeded: false })) };
  }
  const measure = reference.kind === "numeric" ? numericMeasures(reference, window) : categoricalMeasures(reference.counts, window);
  const scores = applicable.map((t) => {
    const value = measure(t.metric);
    return { metric: t.metric, value, threshold: t.threshold, exceeded: exceeds(t.metric, value, t.threshold) };
  });
  return { feature, status: scores.some((s) => s.exceeded) ? DriftStatus.DRIFT : DriftStatus.OK, valueCount: values, scores };
}

function numericMeasures(reference: Extract<FeatureReference, { kind: "numeric" }>, window: FeaturePartial) {
  // Values outside the reference's range count in its outer bins: a shift
  // beyond the training data is drift, not something to drop.
  const bins = binsOver(window, reference.edges);
  const windowCounts = bins.counts.slice();
  windowCounts[0]! += bins.below;
  windowCounts[windowCounts.length - 1]! += bins.above;
  const points = { values: window.digest?.means ?? [], weights: window.digest?.weights ?? [] };
  return (metric: DriftMetric): number => {
    switch (metric) {
      case DriftMetric.PSI:
        return populationStabilityIndex(reference.counts, windowCounts);
      case DriftMetric.JS:
        return jensenShannonDistance(reference.counts, windowCounts);
      case DriftMetric.KS:
        return kolmogorovSmirnov(reference.points, points);
      case DriftMetric.WASSERSTEIN:
        return wasserstein1(reference.points, points);
      default:
        throw new Error(`metric ${DriftMetric[metric]} does not apply to numeric features`);
    }
  };
}

function categoricalMeasures(reference: ReadonlyMap<string, number>, window: FeaturePartial) {
  const windowCounts = new Map(Object.entries(window.categories));
  // Categories beyond the window's cap are pooled as OTHER_CATEGORY, which the
  // reference never has: a flood of unseen values shows up as drift.
  const aligned = alignCategories(reference, windowCounts);
  return (metric: DriftMetric): number => {
    switch (metric) {
      case DriftMetric.PSI:
        return populationStabilityIndex(aligned.reference, aligned.window);
      case DriftMetric.JS:
        return jensenShannonDistance(aligned.reference, aligned.window);
      case DriftMetric.CHI_SQUARE:
        return chiSquareHomogeneity(aligned.reference, aligned.window).pValue;
      default:
        throw new Error(`metric ${DriftMetric[metric]} does not apply to categorical features`);
    }
  };
}
