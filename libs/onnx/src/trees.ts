// Tree ensembles (gradient-boosted trees) as the ai.onnx.ml TreeEnsembleRegressor:
// score = baseScore + learningRate × Σ leaf value of each tree, then, for a
// classifier, the binary classifier head (sigmoid, label, probabilities).
import type { FieldViolation } from "@fti/errors";
import { TensorProto_DataType } from "@fti/proto/onnx/onnx_pb";
import { binaryClassifierHead, LABEL_OUTPUT, PROBABILITIES_OUTPUT } from "./binary-classifier-head.js";
import {
  BATCH_DIMENSION,
  floatsAttribute,
  intAttribute,
  intsAttribute,
  ML_DOMAIN,
  node,
  stringAttribute,
  stringsAttribute,
  tensorValue,
} from "./graph.js";
import { DEFAULT_INPUT_NAME, INTERNAL_NAME_PREFIX, PREDICTION_OUTPUT, modelBytes, modelOptionViolations, throwIfInvalid, type ModelOptions } from "./model.js";

/**
 * An inner node: rows with x[feature] <= threshold go to `left`, the others
 * (and NaN, unless missingGoesLeft) to `right`. The comparison is made in
 * float32: x and threshold are both rounded to float32 first.
 */
export interface SplitNode {
  feature: number;
  threshold: number;
  /** Index in the tree's nodes of the child for x <= threshold. */
  left: number;
  /** Index in the tree's nodes of the child for x > threshold. */
  right: number;
  /** Send NaN (missing) values left. Default false: they go right. */
  missingGoesLeft?: boolean;
}

/** A leaf: the tree's contribution to the score (before the learning rate). */
export interface LeafNode {
  leaf: number;
}

export type TreeNode = SplitNode | LeafNode;

/** One tree; nodes[0] is the root and every other node is the child of exactly one node. */
export interface Tree {
  nodes: TreeNode[];
}

export interface TreeEnsembleOptions extends ModelOptions {
  trees: Tree[];
  /** "classifier": binary, label + probabilities through a sigmoid; "regressor": the score itself. */
  kind: "classifier" | "regressor";
  /** Number of input columns (F in the input shape [N, F]). */
  features: number;
  /** Added to the sum of the trees (the initial prediction; log-odds for a classifier). */
  baseScore: number;
  /** Multiplies every leaf value. Default 1. */
  learningRate?: number;
  /** Regressor only: name of the output [N, 1]. Default "prediction". */
  outputName?: string;
}

const MARGIN = `${INTERNAL_NAME_PREFIX}margin`;

/**
 * Regressor: input float [N, F] → `prediction` (or outputName) float [N, 1].
 * Classifier: input float [N, F] → `label` int64 [N] (1 when the score > 0) and
 * `probabilities` float [N, 2] = [1 − p, p] with p = sigmoid(score).
 */
export function treeEnsembleModel(options: TreeEnsembleOptions): Uint8Array {
  const outputNames = options.kind === "regressor" ? [options.outputName ?? PREDICTION_OUTPUT] : [LABEL_OUTPUT, PROBABILITIES_OUTPUT];
  throwIfInvalid(treeEnsembleViolations(options, outputNames));
  const input = options.inputName ?? DEFAULT_INPUT_NAME;
  const scoreName = options.kind === "regressor" ? outputNames[0] : MARGIN;
  const ensemble = node("TreeEnsembleRegressor", [input], [scoreName], treeEnsembleAttributes(options), ML_DOMAIN);
  const inputs = [tensorValue(input, TensorProto_DataType.FLOAT, [BATCH_DIMENSION, options.features])];
  if (options.kind === "regressor") {
    return modelBytes(
      {
        name: "tree_ensemble_regressor",
        inputs,
        nodes: [ensemble],
        initializers: [],
        outputs: [tensorValue(scoreName, TensorProto_DataType.FLOAT, [BATCH_DIMENSION, 1])],
      },
      options,
    );
  }
  const head = binaryClassifierHead(MARGIN);
  return modelBytes(
    { name: "tree_ensemble_classifier", inputs, nodes: [ensemble, ...head.nodes], initializers: head.initializers, outputs: head.outputs },
    options,
  );
}

