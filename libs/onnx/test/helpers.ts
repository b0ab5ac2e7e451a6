// Shared test helpers: seeded randomness, random inputs and trees, and plain
// TypeScript reference computations the ONNX predictions are compared with.
import { expect } from "vitest";
import type { OnnxOutput, Tree, TreeNode } from "../src/index.js";

export { seededRandom as random } from "@fti/testkit/random";
export { violationsOf } from "@fti/testkit/assertions";

/**
 * Rows × features values in [-2, 2]. Even columns are on a 0.25 grid, the
 * same grid random thresholds use, so many values equal a threshold exactly
 * and the "<= goes left" rule is exercised.
 */
export function randomInputs(rand: () => number, rows: number, features: number): Float32Array {
  const values = new Float32Array(rows * features);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < features; f++) {
      values[r * features + f] = f % 2 === 0 ? gridValue(rand) : rand() * 4 - 2;
    }
  }
  return values;
}

function gridValue(rand: () => number): number {
  return Math.round((rand() * 4 - 2) * 4) / 4;
}

/** A full binary tree of the given depth with random splits and leaves. */
export function randomTree(rand: () => number, depth: number, features: number): Tree {
  const nodes: TreeNode[] = [];
  const grow = (level: number): number => {
    const index = nodes.length;
    if (level === depth) {
      nodes.push({ leaf: rand() * 2 - 1 });
      return index;
    }
    const split = { feature: Math.floor(rand() * features), threshold: gridValue(rand), left: 0, right: 0 };
    nodes.push(split);
    split.left = grow(level + 1);
    split.right = grow(level + 1);
    return index;
  };
  grow(0);
  return { nodes };
}

/** The reference tree score: float32 comparisons, x <= threshold goes left, NaN right unless missingGoesLeft. */
export function treeScore(trees: Tree[], row: ArrayLike<number>, baseScore: number, learningRate: number): number {
  let score = baseScore;
  for (const tree of trees) {
    let node = tree.nodes[0];
    while (!("leaf" in node)) {
      const x = Math.fround(row[node.feature]);
      const goLeft = Number.isNaN(x) ? node.missingGoesLeft === true : x <= Math.fround(node.threshold);
      node = tree.nodes[goLeft ? node.left : node.right];
    }
    score += node.leaf * learningRate;
  }
  return score;
}

export function linearScore(weights: number[], bias: number, row: ArrayLike<number>): number {
  return weights.reduce((sum, w, i) => sum + w * row[i], bias);
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function row(inputs: Float32Array, features: number, r: number): Float32Array {
  return inputs.subarray(r * features, (r + 1) * features);
}

/** |actual − expected| within float32 rounding of a computation of this size. */
export function expectClose(actual: number, expected: number, what: string): void {
  const tolerance = 1e-5 * Math.max(1, Math.abs(expected));
  if (!(Math.abs(actual - expected) <= tolerance)) {
    expect.fail(`${what}: ONNX ${actual}, reference ${expected} (tolerance ${tolerance})`);
  }
}

/**
 * Checks a binary classifier's outputs against reference scores (log-odds):
 * probabilities [1 − p, p] and label = score > 0, except where the score is
 * too close to 0 for float32 to decide.
 */
export function expectBinaryClassifier(outputs: Record<string, OnnxOutput>, scores: number[]): void {
  const rows = scores.length;
  expect(outputs.label.dims).toEqual([rows]);
  expect(outputs.probabilities.dims).toEqual([rows, 2]);
  scores.forEach((score, r) => {
    const p = sigmoid(score);
    expectClose(Number(outputs.probabilities.data[2 * r + 1]), p, `row ${r} P(1)`);
    expectClose(Number(outputs.probabilities.data[2 * r]), 1 - p, `row ${r} P(0)`);
    if (Math.abs(score) > 1e-5) expect(Number(outputs.label.data[r]), `row ${r} label (score ${score})`).toBe(score > 0 ? 1 : 0);
  });
}
