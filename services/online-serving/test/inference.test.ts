// The Open Inference Protocol (inference.GRPCInferenceService) on registered
// ONNX models: from grpc-js and from a Python grpcio client written from the
// spec; metadata from the graph, typed and raw tensors, bad input, a corrupt
// model.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { logisticRegressionModel } from "@fti/onnx";
import { TensorDataType } from "@fti/proto/fti/registry/v1/model_pb";
import { createReadyDataset, oip, registerModel, startServing, statusOf, type ServingHarness } from "./harness.js";
import { createShop, project, viewColumns } from "./shop.js";

const run = promisify(execFile);
const python = process.env.FTI_TEST_PYTHON ?? "/usr/bin/python3";
const root = fileURLToPath(new URL("../../../", import.meta.url));
const weights = [0.5, -1, 2];
const bias = 0.25;
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const rows = [[1, 2, 3], [-1, 0.5, 0]];
const expectedP = rows.map((r) => sigmoid(r.reduce((s, x, i) => s + x * weights[i]!, bias)));

let h: ServingHarness;
const model = `projects/${project}/models/scorer`;

beforeAll(async () => {
  h = await startServing();
  const shop = await createShop(h);
  const dataset = await createReadyDataset(h, shop.view.name, { age: [30, 40], income: [1, 2], segment_id: [7n, 9n], act_clicks_7d: [1, 2], act_spend_30d: [10, 30], seg_risk: [0.1, 0.2], amount_ratio: [0.1, 0.2], amount: [1, 2] }, viewColumns);
  const spec = { trainingDataset: dataset.name, inputs: [{ name: "features", dataType: TensorDataType.FLOAT, shape: [-1n, 3n] }], outputs: [] };
  await registerModel(h, project, "scorer", logisticRegressionModel({ weights, bias }), spec);
  const good = logisticRegressionModel({ weights: [1, 1, 1], bias: 0 });
  await registerModel(h, project, "broken", good.slice(0, 40), spec);
});
afterAll(async () => h?.close());

const infer = (request: Record<string, unknown>) => h.call(oip.modelInfer, { modelName: model, ...request });

describe("Open Inference Protocol (grpc-js)", () => {
  it("describes a model from its ONNX inputs and outputs", async () => {
    const m = await h.call(oip.modelMetadata, { name: model, version: "1" });
    expect(m).toMatchObject({ name: model, versions: ["1"], platform: "onnxruntime_onnx" });
    expect(m.inputs.map(({ name, datatype, shape }) => ({ name, datatype, shape }))).toEqual([{ name: "features", datatype: "FP32", shape: [-1n, 3n] }]);
    expect(m.outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape }))).toEqual([
      { name: "label", datatype: "INT64", shape: [-1n] },
      { name: "probabilities", datatype: "FP32", shape: [-1n, 2n] },
    ]);
    expect((await h.call(oip.modelReady, { name: model })).ready).toBe(true);
    expect((await h.call(oip.serverLive, {})).live).toBe(true);
    expect((await h.call(oip.serverReady, {})).ready).toBe(true);
  });

  it("infers with typed contents and with raw bytes, giving the same numbers", async () => {
    const typed = await infer({ id: "t", inputs: [{ name: "features", datatype: "FP32", shape: [2n, 3n], contents: { fp32Contents: rows.flat() } }] });
    expect(typed).toMatchObject({ id: "t", modelVersion: "1" });
    const probabilities = typed.outputs.find((o) => o.name === "probabilities")!;
    expect(probabilities.shape).toEqual([2n, 2n]);
    expect(probabilities.contents!.fp32Contents.filter((_, i) => i % 2 === 1)).toEqual(expectedP.map((p) => expect.closeTo(p, 5)));
    expect(typed.outputs.find((o) => o.name === "label")!.contents!.int64Contents).toEqual(expectedP.map((p) => (p > 0.5 ? 1n : 0n)));

    const raw = await infer({ inputs: [{ name: "features", datatype: "FP32", shape: [2n, 3n] }], rawInputContents: [new Uint8Array(Float32Array.from(rows.flat()).buffer)], outputs: [{ name: "probabilities" }] });
    expect(raw.outputs.map((o) => o.name)).toEqual(["probabilities"]);
    expect(raw.outputs[0]!.contents).toBeUndefined();
    const bytes = raw.rawOutputContents[0]!;
    expect(Array.from(new Float32Array(new Uint8Array(bytes).buffer))).toEqual(probabilities.contents!.fp32Contents);
  });

  it("names wrong datatypes, shapes, counts, inputs and outputs as INVALID_ARGUMENT", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ inputs: [{ name: "features", datatype: "FP64", shape: [1n, 3n], contents: { fp64Contents: [1, 2, 3] } }] }, "inputs[0].datatype"],
      [{ inputs: [{ name: "features", datatype: "FP32", shape: [1n, 4n], contents: { fp32Contents: [1, 2, 3, 4] } }] }, "inputs[0].shape"],
      [{ inputs: [{ name: "features", datatype: "FP32", shape: [2n, 3n], contents: { fp32Contents: [1, 2, 3] } }] }, "inputs[0].contents.fp32_contents"],
      [{ inputs: [{ name: "x", datatype: "FP32", shape: [1n, 3n], contents: { fp32Contents: [1, 2, 3] } }] }, "inputs[0].name"],
      [{ inputs: [] }, 'input "features"'],
      [{ inputs: [{ name: "features", datatype: "FP32", shape: [1n, 3n] }], rawInputContents: [new Uint8Array(10)] }, "raw_input_contents[0]"],
      [{ inputs: [{ name: "features", datatype: "FP32", shape: [1n, 3n], contents: { fp32Contents: [1, 2, 3] } }], outputs: [{ name: "nope" }] }, "outputs[0].name"],
    ];
    for (const [request, field] of cases) {
      const s = await statusOf(infer(request));
      expect(s.code, field).toBe(status.INVALID_ARGUMENT);
      expect(s.details).toContain(field);
    }
  });

  it("is NOT_FOUND for an unknown model or version, and not ready for a corrupt one", async () => {
    expect((await statusOf(h.call(oip.modelMetadata, { name: `projects/${project}/models/nope` }))).code).toBe(status.NOT_FOUND);
    expect((await statusOf(h.call(oip.modelMetadata, { name: model, version: "9" }))).code).toBe(status.NOT_FOUND);
    expect((await h.call(oip.modelReady, { name: `projects/${project}/models/broken` })).ready).toBe(false);
    const s = await statusOf(h.call(oip.modelInfer, { modelName: `projects/${project}/models/broken`, inputs: [] }));
    expect(s.code).toBe(status.FAILED_PRECONDITION);
    expect(s.details).toContain("not a loadable ONNX model");
  });
});

