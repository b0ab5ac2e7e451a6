// ONNX models written by our own code (linear, logistic, gradient-boosted
// trees), read back (describeModel) and run (predictWithOnnx, loadOnnxModel).
export { linearRegressionModel, logisticRegressionModel, type LinearModelOptions, type LinearRegressionOptions } from "./linear.js";
export { treeEnsembleModel, type LeafNode, type SplitNode, type Tree, type TreeEnsembleOptions, type TreeNode } from "./trees.js";
export { LABEL_OUTPUT, PROBABILITIES_OUTPUT } from "./binary-classifier-head.js";
export {
  DEFAULT_INPUT_NAME,
  FEATURE_NAMES_KEY,
  IR_VERSION,
  ML_OPSET_VERSION,
  OPSET_VERSION,
  PREDICTION_OUTPUT,
  PRODUCER_NAME,
  type ModelOptions,
} from "./model.js";
export { BATCH_DIMENSION } from "./graph.js";
export { describeModel, type ModelDescription, type ValueDescription } from "./describe.js";
export { loadOnnxModel, predictWithOnnx, type OnnxOutput } from "./predict.js";
