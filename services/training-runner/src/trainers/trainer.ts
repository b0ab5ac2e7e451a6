// What every built-in trainer takes and returns. Features arrive as float32
// rows (the ONNX input type), so a trainer sees exactly what the exported
// model will see.
import type { ModelOptions } from "@fti/onnx";

export type Task = "classification" | "regression";

export interface TrainingData {
  /** Row-major [rows × features]. */
  x: Float32Array;
  /** The label per row: 0/1 for classification. */
  y: Float64Array;
  rows: number;
  features: number;
}

export interface TrainerContext {
  /** Aborted when the job is cancelled or times out; trainers check it between iterations. */
  signal: AbortSignal;
  /** Fraction of the training done, 0..1. */
  progress(fraction: number): void;
  log(text: string): void;
}

export interface TrainedModel {
  task: Task;
  /** The positive-class probability (classification) or the prediction (regression) per row. */
  predict(x: Float32Array, rows: number): Float64Array;
  /** The model as ONNX bytes. */
  toOnnx(options: ModelOptions): Uint8Array;
}

/** Lets the event loop run (RPCs, cancel checks) and throws if the job was stopped. */
export async function checkpoint(signal: AbortSignal): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  signal.throwIfAborted();
}

export const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
