// Scores a split with an ONNX model through onnxruntime (what serving runs),
// checks that a model's input fits the job's features, and that an exported
// model predicts what its trainer predicts.
import { describeModel, predictWithOnnx, PROBABILITIES_OUTPUT, PREDICTION_OUTPUT, type ModelDescription } from "@fti/onnx";
import { JobFailure } from "./dataset.js";
import type { Task } from "./trainers/trainer.js";

/** The one float input [N, features] a model must have to be fed the job's feature rows. */
export function checkModelInputs(description: ModelDescription, features: string[], what: string): void {
  const inputs = description.inputs;
  if (inputs.length !== 1) throw new JobFailure(`${what} has ${inputs.length} inputs; it must have one float input [N, ${features.length}] fed with the features ${features.join(", ")}`);
  const input = inputs[0]!;
  const width = input.shape?.[1];
  if (input.elemType !== "FLOAT" || input.shape?.length !== 2 || (typeof width === "number" && width !== features.length))
    throw new JobFailure(`${what}'s input "${input.name}" is ${input.elemType || input.kind} [${(input.shape ?? []).map((d) => d ?? "?").join(", ")}]; it must be FLOAT [N, ${features.length}] for the features ${features.join(", ")}`);
  const names = description.featureNames;
  if (names && (names.length !== features.length || names.some((n, i) => n !== features[i])))
    throw new JobFailure(`${what} was built for the features [${names.join(", ")}], but the job's features are [${features.join(", ")}]`);
}

/**
 * The model's score per row: the positive-class probability for
 * classification (output "probabilities"[:, 1], else the first float output's
 * last column), the prediction for regression.
 */
export async function scoreWithOnnx(modelBytes: Uint8Array, x: Float32Array, rows: number, features: number, task: Task): Promise<Float64Array> {
  const outputs = await predictWithOnnx(modelBytes, x, rows, features);
  const preferred = task === "classification" ? PROBABILITIES_OUTPUT : PREDICTION_OUTPUT;
  const output = outputs[preferred] ?? Object.values(outputs).find((o) => o.type === "float32");
  if (!output) throw new JobFailure(`the ONNX model has no float output; expected "${preferred}"`);
  const data = output.data as Float32Array;
  const width = rows ? data.length / rows : 1;
  if (!Number.isInteger(width) || width < 1) throw new JobFailure(`the ONNX model's output has ${data.length} values for ${rows} rows`);
  const scores = new Float64Array(rows);
  for (let i = 0; i < rows; i++) scores[i] = data[i * width + width - 1]!;
  return scores;
}

/** Largest disagreement between ONNX and the trainer, relative to the value's size; float32 rounding stays far below 1e-4. */
export function compareWithTrainer(onnx: Float64Array, trainer: Float64Array): { maxDifference: number; worstRow: number } {
  let maxDifference = 0;
  let worstRow = -1;
  for (let i = 0; i < onnx.length; i++) {
    const d = Math.abs(onnx[i]! - trainer[i]!) / Math.max(1, Math.abs(trainer[i]!));
    if (!(d <= maxDifference)) {
      maxDifference = d;
      worstRow = i;
    }
  }
  return { maxDifference, worstRow };
}

export const ONNX_TOLERANCE = 1e-4;

export { describeModel };
