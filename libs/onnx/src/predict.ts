// Runs ONNX model bytes with onnxruntime-node: the same runtime online-serving
// uses, so the training runner's ONNX-vs-trainer check and our tests see what
// serving will see.
import { InvalidArgumentError } from "@fti/errors";
import { InferenceSession, Tensor } from "onnxruntime-node";

/** One output tensor: int64 outputs (label) are BigInt64Array, float outputs Float32Array. */
export interface OnnxOutput {
  type: Tensor.Type;
  dims: readonly number[];
  data: Tensor.DataType;
}

/**
 * Loads model bytes into an onnxruntime session. A file that is not a valid
 * ONNX model (corrupt, truncated, unknown operator) is INVALID_ARGUMENT on
 * `field`, with onnxruntime's reason.
 */
export async function loadOnnxModel(
  modelBytes: Uint8Array,
  options: InferenceSession.SessionOptions = {},
  field = "model",
): Promise<InferenceSession> {
  try {
    return await InferenceSession.create(modelBytes, options);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw InvalidArgumentError.field(field, `is not a loadable ONNX model: ${reason}`);
  }
}

/**
 * Scores `rows` rows of `features` float32 values (row-major) with a model
 * that has one input of shape [N, features]; returns every output by name.
 */
export async function predictWithOnnx(
  modelBytes: Uint8Array,
  inputs: Float32Array,
  rows: number,
  features: number,
): Promise<Record<string, OnnxOutput>> {
  if (inputs.length !== rows * features) {
    throw InvalidArgumentError.field("inputs", `has ${inputs.length} values, expected rows × features = ${rows} × ${features}`);
  }
  const session = await loadOnnxModel(modelBytes);
  try {
    if (session.inputNames.length !== 1) {
      throw InvalidArgumentError.field("model", `must have exactly one input, has ${session.inputNames.length}`);
    }
    const results = await session.run({ [session.inputNames[0]]: new Tensor("float32", inputs, [rows, features]) });
    const outputs: Record<string, OnnxOutput> = {};
    for (const [name, value] of Object.entries(results)) {
      if (!(value instanceof Tensor)) throw InvalidArgumentError.field("model", `output "${name}" is not a tensor`);
      outputs[name] = { type: value.type, dims: value.dims, data: value.data };
    }
    return outputs;
  } finally {
    await session.release();
  }
}
