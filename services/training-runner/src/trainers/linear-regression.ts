// Linear regression by the normal equations on centred data (so the intercept
// is not penalized): (Xcᵀ Xc + l2·n·I) w = Xcᵀ yc, solved by Cholesky in float64.
import { linearRegressionModel } from "@fti/onnx";
import { checkpoint, type TrainedModel, type TrainerContext, type TrainingData } from "./trainer.js";

export interface LinearRegressionParams {
  l2: number;
}

export async function trainLinearRegression(data: TrainingData, params: LinearRegressionParams, ctx: TrainerContext): Promise<TrainedModel> {
  const { x, y, rows, features: f } = data;
  const meanX = new Float64Array(f);
  let meanY = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < f; j++) meanX[j]! += x[i * f + j]!;
    meanY += y[i]!;
  }
  for (let j = 0; j < f; j++) meanX[j]! /= rows;
  meanY /= rows;

  const a = new Float64Array(f * f);
  const b = new Float64Array(f);
  const centred = new Float64Array(f);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < f; j++) centred[j] = x[i * f + j]! - meanX[j]!;
    const yc = y[i]! - meanY;
    for (let j = 0; j < f; j++) {
      const cj = centred[j]!;
      b[j]! += cj * yc;
      for (let k = 0; k <= j; k++) a[j * f + k]! += cj * centred[k]!;
    }
    if (i % 20_000 === 19_999) {
      ctx.progress(i / rows);
      await checkpoint(ctx.signal);
    }
  }
  // A tiny ridge keeps a constant or duplicated column from making the system singular.
  let trace = 0;
  for (let j = 0; j < f; j++) trace += a[j * f + j]!;
  const jitter = 1e-10 * (trace / Math.max(f, 1) || 1);
  for (let j = 0; j < f; j++) a[j * f + j]! += params.l2 * rows + jitter;
  const weights = solveSymmetric(a, b, f);
  const bias = meanY - weights.reduce((s, w, j) => s + w * meanX[j]!, 0);
  ctx.progress(1);
  ctx.log(`linear regression: ${f} weights, intercept ${bias.toPrecision(6)}`);

  return {
    task: "regression",
    predict(xs, n) {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = bias;
        for (let j = 0; j < f; j++) s += weights[j]! * xs[i * f + j]!;
        out[i] = s;
      }
      return out;
    },
    toOnnx: (options) => linearRegressionModel({ ...options, weights, bias }),
  };
}

/** Solves A w = b for symmetric positive definite A (lower triangle filled) by Cholesky. */
export function solveSymmetric(a: Float64Array, b: Float64Array, n: number): number[] {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let k = 0; k < j; k++) d -= l[j * n + k]! ** 2;
    if (!(d > 0)) throw new Error("the features are linearly dependent; drop duplicated columns or set l2 > 0");
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = s / ljj;
    }
  }
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * z[k]!;
    z[i] = s / l[i * n + i]!;
  }
  const w = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * w[k]!;
    w[i] = s / l[i * n + i]!;
  }
  return w;
}
