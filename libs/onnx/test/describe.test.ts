// describeModel reads back what the builders wrote; corrupt files are
// rejected at load, by onnxruntime and by describeModel alike.
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "@fti/errors";
import {
  describeModel,
  linearRegressionModel,
  loadOnnxModel,
  logisticRegressionModel,
  predictWithOnnx,
  treeEnsembleModel,
} from "../src/index.js";
import { random, randomTree } from "./helpers.js";

const featureNames = ["amount", "avg_amount_30d", "count_7d"];
const metadata = {
  featureNames,
  modelVersion: 7,
  docString: "fraud model",
  producerVersion: "training-runner 0.1.0",
  properties: { training_dataset: "projects/fraud/trainingDatasets/tx/versions/2" },
};

function trees() {
  const rand = random(31);
  return [randomTree(rand, 2, 3), randomTree(rand, 2, 3)];
}

describe("describeModel", () => {
  it("reads back versions, metadata, inputs and outputs of a classifier", () => {
    const bytes = treeEnsembleModel({ kind: "classifier", trees: trees(), features: 3, baseScore: 0, ...metadata });
    expect(describeModel(bytes)).toEqual({
      irVersion: 8,
      producerName: "fti",
      producerVersion: "training-runner 0.1.0",
      modelVersion: 7,
      docString: "fraud model",
      opsets: [
        { domain: "", version: 17 },
        { domain: "ai.onnx.ml", version: 3 },
      ],
      metadata: {
        feature_names: JSON.stringify(featureNames),
        training_dataset: "projects/fraud/trainingDatasets/tx/versions/2",
      },
      featureNames,
      inputs: [{ name: "features", kind: "tensor", elemType: "FLOAT", shape: ["N", 3] }],
      outputs: [
        { name: "label", kind: "tensor", elemType: "INT64", shape: ["N"] },
        { name: "probabilities", kind: "tensor", elemType: "FLOAT", shape: ["N", 2] },
      ],
    });
  });

  it.each([
    ["linear regression", () => linearRegressionModel({ weights: [1, 2, 3], bias: 0, inputName: "x", outputName: "y" }), "x", [{ name: "y", shape: ["N", 1] }]],
    ["logistic regression", () => logisticRegressionModel({ weights: [1, 2, 3], bias: 0 }), "features", [{ name: "label", shape: ["N"] }, { name: "probabilities", shape: ["N", 2] }]],
    ["tree regressor", () => treeEnsembleModel({ kind: "regressor", trees: trees(), features: 3, baseScore: 1 }), "features", [{ name: "prediction", shape: ["N", 1] }]],
  ])("lists the inputs and outputs onnxruntime sees: %s", async (_, build, input, outputs) => {
    const description = describeModel(build());
    expect(description.inputs.map((i) => [i.name, i.shape])).toEqual([[input, ["N", 3]]]);
    expect(description.outputs.map((o) => ({ name: o.name, shape: o.shape }))).toEqual(outputs);
    expect(description.featureNames).toBeNull();
    const session = await loadOnnxModel(build());
    expect(session.inputNames).toEqual([input]);
    expect(session.outputNames).toEqual(outputs.map((o) => o.name));
    await session.release();
  });

  it("writes the same bytes for the same model", () => {
    const build = () => treeEnsembleModel({ kind: "regressor", trees: trees(), features: 3, baseScore: 0, ...metadata });
    expect(Buffer.from(build()).equals(Buffer.from(build()))).toBe(true);
  });

  it("rejects bytes that are not an ONNX model", () => {
    const bytes = linearRegressionModel({ weights: [1, 2, 3], bias: 0 });
    expect(() => describeModel(bytes.subarray(0, bytes.length - 5))).toThrow(InvalidArgumentError);
    expect(() => describeModel(new TextEncoder().encode("not a model"))).toThrow(InvalidArgumentError);
    expect(() => describeModel(new Uint8Array())).toThrow(/no graph outputs/);
  });
});

describe("corrupt models", () => {
  const bytes = treeEnsembleModel({ kind: "classifier", trees: trees(), features: 3, baseScore: 0 });

  it("loads the intact model", async () => {
    const outputs = await predictWithOnnx(bytes, new Float32Array([0, 0, 0]), 1, 3);
    expect(outputs.probabilities.dims).toEqual([1, 2]);
  });

  it.each([
    ["truncated", bytes.subarray(0, Math.floor(bytes.length / 2))],
    ["random bytes", Uint8Array.from({ length: 256 }, (_, i) => (i * 151 + 7) % 256)],
    ["empty", new Uint8Array()],
  ])("is rejected at load by onnxruntime: %s", async (_, corrupt) => {
    const load = loadOnnxModel(corrupt);
    await expect(load).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(load).rejects.toThrow(/^model: is not a loadable ONNX model: /);
    await expect(predictWithOnnx(corrupt, new Float32Array(3), 1, 3)).rejects.toThrow(InvalidArgumentError);
  });

  it("rejects inputs of the wrong size before running", async () => {
    await expect(predictWithOnnx(bytes, new Float32Array(4), 1, 3)).rejects.toThrow(/expected rows × features = 1 × 3/);
  });
});