describe("Open Inference Protocol from Python grpcio", () => {
  let stubs: string;
  beforeAll(async () => {
    stubs = await mkdtemp(join(tmpdir(), "fti-oip-py-"));
    await run(python, ["-m", "grpc_tools.protoc", "-I", join(root, "proto"), `--python_out=${stubs}`, `--grpc_python_out=${stubs}`, "inference/grpc_predict_v2.proto"], { cwd: root });
  });
  afterAll(async () => {
    if (stubs) await rm(stubs, { recursive: true, force: true });
  });

  it("calls every endpoint of a model written from the spec", async () => {
    const script = fileURLToPath(new URL("./python/oip_client.py", import.meta.url));
    const { stdout } = await run(python, [script, stubs, h.server.grpcAddress, model, "1"], { timeout: 30_000 });
    const out = JSON.parse(stdout.trim());
    expect(out).toMatchObject({ live: true, ready: true, model_ready: true, server: { name: "fti-online-serving" }, unknown: "NOT_FOUND" });
    expect(out.metadata).toEqual({
      name: model,
      versions: ["1"],
      platform: "onnxruntime_onnx",
      inputs: [{ name: "features", datatype: "FP32", shape: [-1, 3] }],
      outputs: [{ name: "label", datatype: "INT64", shape: [-1] }, { name: "probabilities", datatype: "FP32", shape: [-1, 2] }],
    });
    expect(out.typed.id).toBe("py-typed");
    expect(out.typed.outputs).toHaveLength(1);
    expect(out.typed.outputs[0].shape).toEqual([2, 2]);
    expect(out.typed.outputs[0].fp32.filter((_: number, i: number) => i % 2 === 1)).toEqual(expectedP.map((p) => expect.closeTo(p, 5)));
    expect(out.raw.probabilities.values.filter((_: number, i: number) => i % 2 === 1)).toEqual(expectedP.map((p) => expect.closeTo(p, 5)));
    expect(out.raw.label).toEqual({ datatype: "INT64", shape: [2], values: expectedP.map((p) => (p > 0.5 ? 1 : 0)) });
    expect(out.bad_shape.code).toBe("INVALID_ARGUMENT");
    expect(out.bad_shape.details).toContain("inputs[0].shape");
  });
});
