// Model metrics of labelled predictions. Binary labels (every label 0 or 1)
// get classification metrics over the score (a probability; 0.5 cuts), other
// labels regression metrics.

export const classificationMetrics = ["auc", "accuracy", "precision", "recall", "f1", "log_loss"];
export const regressionMetrics = ["rmse", "mae", "r2"];
export const performanceMetricNames = [...classificationMetrics, ...regressionMetrics];

/** Higher is better for these; the rest are errors (lower is better). */
export const higherIsBetter = (metric: string) => ["auc", "accuracy", "precision", "recall", "f1", "r2"].includes(metric);

/** Alert when the value is worse than the threshold. */
export const worseThan = (metric: string, value: number, threshold: number) => (higherIsBetter(metric) ? value < threshold : value > threshold);

export function modelMetrics(scores: readonly number[], labels: readonly number[]): Record<string, number> {
  if (scores.length === 0) return {};
  const binary = labels.every((y) => y === 0 || y === 1);
  return binary ? classification(scores, labels) : regression(scores, labels);
}

function classification(scores: readonly number[], labels: readonly number[]): Record<string, number> {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  let logLoss = 0;
  for (let i = 0; i < scores.length; i++) {
    const predicted = scores[i]! >= 0.5 ? 1 : 0;
    if (predicted === 1 && labels[i] === 1) tp++;
    else if (predicted === 1) fp++;
    else if (labels[i] === 0) tn++;
    else fn++;
    const p = Math.min(1 - 1e-15, Math.max(1e-15, scores[i]!));
    logLoss -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  const out: Record<string, number> = {
    accuracy: (tp + tn) / scores.length,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    log_loss: logLoss / scores.length,
  };
  const auc = rocAuc(scores, labels);
  if (!Number.isNaN(auc)) out.auc = auc;
  return out;
}

/**
 * ROC AUC as the Mann–Whitney U statistic: the probability that a random
 * positive scores above a random negative, ties counting one half (average
 * ranks). NaN when one class is missing.
 */
export function rocAuc(scores: readonly number[], labels: readonly number[]): number {
  const order = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]!] === 1) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

function regression(predictions: readonly number[], labels: readonly number[]): Record<string, number> {
  const n = predictions.length;
  let squared = 0;
  let absolute = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) {
    const e = predictions[i]! - labels[i]!;
    squared += e * e;
    absolute += Math.abs(e);
    mean += labels[i]! / n;
  }
  let total = 0;
  for (const y of labels) total += (y - mean) ** 2;
  const out: Record<string, number> = { rmse: Math.sqrt(squared / n), mae: absolute / n };
  if (total > 0) out.r2 = 1 - squared / total;
  return out;
}
