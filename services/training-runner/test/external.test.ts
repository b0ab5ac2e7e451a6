// External trainers as local processes: the example Python trainer
// (scikit-learn + onnx from Debian) end to end, and the failures a user sees
// when a command exits non-zero or leaves no model.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { JobState } from "@fti/proto/fti/common/v1/types_pb";
import { statusOf } from "../../registry/test/harness.js";
import { jobSpec, rpc, startTraining, syntheticDataset, trpc, type SyntheticDataset, type TrainingHarness } from "./harness.js";

const python = "/usr/bin/python3";
const example = fileURLToPath(new URL("../../../examples/trainers/python/train_logreg.py", import.meta.url));
// The example needs Debian's python3-sklearn and python3-onnx (scripts/setup.sh installs them).

let h: TrainingHarness;
let dataset: SyntheticDataset;

beforeAll(async () => {
  h = await startTraining();
  dataset = await syntheticDataset(h, { project: "ext", rows: 3000, features: 3, labelType: "bool", label: "x0 - 2 * x1 + 0.3 * noise" });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

const submit = async (spec: Record<string, unknown>) => (await h.call(trpc.submitJob, { parent: "projects/ext", spec: jobSpec({ trainingDataset: dataset.name, label: "label", model: "projects/ext/models/py", ...spec }) })).job!;

describe("external trainer", () => {
  it("runs the example Python trainer, evaluates its model.onnx and registers it", async () => {
    const done = await h.waitForJob((await submit({ external: { command: [python, example], parameters: { C: 10 } } })).name, 120_000);
    expect(done.failureReason).toBe("");
    expect(done.state).toBe(JobState.SUCCEEDED);
    expect(done.metrics.auc).toBeGreaterThan(0.95);
    expect(done.metrics.trainer_train_accuracy).toBeGreaterThan(0.85);
    const log = done.logLines.map((l) => l.text).join("\n");
    expect(log).toMatch(/training on \d+ rows, 3 features/);
    const model = (await h.registry.call(rpc.getModel, { name: done.model })).model!;
    expect(model.tags.algorithm).toBe("external");
    expect(model.inputs[0]!.features).toEqual(["x0", "x1", "x2"]);
  }, 150_000);

  it("fails the job with the exit code and last output when the command fails; nothing is registered", async () => {
    const done = await h.waitForJob((await submit({ model: "projects/ext/models/broken", external: { command: ["/bin/sh", "-c", "echo cannot converge >&2; exit 3"] } })).name);
    expect(done.state).toBe(JobState.FAILED);
    expect(done.failureReason).toMatch(/exited with code 3.*cannot converge/);
    expect((await statusOf(h.registry.call(rpc.getModel, { name: "projects/ext/models/broken/versions/1" }))).code).toBe(grpc.status.NOT_FOUND);
  }, 30_000);

  it("fails the job when the command leaves no model.onnx, and passes the documented environment", async () => {
    const done = await h.waitForJob((await submit({ model: "projects/ext/models/empty", external: { command: ["/bin/sh", "-c", 'echo "label=$FTI_LABEL features=$FTI_FEATURES train=$FTI_SPLIT_TRAIN test_csv=$FTI_SPLIT_TEST_CSV db=${FTI_DATABASE_URL:-unset}"'] } })).name);
    expect(done.state).toBe(JobState.FAILED);
    expect(done.failureReason).toMatch(/left no model\.onnx/);
    const log = done.logLines.map((l) => l.text).join("\n");
    expect(log).toMatch(/label=label features=x0,x1,x2 train=file:\/\/.*\.parquet test_csv=.*test\.csv db=unset/);
  }, 30_000);

  it("fails the job when the model's input does not match the features", async () => {
    // A valid ONNX model (from the example) trained on 2 features while the job has 3.
    const done = await h.waitForJob(
      (await submit({ model: "projects/ext/models/mismatch", features: ["x0", "x1", "x2"], external: { command: ["/bin/sh", "-c", `FTI_FEATURES=x0,x1 exec ${python} ${example}`] } })).name,
      120_000,
    );
    expect(done.state).toBe(JobState.FAILED);
    expect(done.failureReason).toMatch(/built for the features \[x0, x1\]|must be FLOAT \[N, 3\]/);
  }, 150_000);
});
