#!/usr/bin/env python3
"""An external trainer for the FTI training runner: scikit-learn logistic
regression, exported to ONNX with onnx.helper (skl2onnx is not in Debian).

The runner starts it with the environment documented on ExternalTrainer in
proto/fti/training/v1/training.proto. It reads FTI_SPLIT_TRAIN_CSV (the train
split as CSV: Debian has no Parquet reader for Python), fits the model, and
writes FTI_OUTPUT_DIR/model.onnx with the runner's conventions: one float input
"features" [N, F] in FTI_FEATURES order, outputs "label" int64 [N] and
"probabilities" float [N, 2]. The runner then evaluates the file itself.

Needs Debian's python3-sklearn and python3-onnx.
"""
import csv
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.linear_model import LogisticRegression


def read_csv(path, label, features):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    to_float = lambda v: 1.0 if v == "true" else 0.0 if v == "false" else float(v) if v != "" else float("nan")
    x = np.array([[to_float(r[c]) for c in features] for r in rows], dtype=np.float32)
    y = np.array([to_float(r[label]) for r in rows], dtype=np.int64)
    return x, y


def logistic_onnx(weights, bias, features):
    """margin = X·w + b; probabilities = [1 − σ(margin), σ(margin)]; label = margin > 0."""
    n = len(features)
    nodes = [
        helper.make_node("MatMul", ["features", "w"], ["margin_raw"]),
        helper.make_node("Add", ["margin_raw", "b"], ["margin"]),  # [N, 1]
        helper.make_node("Sigmoid", ["margin"], ["p"]),
        helper.make_node("Sub", ["one", "p"], ["q"]),
        helper.make_node("Concat", ["q", "p"], ["probabilities"], axis=1),
        helper.make_node("Greater", ["margin", "zero"], ["positive"]),
        helper.make_node("Cast", ["positive"], ["label_2d"], to=TensorProto.INT64),
        helper.make_node("Squeeze", ["label_2d", "axis1"], ["label"]),
    ]
    initializers = [
        numpy_helper.from_array(np.asarray(weights, dtype=np.float32).reshape(n, 1), "w"),
        numpy_helper.from_array(np.asarray([bias], dtype=np.float32), "b"),
        numpy_helper.from_array(np.asarray([1.0], dtype=np.float32), "one"),
        numpy_helper.from_array(np.asarray([0.0], dtype=np.float32), "zero"),
        numpy_helper.from_array(np.asarray([1], dtype=np.int64), "axis1"),
    ]
    graph = helper.make_graph(
        nodes,
        "sklearn_logistic_regression",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", n])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2]),
        ],
        initializers,
    )
    model = helper.make_model(graph, producer_name="fti-example-sklearn", opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {"feature_names": json.dumps(features)})
    onnx.checker.check_model(model)
    return model


def main():
    label = os.environ["FTI_LABEL"]
    features = os.environ["FTI_FEATURES"].split(",")
    params = json.loads(os.environ.get("FTI_PARAMETERS") or "{}")
    out = os.environ["FTI_OUTPUT_DIR"]
    x, y = read_csv(os.environ["FTI_SPLIT_TRAIN_CSV"], label, features)
    print(f"training on {len(y)} rows, {len(features)} features", flush=True)
    clf = LogisticRegression(C=float(params.get("C", 1.0)), max_iter=int(params.get("max_iter", 200)))
    clf.fit(x, y)
    model = logistic_onnx(clf.coef_[0], float(clf.intercept_[0]), features)
    onnx.save(model, os.path.join(out, "model.onnx"))
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump({"train_accuracy": float(clf.score(x, y))}, f)
    print("wrote model.onnx", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
