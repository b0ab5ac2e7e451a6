// Linear and logistic regression as standard operators: margin = X · w + b
// (MatMul + Add), then, for classification, the binary classifier head.
import type { FieldViolation } from "@fti/errors";
import { TensorProto_DataType } from "@fti/proto/onnx/onnx_pb";
import { binaryClassifierHead, LABEL_OUTPUT, PROBABILITIES_OUTPUT } from "./binary-classifier-head.js";
import { BATCH_DIMENSION, floatTensor, node, tensorValue } from "./graph.js";
import { DEFAULT_INPUT_NAME, INTERNAL_NAME_PREFIX, PREDICTION_OUTPUT, modelBytes, modelOptionViolations, throwIfInvalid, type Graph, type ModelOptions } from "./model.js";

export interface LinearModelOptions extends ModelOptions {
  /** One coefficient per input feature, in input column order. */
  weights: number[];
  /** Intercept. */
  bias: number;
}

export interface LinearRegressionOptions extends LinearModelOptions {
  /** Name of the output [N, 1]. Default "prediction". */
  outputName?: string;
}

/** Input float [N, F] → `prediction` (or outputName) float [N, 1] = X · weights + bias. */
export function linearRegressionModel(options: LinearRegressionOptions): Uint8Array {
  const output = options.outputName ?? PREDICTION_OUTPUT;
  const violations = linearViolations(options, [output]);
  if (output === "" || output.startsWith(INTERNAL_NAME_PREFIX)) {
    violations.push({ field: "outputName", description: `must be non-empty and not start with "${INTERNAL_NAME_PREFIX}"` });
  }
  throwIfInvalid(violations);
  const linear = linearMargin(options, output);
  return modelBytes(
    { ...linear, name: "linear_regression", outputs: [tensorValue(output, TensorProto_DataType.FLOAT, [BATCH_DIMENSION, 1])] },
    options,
  );
}

/**
 * Input float [N, F] → `label` int64 [N] (1 when X · weights + bias > 0) and
 * `probabilities` float [N, 2] = [1 − p, p] with p = sigmoid(X · weights + bias).
 */
export function logisticRegressionModel(options: LinearModelOptions): Uint8Array {
  throwIfInvalid(linearViolations(options, [LABEL_OUTPUT, PROBABILITIES_OUTPUT]));
  const linear = linearMargin(options, "fti/margin");
  const head = binaryClassifierHead("fti/margin");
  return modelBytes(
    {
      name: "logistic_regression",
      inputs: linear.inputs,
      nodes: [...linear.nodes, ...head.nodes],
      initializers: [...linear.initializers, ...head.initializers],
      outputs: head.outputs,
    },
    options,
  );
}

/** The graph computing `output` = X · weights + bias as [N, 1]; outputs are left to the caller. */
function linearMargin(options: LinearModelOptions, output: string): Omit<Graph, "name" | "outputs"> {
  const input = options.inputName ?? DEFAULT_INPUT_NAME;
  const features = options.weights.length;
  return {
    inputs: [tensorValue(input, TensorProto_DataType.FLOAT, [BATCH_DIMENSION, features])],
    initializers: [floatTensor("fti/weights", [features, 1], options.weights), floatTensor("fti/bias", [1], [options.bias])],
    nodes: [node("MatMul", [input, "fti/weights"], ["fti/weighted"]), node("Add", ["fti/weighted", "fti/bias"], [output])],
  };
}

function linearViolations(options: LinearModelOptions, outputNames: string[]): FieldViolation[] {
  const violations = modelOptionViolations(options, options.weights.length, outputNames);
  if (options.weights.length === 0) violations.push({ field: "weights", description: "must have one weight per feature, got none" });
  options.weights.forEach((w, i) => {
    if (!Number.isFinite(w)) violations.push({ field: `weights[${i}]`, description: `must be a finite number, got ${w}` });
  });
  if (!Number.isFinite(options.bias)) violations.push({ field: "bias", description: `must be a finite number, got ${options.bias}` });
  return violations;
}
