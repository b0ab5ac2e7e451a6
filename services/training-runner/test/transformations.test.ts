// Training sees what serving feeds the model: a dataset's fitted
// transformations (an in-place standard scaler, a min-max scaler writing a new
// column) are applied to every split before training, evaluation and the ONNX
// check; new transformation outputs are features; external trainers get the
// transformed features in their CSV splits. Online Predict end to end is in
// services/online-serving/test/training-skew.test.ts.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobState } from "@fti/proto/fti/common/v1/types_pb";
import { GradientBoostedTrees_Objective as Objective } from "@fti/proto/fti/training/v1/training_pb";
import { predictWithOnnx } from "@fti/onnx";
import { withDuckDb } from "../src/dataset.js";
import { jobSpec, rpc, startTraining, syntheticDataset, trpc, type SyntheticDataset, type TrainingHarness } from "./harness.js";

let h: TrainingHarness;
let dataset: SyntheticDataset;
/** The label before noise, a function of the stored (raw) values. */
const truth = (x0: number, x1: number) => 3 * x0 - 2 * x1 + 5;

beforeAll(async () => {
  h = await startTraining();
  // x0..x2 uniform in [-1, 1]: the scaler's mean ≈ 0 but stddev ≈ 0.58, min-max maps [-1, 1] to [0, 1].
  dataset = await syntheticDataset(h, {
    project: "tf",
    rows: 3000,
    features: 3,
    labelType: "double",
    label: "3 * x0 - 2 * x1 + 5 + 0.05 * noise",
    transformations: [
      { feature: "x0", kind: { case: "standardScaler", value: {} } },
      { feature: "x1", output: "x1_mm", kind: { case: "minMaxScaler", value: {} } },
    ],
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

const submit = async (spec: Record<string, unknown>) => (await h.call(trpc.submitJob, { parent: "projects/tf", spec: jobSpec({ trainingDataset: dataset.name, label: "label", ...spec }) })).job!;

function fitted() {
  const scaler = dataset.fitted.find((f) => f.transformation!.feature === "x0")!.params;
  const minMax = dataset.fitted.find((f) => f.transformation!.feature === "x1")!.params;
  if (scaler.case !== "standardScaler" || minMax.case !== "minMaxScaler") throw new Error("unexpected fitted parameters");
  return { x0: (v: number) => (v - scaler.value.mean) / scaler.value.stddev, x1_mm: (v: number) => (v - minMax.value.min) / (minMax.value.max - minMax.value.min), stddev: scaler.value.stddev };
}

describe("fitted transformations in training", () => {
  it("trains on the transformed columns: the model applied to a hand-transformed row gives the label's function of the raw row", async () => {
    expect(Math.abs(fitted().stddev - 1)).toBeGreaterThan(0.3);
    const done = await h.waitForJob((await submit({ features: ["x0", "x1_mm"], linearRegression: {}, model: "projects/tf/models/linear" })).name);
    expect(done.failureReason).toBe("");
    expect(done.state).toBe(JobState.SUCCEEDED);
    expect(done.metrics.r2).toBeGreaterThan(0.99);
    const log = done.logLines.map((l) => l.text).join("\n");
    expect(log).toMatch(/applying the 2 fitted transformation\(s\) of .* \(to x0, x1_mm\)/);
    expect(log).toMatch(/ONNX check: onnxruntime matches the trainer/);

    const model = (await h.registry.call(rpc.getModel, { name: done.model })).model!;
    expect(model.inputs[0]!.features).toEqual(["x0", "x1_mm"]);
    const bytes = new Uint8Array(await readFile(fileURLToPath(model.artifactUri)));
    const t = fitted();
    for (const [x0, x1] of [[0.5, -0.25], [-0.8, 0.9]] as const) {
      const out = await predictWithOnnx(bytes, Float32Array.from([t.x0(x0), t.x1_mm(x1)]), 1, 2);
      expect((out.prediction!.data as Float32Array)[0]).toBeCloseTo(truth(x0, x1), 1);
    }
  }, 60_000);

  it("default features are the numeric columns after the transformations, new outputs included", async () => {
    const done = await h.waitForJob((await submit({ gbdt: { objective: Objective.REGRESSION, numTrees: 20, maxDepth: 3 }, model: "projects/tf/models/trees" })).name);
    expect(done.failureReason).toBe("");
    expect(done.state).toBe(JobState.SUCCEEDED);
    const model = (await h.registry.call(rpc.getModel, { name: done.model })).model!;
    expect(model.inputs[0]!.features).toEqual(["x0", "x1", "x2", "x1_mm"]);
  }, 60_000);

  it("names the columns after the transformations when a feature does not exist", async () => {
    const done = await h.waitForJob((await submit({ features: ["x0", "x9"], linearRegression: {}, model: "projects/tf/models/never" })).name);
    expect(done.state).toBe(JobState.FAILED);
    expect(done.failureReason).toMatch(/feature "x9" is not a column of .* after its transformations \(columns: .*x1_mm\)/);
  }, 30_000);

  it("gives external trainers transformed features in the CSV splits, and the fitted transformations as JSON", async () => {
    const done = await h.waitForJob(
      (await submit({ features: ["x0", "x1", "x1_mm"], model: "projects/tf/models/ext", external: { command: ["/bin/sh", "-c", 'head -n 2 "$FTI_SPLIT_TEST_CSV"; echo "fitted=$FTI_FITTED_TRANSFORMATIONS"'] } })).name,
    );
    expect(done.state).toBe(JobState.FAILED); // no model.onnx: we only look at the inputs
    const lines = done.logLines.map((l) => l.text);
    const header = lines.indexOf("label,x0,x1,x1_mm");
    expect(header, lines.join("\n")).toBeGreaterThanOrEqual(0);
    const [label, x0, x1, x1mm] = lines[header + 1]!.split(",").map(Number) as [number, number, number, number];
    // The stored first test row, transformed by hand.
    const raw = await withDuckDb(async (run) => {
      const test = fileURLToPath((await h.registry.call(rpc.getTrainingDataset, { name: dataset.name })).trainingDataset!.splits.find((s) => s.name === "test")!.files[0]!);
      return run(`SELECT label, x0, x1 FROM read_parquet('${test}') LIMIT 1`);
    });
    const t = fitted();
    expect(label).toBeCloseTo(raw.label![0] as number, 10);
    expect(x0).toBeCloseTo(t.x0(raw.x0![0] as number), 10);
    expect(x1).toBeCloseTo(raw.x1![0] as number, 10); // untransformed: x1_mm is a new column
    expect(x1mm).toBeCloseTo(t.x1_mm(raw.x1![0] as number), 10);
    expect(lines.find((l) => l.startsWith("fitted="))).toMatch(/standardScaler/);
  }, 30_000);
});
