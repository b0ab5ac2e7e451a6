// Built-in trainers end to end against a real registry, Postgres, NATS,
// DuckDB and onnxruntime: each learns a synthetic problem with a known
// signal, its ONNX export matches the trainer, and the model version is
// registered with its artifact, checksum, signature, metrics and lineage.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { fromBinary } from "@bufbuild/protobuf";
import { jetstreamManager } from "@nats-io/jetstream";
import { JobState } from "@fti/proto/fti/common/v1/types_pb";
import { EventSchema } from "@fti/proto/fti/events/v1/events_pb";
import { ValidationGateOutcome_Result as GateResult } from "@fti/proto/fti/registry/v1/model_pb";
import { GradientBoostedTrees_Objective as Objective, JobSpec_DeploymentAction as DeploymentAction, type JobSpec } from "@fti/proto/fti/training/v1/training_pb";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { JobSpecSchema } from "@fti/proto/fti/training/v1/training_pb";
import { serverStream } from "../../../libs/server/test/grpc-client.js";
import { statusOf } from "../../registry/test/harness.js";
import { jobSpec, rpc, startTraining, syntheticDataset, trpc, until, type SyntheticDataset, type TrainingHarness } from "./harness.js";

type Spec = MessageInitShape<typeof JobSpecSchema>;

let h: TrainingHarness;
let classification: SyntheticDataset;
let nonlinear: SyntheticDataset;
let regression: SyntheticDataset;

