// Tree ensembles, run by the real onnxruntime, against a plain TypeScript walk
// of the same trees: random ensembles, the split rule at the threshold, NaN
// routing, and the all-positive-leaves case onnxruntime's classifier gets wrong.
import { describe, expect, it } from "vitest";
import { predictWithOnnx, treeEnsembleModel, type Tree } from "../src/index.js";
import { expectBinaryClassifier, expectClose, random, randomInputs, randomTree, row, treeScore, violationsOf } from "./helpers.js";

const features = 10;
const rows = 500;

/** 20 trees of depth 4 over 10 features, as a boosted ensemble would have. */
function randomEnsemble(seed: number) {
  const rand = random(seed);
  const trees = Array.from({ length: 20 }, () => randomTree(rand, 4, features));
  return { trees, inputs: randomInputs(rand, rows, features), baseScore: rand() - 0.5 };
}

describe("treeEnsembleModel regressor", () => {
  it.each([11, 12, 13])("predicts baseScore + learningRate × Σ leaves (seed %i)", async (seed) => {
    const { trees, inputs, baseScore } = randomEnsemble(seed);
    const bytes = treeEnsembleModel({ kind: "regressor", trees, features, baseScore, learningRate: 0.1 });
    const outputs = await predictWithOnnx(bytes, inputs, rows, features);
    expect(Object.keys(outputs)).toEqual(["prediction"]);
    expect(outputs.prediction.dims).toEqual([rows, 1]);
    for (let r = 0; r < rows; r++) {
      expectClose(Number(outputs.prediction.data[r]), treeScore(trees, row(inputs, features, r), baseScore, 0.1), `row ${r}`);
    }
  });

  it("sends x == threshold left and NaN right unless missingGoesLeft", async () => {
    const trees: Tree[] = [
      { nodes: [{ feature: 0, threshold: 0.1, left: 1, right: 2 }, { leaf: 1 }, { leaf: 2 }] },
      { nodes: [{ feature: 1, threshold: 0.5, left: 1, right: 2, missingGoesLeft: true }, { leaf: 10 }, { leaf: 20 }] },
    ];
    const bytes = treeEnsembleModel({ kind: "regressor", trees, features: 2, baseScore: 0 });
    // Columns: x0 (threshold 0.1, not exact in float32), x1 (threshold 0.5).
    const inputs = new Float32Array([0.1, 0.5, 0.10000001, 0.50001, Number.NaN, Number.NaN]);
    const outputs = await predictWithOnnx(bytes, inputs, 3, 2);
    expect(Array.from(outputs.prediction.data as Float32Array)).toEqual([11, 22, 12]);
  });
});

describe("treeEnsembleModel classifier", () => {
  it.each([21, 22, 23])("outputs label and [1 − p, p] with p = sigmoid(score) (seed %i)", async (seed) => {
    const { trees, inputs, baseScore } = randomEnsemble(seed);
    const bytes = treeEnsembleModel({ kind: "classifier", trees, features, baseScore, learningRate: 0.3 });
    const outputs = await predictWithOnnx(bytes, inputs, rows, features);
    expect(Object.keys(outputs).sort()).toEqual(["label", "probabilities"]);
    const scores = Array.from({ length: rows }, (_, r) => treeScore(trees, row(inputs, features, r), baseScore, 0.3));
    expect(new Set(scores.map((s) => s > 0)).size).toBe(2);
    expectBinaryClassifier(outputs, scores);
  });

  it("labels by score > 0 when every leaf is positive", async () => {
    // Scores 0.3 and 2: both positive class. onnxruntime's TreeEnsembleClassifier
    // would label the first 0 (it compares all-positive scores with 0.5).
    const trees: Tree[] = [{ nodes: [{ feature: 0, threshold: 0, left: 1, right: 2 }, { leaf: 0.3 }, { leaf: 2 }] }];
    const outputs = await predictWithOnnx(treeEnsembleModel({ kind: "classifier", trees, features: 1, baseScore: 0 }), new Float32Array([-1, 1]), 2, 1);
    expectBinaryClassifier(outputs, [0.3, 2]);
  });
});

describe("treeEnsembleModel validation", () => {
  it("names every malformed node", () => {
    const trees = [
      { nodes: [{ feature: 10, threshold: Number.NaN, left: 1, right: 0 }, { leaf: Infinity }] },
      { nodes: [] },
    ] as Tree[];
    const violations = violationsOf(() => treeEnsembleModel({ kind: "regressor", trees, features: 10, baseScore: 0, learningRate: 0 }));
    expect(violations.map((v) => v.field)).toEqual([
      "learningRate",
      "trees[0].nodes[0].feature",
      "trees[0].nodes[0].threshold",
      "trees[0].nodes[0].right",
      "trees[0].nodes[1].leaf",
      "trees[1].nodes",
    ]);
  });

  it("rejects shared children and cycles", () => {
    const shared: Tree = { nodes: [{ feature: 0, threshold: 0, left: 1, right: 1 }, { leaf: 1 }, { leaf: 2 }] };
    expect(violationsOf(() => treeEnsembleModel({ kind: "regressor", trees: [shared], features: 1, baseScore: 0 }))).toEqual([
      { field: "trees[0].nodes[1]", description: "must be the child of exactly one node, is the child of 2" },
      { field: "trees[0].nodes[2]", description: "must be the child of exactly one node, is the child of 0" },
    ]);
    const cycle: Tree = {
      nodes: [{ leaf: 1 }, { feature: 0, threshold: 0, left: 2, right: 3 }, { feature: 0, threshold: 0, left: 1, right: 4 }, { leaf: 2 }, { leaf: 3 }],
    };
    expect(violationsOf(() => treeEnsembleModel({ kind: "regressor", trees: [cycle], features: 1, baseScore: 0 }))).toEqual([
      { field: "trees[0].nodes", description: "4 nodes are not reachable from the root (a cycle)" },
    ]);
  });

  it("needs at least one tree", () => {
    expect(violationsOf(() => treeEnsembleModel({ kind: "classifier", trees: [], features: 3, baseScore: 0 })).map((v) => v.field)).toEqual(["trees"]);
  });
});
