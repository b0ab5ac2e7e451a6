// Our models pass the ONNX project's own checker (Debian python3-onnx, full
// check with shape inference), so other ONNX tooling reads them too
// (scripts/setup.sh installs python3-onnx).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TensorProto_DataType } from "@fti/proto/onnx/onnx_pb";
import { node, tensorValue } from "../src/graph.js";
import { linearRegressionModel, logisticRegressionModel, treeEnsembleModel } from "../src/index.js";
import { modelBytes } from "../src/model.js";
import { random, randomTree } from "./helpers.js";

const python = "/usr/bin/python3";

const check = `
import sys, onnx
for path in sys.argv[1:]:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    print(path, [o.name for o in model.graph.output], model.metadata_props[0].key if model.metadata_props else "")
`;

describe("python3-onnx reads our models", () => {
  const dir = mkdtempSync(join(tmpdir(), "fti-onnx-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("passes onnx.checker.check_model(full_check=True) for every model kind", () => {
    const rand = random(41);
    const trees = Array.from({ length: 5 }, () => randomTree(rand, 3, 4));
    const options = { featureNames: ["a", "b", "c", "d"], modelVersion: 2, properties: { training_dataset: "td" } };
    const models = {
      linear: linearRegressionModel({ weights: [1, 2, 3, 4], bias: 0.5, ...options }),
      logistic: logisticRegressionModel({ weights: [1, 2, 3, 4], bias: 0.5, ...options }),
      treeRegressor: treeEnsembleModel({ kind: "regressor", trees, features: 4, baseScore: 0, ...options }),
      treeClassifier: treeEnsembleModel({ kind: "classifier", trees, features: 4, baseScore: 0.2, learningRate: 0.1, ...options }),
    };
    const paths = Object.entries(models).map(([name, bytes]) => {
      const path = join(dir, `${name}.onnx`);
      writeFileSync(path, bytes);
      return path;
    });
    const printed = execFileSync(python, ["-c", check, ...paths], { encoding: "utf8" }).trim().split("\n");
    expect(printed).toEqual([
      `${paths[0]} ['prediction'] feature_names`,
      `${paths[1]} ['label', 'probabilities'] feature_names`,
      `${paths[2]} ['prediction'] feature_names`,
      `${paths[3]} ['label', 'probabilities'] feature_names`,
    ]);
  });

  it("fails the checker on a graph that reads an undefined value, so the check above can fail", () => {
    const bytes = modelBytes(
      {
        name: "broken",
        inputs: [tensorValue("x", TensorProto_DataType.FLOAT, ["N", 1])],
        nodes: [node("MatMul", ["x", "undefined_weights"], ["y"])],
        initializers: [],
        outputs: [tensorValue("y", TensorProto_DataType.FLOAT, ["N", 1])],
      },
      {},
    );
    const path = join(dir, "broken.onnx");
    writeFileSync(path, bytes);
    const result = spawnSync(python, ["-c", check, path], { encoding: "utf8" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/undefined_weights/);
  });
});