/** The TreeEnsembleRegressor attributes: one entry per node in nodes_*, one per leaf in target_*. */
function treeEnsembleAttributes(options: TreeEnsembleOptions) {
  const learningRate = options.learningRate ?? 1;
  const n = {
    treeIds: [] as number[],
    nodeIds: [] as number[],
    featureIds: [] as number[],
    modes: [] as string[],
    values: [] as number[],
    trueIds: [] as number[],
    falseIds: [] as number[],
    missingTrue: [] as number[],
  };
  const t = { treeIds: [] as number[], nodeIds: [] as number[], weights: [] as number[] };
  options.trees.forEach((tree, treeId) => {
    tree.nodes.forEach((treeNode, nodeId) => {
      n.treeIds.push(treeId);
      n.nodeIds.push(nodeId);
      if ("leaf" in treeNode) {
        n.modes.push("LEAF");
        n.featureIds.push(0);
        n.values.push(0);
        n.trueIds.push(0);
        n.falseIds.push(0);
        n.missingTrue.push(0);
        t.treeIds.push(treeId);
        t.nodeIds.push(nodeId);
        t.weights.push(treeNode.leaf * learningRate);
      } else {
        n.modes.push("BRANCH_LEQ");
        n.featureIds.push(treeNode.feature);
        n.values.push(treeNode.threshold);
        n.trueIds.push(treeNode.left);
        n.falseIds.push(treeNode.right);
        n.missingTrue.push(treeNode.missingGoesLeft ? 1 : 0);
      }
    });
  });
  return [
    intAttribute("n_targets", 1),
    stringAttribute("aggregate_function", "SUM"),
    stringAttribute("post_transform", "NONE"),
    floatsAttribute("base_values", [options.baseScore]),
    intsAttribute("nodes_treeids", n.treeIds),
    intsAttribute("nodes_nodeids", n.nodeIds),
    intsAttribute("nodes_featureids", n.featureIds),
    stringsAttribute("nodes_modes", n.modes),
    floatsAttribute("nodes_values", n.values),
    intsAttribute("nodes_truenodeids", n.trueIds),
    intsAttribute("nodes_falsenodeids", n.falseIds),
    intsAttribute("nodes_missing_value_tracks_true", n.missingTrue),
    intsAttribute("target_treeids", t.treeIds),
    intsAttribute("target_nodeids", t.nodeIds),
    intsAttribute("target_ids", t.treeIds.map(() => 0)),
    floatsAttribute("target_weights", t.weights),
  ];
}

function treeEnsembleViolations(options: TreeEnsembleOptions, outputNames: string[]): FieldViolation[] {
  const violations = modelOptionViolations(options, options.features, outputNames);
  if (options.kind !== "classifier" && options.kind !== "regressor") {
    violations.push({ field: "kind", description: `must be "classifier" or "regressor", got "${String(options.kind)}"` });
  }
  if (options.kind === "regressor" && (outputNames[0] === "" || outputNames[0].startsWith(INTERNAL_NAME_PREFIX))) {
    violations.push({ field: "outputName", description: `must be non-empty and not start with "${INTERNAL_NAME_PREFIX}"` });
  }
  if (!(Number.isSafeInteger(options.features) && options.features >= 1)) {
    violations.push({ field: "features", description: `must be a positive integer, got ${options.features}` });
  }
  if (!Number.isFinite(options.baseScore)) {
    violations.push({ field: "baseScore", description: `must be a finite number, got ${options.baseScore}` });
  }
  const learningRate = options.learningRate ?? 1;
  if (!(Number.isFinite(learningRate) && learningRate > 0)) {
    violations.push({ field: "learningRate", description: `must be a finite number > 0, got ${learningRate}` });
  }
  if (options.trees.length === 0) violations.push({ field: "trees", description: "must hold at least one tree" });
  options.trees.forEach((tree, i) => violations.push(...treeViolations(tree, `trees[${i}]`, options.features)));
  return violations;
}

/** A tree is valid when every node is well-formed and reachable from the root through exactly one parent. */
function treeViolations(tree: Tree, field: string, features: number): FieldViolation[] {
  const violations: FieldViolation[] = [];
  const count = tree.nodes.length;
  if (count === 0) return [{ field: `${field}.nodes`, description: "must hold at least one node (the root)" }];
  const parents = new Array<number>(count).fill(0);
  tree.nodes.forEach((treeNode, i) => {
    const at = `${field}.nodes[${i}]`;
    if ("leaf" in treeNode) {
      if (!Number.isFinite(treeNode.leaf)) violations.push({ field: `${at}.leaf`, description: `must be a finite number, got ${treeNode.leaf}` });
      return;
    }
    if (!(Number.isSafeInteger(treeNode.feature) && treeNode.feature >= 0 && treeNode.feature < features)) {
      violations.push({ field: `${at}.feature`, description: `must be a feature index in [0, ${features}), got ${treeNode.feature}` });
    }
    if (!Number.isFinite(treeNode.threshold)) {
      violations.push({ field: `${at}.threshold`, description: `must be a finite number, got ${treeNode.threshold}` });
    }
    for (const side of ["left", "right"] as const) {
      const child = treeNode[side];
      if (Number.isSafeInteger(child) && child > 0 && child < count) parents[child] += 1;
      else violations.push({ field: `${at}.${side}`, description: `must be the index of a non-root node in [1, ${count}), got ${child}` });
    }
  });
  parents.forEach((p, i) => {
    if (i > 0 && p !== 1) {
      violations.push({ field: `${field}.nodes[${i}]`, description: `must be the child of exactly one node, is the child of ${p}` });
    }
  });
  // With one parent each, a node unreachable from the root sits on a cycle.
  if (violations.length === 0) {
    const reached = new Set<number>();
    const stack = [0];
    while (stack.length > 0) {
      const i = stack.pop()!;
      reached.add(i);
      const treeNode = tree.nodes[i];
      if (!("leaf" in treeNode)) stack.push(treeNode.left, treeNode.right);
    }
    if (reached.size !== count) {
      violations.push({ field: `${field}.nodes`, description: `${count - reached.size} nodes are not reachable from the root (a cycle)` });
    }
  }
  return violations;
}
