// Linear and logistic regression models, run by the real onnxruntime, against
// the plain TypeScript formula on random inputs.
import { describe, expect, it } from "vitest";
import { linearRegressionModel, logisticRegressionModel, predictWithOnnx } from "../src/index.js";
import { expectBinaryClassifier, expectClose, linearScore, random, randomInputs, row, violationsOf } from "./helpers.js";

const features = 7;
const rows = 200;

function randomLinear(seed: number) {
  const rand = random(seed);
  const weights = Array.from({ length: features }, () => rand() * 4 - 2);
  return { rand, weights, bias: rand() * 2 - 1 };
}

describe("linearRegressionModel", () => {
  it.each([1, 2, 3])("predicts X · w + b on random inputs (seed %i)", async (seed) => {
    const { rand, weights, bias } = randomLinear(seed);
    const inputs = randomInputs(rand, rows, features);
    const outputs = await predictWithOnnx(linearRegressionModel({ weights, bias }), inputs, rows, features);
    expect(Object.keys(outputs)).toEqual(["prediction"]);
    expect(outputs.prediction.dims).toEqual([rows, 1]);
    for (let r = 0; r < rows; r++) {
      expectClose(Number(outputs.prediction.data[r]), linearScore(weights, bias, row(inputs, features, r)), `row ${r}`);
    }
  });

  it("uses the given input and output names", async () => {
    const bytes = linearRegressionModel({ weights: [2, -1], bias: 0.5, inputName: "x", outputName: "amount" });
    const outputs = await predictWithOnnx(bytes, new Float32Array([1, 1, 3, 0]), 2, 2);
    expect(Array.from(outputs.amount.data as Float32Array)).toEqual([1.5, 6.5]);
  });

  it("rejects bad weights and names with every violation", () => {
    const violations = violationsOf(() =>
      linearRegressionModel({ weights: [1, Number.NaN], bias: Infinity, outputName: "features", featureNames: ["a"] }),
    );
    expect(violations.map((v) => v.field).sort()).toEqual(["bias", "featureNames", "inputName", "weights[1]"]);
    expect(violationsOf(() => linearRegressionModel({ weights: [], bias: 0 })).map((v) => v.field)).toEqual(["weights"]);
    expect(violationsOf(() => linearRegressionModel({ weights: [1], bias: 0, outputName: "fti/weights" })).map((v) => v.field)).toEqual([
      "outputName",
    ]);
  });
});

describe("logisticRegressionModel", () => {
  it.each([4, 5, 6])("outputs label and [1 − p, p] with p = sigmoid(X · w + b) (seed %i)", async (seed) => {
    const { rand, weights, bias } = randomLinear(seed);
    const inputs = randomInputs(rand, rows, features);
    const outputs = await predictWithOnnx(logisticRegressionModel({ weights, bias }), inputs, rows, features);
    expect(Object.keys(outputs).sort()).toEqual(["label", "probabilities"]);
    expect(outputs.label.type).toBe("int64");
    expect(outputs.probabilities.type).toBe("float32");
    const scores = Array.from({ length: rows }, (_, r) => linearScore(weights, bias, row(inputs, features, r)));
    // Both classes occur, so the label check means something.
    expect(new Set(scores.map((s) => s > 0)).size).toBe(2);
    expectBinaryClassifier(outputs, scores);
  });
});
