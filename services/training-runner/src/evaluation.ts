// Evaluation of predictions on a split: AUC, accuracy, precision, recall, F1
// and log loss for binary classification; RMSE, MAE and R² for regression;
// and the same per slice of categorical features, flagging slices whose
// metric is worse than a threshold (the bias check).
import type { Task } from "./trainers/trainer.js";

export type Metrics = Record<string, number>;

/** Metrics where smaller is better; the others are higher-is-better. */
export const errorMetrics = new Set(["rmse", "mae", "log_loss", "mse"]);
export const isWorse = (metric: string, value: number, than: number) => (errorMetrics.has(metric) ? value > than : value < than);

export function evaluate(task: Task, y: ArrayLike<number>, predicted: ArrayLike<number>, threshold = 0.5): Metrics {
  return task === "classification" ? classificationMetrics(y, predicted, threshold) : regressionMetrics(y, predicted);
}

export function classificationMetrics(y: ArrayLike<number>, p: ArrayLike<number>, threshold = 0.5): Metrics {
  const n = y.length;
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  let logLoss = 0;
  for (let i = 0; i < n; i++) {
    const positive = p[i]! > threshold;
    if (y[i]) positive ? tp++ : fn++;
    else positive ? fp++ : tn++;
    const q = Math.min(Math.max(p[i]!, 1e-15), 1 - 1e-15);
    logLoss -= y[i] ? Math.log(q) : Math.log(1 - q);
  }
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  const metrics: Metrics = {
    accuracy: n ? (tp + tn) / n : 0,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    log_loss: n ? logLoss / n : 0,
  };
  const a = auc(y, p);
  if (a !== undefined) metrics.auc = a;
  return metrics;
}

/** Area under the ROC curve by ranks (ties share their mean rank); undefined when one class is absent. */
export function auc(y: ArrayLike<number>, p: ArrayLike<number>): number | undefined {
  const n = y.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => p[a]! - p[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && p[order[j + 1]!] === p[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (y[order[k]!]) {
        positives++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (!positives || !negatives) return undefined;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function regressionMetrics(y: ArrayLike<number>, p: ArrayLike<number>): Metrics {
  const n = y.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i]!;
  mean /= n || 1;
  let se = 0;
  let ae = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const e = y[i]! - p[i]!;
    se += e * e;
    ae += Math.abs(e);
    total += (y[i]! - mean) ** 2;
  }
  return { rmse: Math.sqrt(se / (n || 1)), mae: ae / (n || 1), r2: total > 0 ? 1 - se / total : 0 };
}

export interface SliceResult {
  feature: string;
  value: string;
  rowCount: number;
  metrics: Metrics;
  belowThreshold: boolean;
}

export interface SliceOptions {
  task: Task;
  metric: string;
  threshold?: number;
  minRows: number;
  classificationThreshold: number;
}

/** Metrics of every value of every slice feature; slices with too few rows are reported but not judged. */
export function sliceMetrics(slices: Record<string, string[]>, y: ArrayLike<number>, p: ArrayLike<number>, options: SliceOptions): SliceResult[] {
  const results: SliceResult[] = [];
  for (const [feature, values] of Object.entries(slices)) {
    const groups = new Map<string, number[]>();
    values.forEach((v, i) => (groups.get(v) ?? groups.set(v, []).get(v)!).push(i));
    for (const [value, rows] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
      const metrics = evaluate(options.task, rows.map((i) => y[i]!), rows.map((i) => p[i]!), options.classificationThreshold);
      const judged = metrics[options.metric];
      const belowThreshold = options.threshold !== undefined && rows.length >= options.minRows && judged !== undefined && isWorse(options.metric, judged, options.threshold);
      results.push({ feature, value, rowCount: rows.length, metrics, belowThreshold });
    }
  }
  return results;
}