beforeAll(async () => {
  h = await startTraining();
  // Linear signal: a logistic model fits it.
  classification = await syntheticDataset(h, { project: "clf", rows: 4000, features: 4, labelType: "bool", label: "2 * x0 - 1.5 * x1 + 0.5 * x2 + 0.4 * noise" });
  // Interactions and thresholds: only trees fit them well.
  nonlinear = await syntheticDataset(h, { project: "trees", rows: 6000, features: 5, labelType: "bool", label: "CASE WHEN x0 * x1 > 0 THEN 1 ELSE -1 END + 0.3 * noise" });
  regression = await syntheticDataset(h, { project: "reg", rows: 3000, features: 4, labelType: "double", label: "3 * x0 - 2 * x1 + x2 * 0.5 + 7 + 0.2 * noise" });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

async function submit(project: string, spec: Spec) {
  return (await h.call(trpc.submitJob, { parent: `projects/${project}`, spec: jobSpec(spec as Record<string, unknown>) })).job!;
}

describe("built-in trainers", () => {
  it("logistic regression learns a linear signal, matches its ONNX export and registers a model version with lineage", async () => {
    const job = await submit("clf", { trainingDataset: classification.name, label: "label", logisticRegression: { learningRate: 0.5, maxIterations: 300 }, model: "projects/clf/models/scorer", modelTags: { team: "risk" } } as Spec);
    expect(job.state).toBe(JobState.QUEUED);
    const done = await h.waitForJob(job.name);
    expect(done.failureReason).toBe("");
    expect(done.state).toBe(JobState.SUCCEEDED);
    expect(done.progressPercent).toBe(100);
    expect(done.metrics.auc).toBeGreaterThan(0.95);
    expect(done.metrics.accuracy).toBeGreaterThan(0.85);
    expect(done.logLines.map((l) => l.text).join("\n")).toMatch(/ONNX check: onnxruntime matches the trainer/);
    expect(done.model).toBe("projects/clf/models/scorer/versions/1");
    expect(done.validationGate?.result).toBe(GateResult.SKIPPED);

    const model = (await h.registry.call(rpc.getModel, { name: done.model })).model!;
    expect(model.trainingDataset).toBe(classification.name);
    expect(model.featureView).toBe(classification.featureView);
    expect(model.trainingJob).toBe(job.name);
    expect(model.label).toBe("label");
    expect(model.tags).toMatchObject({ team: "risk", gate: "skipped", algorithm: "logistic_regression" });
    expect(model.metrics.auc).toBeCloseTo(done.metrics.auc!, 10);
    expect(model.inputs[0]!.features).toEqual(["x0", "x1", "x2", "x3"]);
    expect(model.inputs[0]!.shape).toEqual([-1n, 4n]);
    expect(model.outputs.map((o) => o.name).sort()).toEqual(["label", "probabilities"]);
    const path = fileURLToPath(model.artifactUri);
    expect(path.startsWith(h.offlineRoot)).toBe(true);
    expect(model.checksum).toBe(`sha256:${createHash("sha256").update(await readFile(path)).digest("hex")}`);
  }, 60_000);

  it("linear regression recovers a linear function (R² > 0.98)", async () => {
    const done = await h.waitForJob((await submit("reg", { trainingDataset: regression.name, label: "label", linearRegression: {}, model: "projects/reg/models/linear" } as Spec)).name);
    expect(done.failureReason).toBe("");
    expect(done.metrics.r2).toBeGreaterThan(0.98);
    expect(done.metrics.rmse).toBeLessThan(0.2);
    const model = (await h.registry.call(rpc.getModel, { name: done.model })).model!;
    expect(model.outputs.map((o) => o.name)).toEqual(["prediction"]);
  }, 60_000);

  it("gradient-boosted trees learn an interaction a linear model cannot (AUC > 0.9 vs < 0.7)", async () => {
    const trees = await h.waitForJob((await submit("trees", { trainingDataset: nonlinear.name, label: "label", gbdt: { objective: Objective.BINARY_CLASSIFICATION, numTrees: 60, maxDepth: 4 }, model: "projects/trees/models/gbdt" } as Spec)).name);
    expect(trees.failureReason).toBe("");
    expect(trees.metrics.auc).toBeGreaterThan(0.9);
    expect(trees.logLines.map((l) => l.text).join("\n")).toMatch(/ONNX check: onnxruntime matches the trainer/);
    const linear = await h.waitForJob((await submit("trees", { trainingDataset: nonlinear.name, label: "label", logisticRegression: {}, model: "projects/trees/models/linear" } as Spec)).name);
    expect(linear.metrics.auc).toBeLessThan(0.7);
  }, 90_000);

  it("gradient-boosted regression fits a linear target (R² > 0.9)", async () => {
    const done = await h.waitForJob((await submit("reg", { trainingDataset: regression.name, label: "label", gbdt: { objective: Objective.REGRESSION, numTrees: 100, maxDepth: 4, learningRate: 0.2 }, model: "projects/reg/models/gbdt" } as Spec)).name);
    expect(done.failureReason).toBe("");
    expect(done.metrics.r2).toBeGreaterThan(0.9);
  }, 60_000);
});

describe("events", () => {
  it("publishes training.job.<state> for each state and lets the registry announce the model version once", async () => {
    const job = await submit("clf", { trainingDataset: classification.name, label: "label", linearRegression: {}, model: "projects/clf/models/evented" } as Spec);
    const done = await h.waitForJob(job.name);
    expect(done.state).toBe(JobState.SUCCEEDED);
    const jsm = await jetstreamManager(h.registry.nats);
    const subjects: string[] = [];
    await until(async () => {
      subjects.length = 0;
      const info = await jsm.streams.info(h.registry.stream, { subjects_filter: ">" });
      subjects.push(...Object.keys(info.state.subjects ?? {}));
      return subjects.some((s) => s.endsWith("model.version.registered.clf.evented"));
    }, 15_000);
    const prefix = h.registry.subjectPrefix;
    for (const state of ["queued", "running", "succeeded"]) expect(subjects).toContain(`${prefix}.training.job.${state}.clf`);
    const js = (await import("@nats-io/jetstream")).jetstream(h.registry.nats);
    const last = await jsm.streams.getMessage(h.registry.stream, { last_by_subj: `${prefix}.training.job.succeeded.clf` });
    const event = fromBinary(EventSchema, last!.data);
    expect(event.payload.case).toBe("trainingJobStateChanged");
    void js;
  }, 60_000);
});

describe("bad input", () => {
  it("rejects what can be checked at submit time with INVALID_ARGUMENT, naming the field", async () => {
    const missing = await statusOf(submit("clf", { trainingDataset: "projects/clf/featureViews/view/versions/1/trainingDatasets/99", label: "label", linearRegression: {}, model: "projects/clf/models/x" } as Spec));
    expect(missing.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(missing.details).toMatch(/spec\.training_dataset: does not exist/);
    const range = await statusOf(submit("clf", { trainingDataset: classification.name, label: "label", gbdt: { objective: Objective.BINARY_CLASSIFICATION, numTrees: 20_000, maxDepth: 40 }, model: "projects/clf/models/x" } as Spec));
    expect(range.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(range.details).toMatch(/gbdt\.num_trees/);
    expect(range.details).toMatch(/gbdt\.max_depth/);
    const noTrainer = await statusOf(submit("clf", { trainingDataset: classification.name, label: "label", model: "projects/clf/models/x" } as Spec));
    expect(noTrainer.details).toMatch(/spec\.trainer/);
  });

  it("fails a job whose label is not a column, with a clear reason, and registers nothing", async () => {
    const done = await h.waitForJob((await submit("clf", { trainingDataset: classification.name, label: "no_such_label", logisticRegression: {}, model: "projects/clf/models/never" } as Spec)).name);
    expect(done.state).toBe(JobState.FAILED);
    expect(done.failureReason).toMatch(/label "no_such_label" is not a column/);
    expect((await statusOf(h.registry.call(rpc.getModel, { name: "projects/clf/models/never/versions/1" }))).code).toBe(grpc.status.NOT_FOUND);
  }, 30_000);

  it("fails a classification job on a non-binary label", async () => {
    const done = await h.waitForJob((await submit("reg", { trainingDataset: regression.name, label: "label", logisticRegression: {}, model: "projects/reg/models/never" } as Spec)).name);
    expect(done.state).toBe(JobState.FAILED);
    expect(done.failureReason).toMatch(/0\/1 or boolean label/);
  }, 30_000);
});

describe("job control", () => {
  it("cancel stops a running job quickly and registers nothing", async () => {
    const job = await submit("trees", { trainingDataset: nonlinear.name, label: "label", gbdt: { objective: Objective.BINARY_CLASSIFICATION, numTrees: 10_000, maxDepth: 8, minSamplesLeaf: 1 }, model: "projects/trees/models/cancelled" } as Spec);
    await until(async () => {
      const now = (await h.call(trpc.getJob, { name: job.name })).job!;
      return now.state === JobState.RUNNING && now.progressPercent > 10;
    }, 30_000);
    const cancelledAt = Date.now();
    await h.call(trpc.cancelJob, { name: job.name });
    const done = await h.waitForJob(job.name, 10_000);
    expect(done.state).toBe(JobState.CANCELLED);
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);
    expect(done.progressPercent).toBeLessThan(50);
    expect((await statusOf(h.registry.call(rpc.getModel, { name: "projects/trees/models/cancelled/versions/1" }))).code).toBe(grpc.status.NOT_FOUND);
  }, 60_000);

  it("WatchJob streams progress until the final state; ListJobs pages newest first", async () => {
    const job = await submit("reg", { trainingDataset: regression.name, label: "label", gbdt: { objective: Objective.REGRESSION, numTrees: 150, maxDepth: 5 }, model: "projects/reg/models/watched" } as Spec);
    const messages = await serverStream(h.client, trpc.watchJob, { name: job.name });
    const states = messages.map((m) => m.job!.state);
    expect(states.at(-1)).toBe(JobState.SUCCEEDED);
    expect(states).toContain(JobState.RUNNING);
    const progress = messages.map((m) => m.job!.progressPercent);
    expect(progress.length).toBeGreaterThan(2);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);

    const first = (await h.call(trpc.listJobs, { parent: "projects/reg", pageSize: 2 }));
    expect(first.jobs).toHaveLength(2);
    expect(first.jobs[0]!.name).toBe(job.name);
    expect(first.jobs[0]!.logLines).toHaveLength(0);
    const rest = await h.call(trpc.listJobs, { parent: "projects/reg", pageSize: 100, pageToken: first.nextPageToken });
    expect(rest.jobs.map((j) => j.name)).not.toContain(job.name);
    const failed = await h.call(trpc.listJobs, { parent: "projects/reg", filter: 'state = "FAILED"' });
    expect(failed.jobs.every((j) => j.state === JobState.FAILED)).toBe(true);
    expect(failed.jobs.length).toBeGreaterThan(0);
  }, 60_000);
});

describe("evaluation and validation gate", () => {
  it("flags a slice whose metric is below the threshold", async () => {
    // In segment "b" the label is noise, so the model is right only half the time there.
    const sliced = await syntheticDataset(h, { project: "slices", rows: 4000, features: 3, labelType: "bool", label: "CASE WHEN segment = 'a' THEN x0 + 0.1 * noise ELSE noise END" });
    const done = await h.waitForJob((await submit("slices", { trainingDataset: sliced.name, label: "label", features: ["x0", "x1", "x2"], logisticRegression: {}, model: "projects/slices/models/m", evaluation: { sliceFeatures: ["segment"], sliceMetric: "accuracy", sliceThreshold: 0.7 }, validationGate: { metric: "accuracy", requireSlicesPass: true } } as Spec)).name);
    expect(done.state).toBe(JobState.SUCCEEDED);
    const bySegment = Object.fromEntries(done.sliceMetrics.map((s) => [s.value, s]));
    expect(bySegment.a!.belowThreshold).toBe(false);
    expect(bySegment.b!.belowThreshold).toBe(true);
    expect(done.validationGate?.result).toBe(GateResult.FAILED);
    expect(done.validationGate?.message).toMatch(/segment=b/);
  }, 60_000);

  it("gate fails a model worse than the deployed one (registered, tagged, deployment unchanged) and passes and deploys a better one", async () => {
    const deployed = await h.waitForJob((await submit("trees", { trainingDataset: nonlinear.name, label: "label", gbdt: { objective: Objective.BINARY_CLASSIFICATION, numTrees: 40, maxDepth: 4 }, model: "projects/trees/models/prod" } as Spec)).name);
    expect(deployed.state).toBe(JobState.SUCCEEDED);
    await h.registry.call(rpc.createDeployment, { parent: "projects/trees", deploymentId: "live", deployment: { routes: [{ model: deployed.model, weight: 100 }] } });
    const gate = { metric: "auc", maxRegression: 0.01 };

    const worse = await h.waitForJob((await submit("trees", { trainingDataset: nonlinear.name, label: "label", logisticRegression: {}, model: "projects/trees/models/prod", deployment: "projects/trees/deployments/live", deploymentAction: DeploymentAction.REPLACE, validationGate: gate } as Spec)).name);
    expect(worse.state).toBe(JobState.SUCCEEDED);
    expect(worse.validationGate?.result).toBe(GateResult.FAILED);
    expect(worse.validationGate?.baselineModel).toBe(deployed.model);
    expect(worse.validationGate?.baselineValue).toBeCloseTo(deployed.metrics.auc!, 6);
    expect(worse.deploymentUpdated).toBe(false);
    expect((await h.registry.call(rpc.getModel, { name: worse.model })).model!.tags.gate).toBe("failed");
    expect((await h.registry.call(rpc.getDeployment, { name: "projects/trees/deployments/live" })).deployment!.routes[0]!.model).toBe(deployed.model);

    const better = await h.waitForJob((await submit("trees", { trainingDataset: nonlinear.name, label: "label", gbdt: { objective: Objective.BINARY_CLASSIFICATION, numTrees: 80, maxDepth: 4 }, model: "projects/trees/models/prod", deployment: "projects/trees/deployments/live", deploymentAction: DeploymentAction.REPLACE, validationGate: gate } as Spec)).name);
    expect(better.validationGate?.result).toBe(GateResult.PASSED);
    expect(better.deploymentUpdated).toBe(true);
    expect((await h.registry.call(rpc.getModel, { name: better.model })).model!.tags.gate).toBe("passed");
    const live = (await h.registry.call(rpc.getDeployment, { name: "projects/trees/deployments/live" })).deployment!;
    expect(live.routes.map((r) => [r.model, r.weight])).toEqual([[better.model, 100]]);
  }, 120_000);
});

export type { JobSpec };
