// Turns a binary classifier's raw score (the log-odds "margin", [N, 1]) into
// the two outputs sklearn-onnx classifiers have: label (int64 [N]) and
// probabilities (float [N, 2], columns = class 0, class 1).
//
// Written with standard operators rather than TreeEnsembleClassifier's
// post_transform: in the binary case, when every leaf weight is >= 0 (a boosted
// ensemble can produce that), onnxruntime picks the label by score > 0.5
// instead of score > 0, so a row with probability 0.57 gets label 0 (checked
// against onnxruntime 1.30). Sigmoid on an explicit margin has no such case.
import { TensorProto_DataType, type NodeProto, type TensorProto } from "@fti/proto/onnx/onnx_pb";
import { BATCH_DIMENSION, floatTensor, int64Tensor, intAttribute, node, tensorValue } from "./graph.js";

export const LABEL_OUTPUT = "label";
export const PROBABILITIES_OUTPUT = "probabilities";

export interface BinaryClassifierHead {
  nodes: NodeProto[];
  initializers: TensorProto[];
  outputs: ReturnType<typeof tensorValue>[];
}

/** Nodes that read the value named `margin` ([N, 1] float) and write label and probabilities. */
export function binaryClassifierHead(margin: string): BinaryClassifierHead {
  return {
    nodes: [
      node("Sigmoid", [margin], ["fti/positive_probability"]),
      node("Sub", ["fti/head_one", "fti/positive_probability"], ["fti/negative_probability"]),
      node("Concat", ["fti/negative_probability", "fti/positive_probability"], [PROBABILITIES_OUTPUT], [intAttribute("axis", 1)]),
      // margin > 0 is probability > 0.5, decided on the exact score rather than a rounded sigmoid.
      node("Greater", [margin, "fti/head_zero"], ["fti/is_positive"]),
      node("Cast", ["fti/is_positive"], ["fti/label_column"], [intAttribute("to", TensorProto_DataType.INT64)]),
      node("Squeeze", ["fti/label_column", "fti/head_axis_1"], [LABEL_OUTPUT]),
    ],
    initializers: [
      floatTensor("fti/head_one", [], [1]),
      floatTensor("fti/head_zero", [], [0]),
      int64Tensor("fti/head_axis_1", [1], [1]),
    ],
    outputs: [
      tensorValue(LABEL_OUTPUT, TensorProto_DataType.INT64, [BATCH_DIMENSION]),
      tensorValue(PROBABILITIES_OUTPUT, TensorProto_DataType.FLOAT, [BATCH_DIMENSION, 2]),
    ],
  };
}
