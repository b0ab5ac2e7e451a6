// Logistic regression by full-batch gradient descent on standardized inputs
// (so one learning rate suits every feature's scale), with an L2 penalty on
// the standardized weights; the scaling is folded back into the exported
// weights, so the ONNX model takes raw feature values.
import { logisticRegressionModel } from "@fti/onnx";
import { checkpoint, sigmoid, type TrainedModel, type TrainerContext, type TrainingData } from "./trainer.js";

export interface LogisticRegressionParams {
  learningRate: number;
  maxIterations: number;
  l2: number;
}

export async function trainLogisticRegression(data: TrainingData, params: LogisticRegressionParams, ctx: TrainerContext): Promise<TrainedModel> {
  const { x, y, rows, features: f } = data;
  const mean = new Float64Array(f);
  const scale = new Float64Array(f);
  for (let i = 0; i < rows; i++) for (let j = 0; j < f; j++) mean[j]! += x[i * f + j]!;
  for (let j = 0; j < f; j++) mean[j]! /= rows;
  for (let i = 0; i < rows; i++) for (let j = 0; j < f; j++) scale[j]! += (x[i * f + j]! - mean[j]!) ** 2;
  for (let j = 0; j < f; j++) scale[j] = Math.sqrt(scale[j]! / rows) || 1;
  const standardized = new Float64Array(rows * f);
  for (let i = 0; i < rows; i++) for (let j = 0; j < f; j++) standardized[i * f + j] = (x[i * f + j]! - mean[j]!) / scale[j]!;

  const w = new Float64Array(f);
  let b = 0;
  const grad = new Float64Array(f);
  let loss = 0;
  for (let iter = 0; iter < params.maxIterations; iter++) {
    grad.fill(0);
    let gradB = 0;
    loss = 0;
    for (let i = 0; i < rows; i++) {
      let z = b;
      for (let j = 0; j < f; j++) z += w[j]! * standardized[i * f + j]!;
      const p = sigmoid(z);
      const err = p - y[i]!;
      gradB += err;
      for (let j = 0; j < f; j++) grad[j]! += err * standardized[i * f + j]!;
      loss += y[i]! ? -Math.log(Math.max(p, 1e-15)) : -Math.log(Math.max(1 - p, 1e-15));
    }
    for (let j = 0; j < f; j++) w[j]! -= params.learningRate * (grad[j]! / rows + params.l2 * w[j]!);
    b -= params.learningRate * (gradB / rows);
    if (iter % 10 === 0 || iter === params.maxIterations - 1) {
      ctx.progress((iter + 1) / params.maxIterations);
      await checkpoint(ctx.signal);
    }
  }
  ctx.log(`logistic regression: ${params.maxIterations} iterations, train log loss ${(loss / rows).toFixed(5)}`);

  // Undo the standardization: w·(x − μ)/σ + b = (w/σ)·x + (b − Σ wμ/σ).
  const weights = Array.from(w, (wj, j) => wj / scale[j]!);
  const bias = b - weights.reduce((s, wj, j) => s + wj * mean[j]!, 0);
  return {
    task: "classification",
    predict(xs, n) {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let z = bias;
        for (let j = 0; j < f; j++) z += weights[j]! * xs[i * f + j]!;
        out[i] = sigmoid(z);
      }
      return out;
    },
    toOnnx: (options) => logisticRegressionModel({ ...options, weights, bias }),
  };
}
