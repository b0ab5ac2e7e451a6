// Models over the shop view, built with @fti/onnx and registered with a READY
// training dataset of the view.
import { TensorDataType } from "@fti/proto/fti/registry/v1/model_pb";
import { linearRegressionModel } from "@fti/onnx";
import { registerModel, type ServingHarness } from "./harness.js";
import { project } from "./shop.js";

/** The vector columns (after transformations) the shop models take, in order. */
export const modelFeatures = ["age", "income", "act_clicks_7d", "act_spend_30d", "seg_risk", "amount_ratio"];

/** A linear regression over modelFeatures: prediction = x · weights + bias, output "prediction" [N, 1]. */
export async function registerLinear(h: ServingHarness, modelId: string, trainingDataset: string, weights: number[], bias: number, options: { corrupt?: boolean } = {}) {
  let bytes = linearRegressionModel({ weights, bias, featureNames: modelFeatures });
  if (options.corrupt) bytes = bytes.slice(0, Math.floor(bytes.length / 2)); // truncated: not loadable
  return registerModel(h, project, modelId, bytes, {
    trainingDataset,
    inputs: [{ name: "features", dataType: TensorDataType.FLOAT, shape: [-1n, BigInt(weights.length)], features: modelFeatures }],
    outputs: [{ name: "prediction", dataType: TensorDataType.FLOAT, shape: [-1n, 1n] }],
  });
}

export const dot = (x: number[], w: number[], b: number) => Math.fround(x.reduce((s, v, i) => s + Math.fround(v) * w[i]!, b));
