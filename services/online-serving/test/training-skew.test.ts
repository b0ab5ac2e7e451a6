// No training/serving skew: a model trained by the training runner on a
// dataset whose view has model-dependent transformations (an in-place standard
// scaler, a min-max scaler writing a new column) scores online, through
// Predict, exactly what it learned. The training runner's job runs in-process
// against this harness's registry; the dataset's Parquet splits and fitted
// parameters are written here, as offline-query would.
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { JobState, ScalarType } from "@fti/proto/fti/common/v1/types_pb";
import { TrainingDataset_State, type TrainingDataset } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { JobSchema, JobSpecSchema, type Job } from "@fti/proto/fti/training/v1/training_pb";
import { predictWithOnnx } from "@fti/onnx";
import { decodeRecordBatch, recordBatchMessage } from "@fti/record-batch";
import { createRegistryClient } from "@fti/registry-client";
import { fitTransformations } from "@fti/transforms";
import { withDuckDb } from "../../training-runner/src/dataset.js";
import { runTrainingJob } from "../../training-runner/src/training-job.js";
import { createGroup, createProject, createView, rpc, serving, startServing, type ServingHarness } from "./harness.js";

const project = "skew";
const scalar = (name: string, type: ScalarType, nullable = true) => ({ name, type: { kind: { case: "scalar" as const, value: type } }, nullable });
/** What the label is, before noise: a linear function of the raw features. */
const truth = (amount: number, score: number) => 0.03 * amount + 0.5 * score;

let h: ServingHarness;
let dataset: TrainingDataset;
const entity = { id: 1n, amount: 150, score: 4 };

beforeAll(async () => {
  h = await startServing();
  await createProject(h, project);
  const payments = await createGroup(h, project, "payments", {
    schema: { features: [scalar("id", ScalarType.INT64, false), scalar("ts", ScalarType.TIMESTAMP, false), scalar("amount", ScalarType.DOUBLE), scalar("score", ScalarType.DOUBLE), scalar("label", ScalarType.DOUBLE)] },
    primaryKey: ["id"],
    eventTime: "ts",
  });
  const view = await createView(h, project, "scoring", {
    root: { featureGroup: payments.name, features: ["amount", "score", "label"] },
    labelColumns: ["label"],
    transformations: [
      { feature: "amount", kind: { case: "standardScaler", value: {} } },
      { feature: "score", output: "score_mm", kind: { case: "minMaxScaler", value: {} } },
    ],
  });

  // The dataset: amount around 125 (stddev ≈ 14), score in [0, 10); fitted on train, as offline-query does.
  const created = (await h.registry.call(rpc.createTrainingDataset, { parent: view.name, trainingDataset: { split: { kind: { case: "random", value: { seed: 1n, fractions: [{ name: "train", fraction: 0.8 }, { name: "test", fraction: 0.2 }] } } } } })).trainingDataset!;
  const dir = join(h.offlineRoot, "_training", project, "scoring", "1", String(created.version));
  const splits: { name: string; rowCount: bigint; files: string[] }[] = [];
  let train: { amount: number[]; score: number[] } = { amount: [], score: [] };
  await withDuckDb(async (run) => {
    await run("SELECT setseed(0.5)");
    await run(
      `CREATE TABLE data AS SELECT id, TIMESTAMP '2024-01-01' + INTERVAL (id) SECOND AS ts, amount, score, 0.03 * amount + 0.5 * score + 0.02 * (random() - 0.5) AS label,
         CASE WHEN id % 5 = 0 THEN 'test' ELSE 'train' END AS split
       FROM (SELECT range AS id, 100 + 50 * random() AS amount, 10 * random() AS score FROM range(2000))`,
    );
    for (const split of ["train", "test"]) {
      const file = join(dir, `fti_split=${split}`, "part-0.parquet");
      await mkdir(join(dir, `fti_split=${split}`), { recursive: true });
      await run(`COPY (SELECT * EXCLUDE (split) FROM data WHERE split = '${split}') TO '${file}' (FORMAT parquet)`);
      const n = (await run(`SELECT count(*)::INTEGER AS n FROM data WHERE split = '${split}'`)).n![0] as number;
      splits.push({ name: split, rowCount: BigInt(n), files: [pathToFileURL(file).href] });
    }
    const columns = await run(`SELECT amount, score FROM data WHERE split = 'train'`);
    train = { amount: columns.amount as number[], score: columns.score as number[] };
  });
  const fitted = fitTransformations(view.transformations, [{ name: "amount", type: "double" }, { name: "score", type: "double" }], train);
  dataset = (
    await h.registry.call(rpc.updateTrainingDataset, {
      trainingDataset: { name: created.name, etag: created.etag, state: TrainingDataset_State.READY, location: pathToFileURL(dir).href, splits, fittedTransformations: fitted },
      updateMask: { paths: ["state", "location", "splits", "fitted_transformations"] },
    })
  ).trainingDataset!;

  await h.store.upsert(payments, [{ id: entity.id, ts: new Date(Date.now() - 60_000), amount: entity.amount, score: entity.score, label: null }]);
}, 60_000);
afterAll(async () => h?.close());

/** Runs a linear-regression training job of the training runner in-process, against the harness's registry. */
async function train(model: string, features: string[]): Promise<{ done: Partial<Job>; logs: string[] }> {
  const logs: string[] = [];
  const workDir = join(h.offlineRoot, "_work");
  const job = create(JobSchema, {
    name: `projects/${project}/trainingJobs/${model}`,
    spec: create(JobSpecSchema, { dataset: { case: "trainingDataset", value: dataset.name }, label: "label", features, trainer: { case: "linearRegression", value: {} }, model: `projects/${project}/models/${model}` }),
  });
  try {
    const done = await runTrainingJob(
      { registry: createRegistryClient(h.registry.server.grpcAddress), offlineRoot: h.offlineRoot, workDir },
      { job, signal: new AbortController().signal, progress: () => {}, log: (text) => logs.push(text), save: async () => {} },
    );
    return { done, logs };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function predictOnline(modelName: string, deploymentId: string): Promise<number> {
  const deployment = (await h.registry.call(rpc.createDeployment, { parent: `projects/${project}`, deploymentId, deployment: { routes: [{ model: modelName, weight: 100 }] }, reason: "test" })).deployment!;
  const res = await h.call(serving.predict, { deployment: deployment.name, entities: recordBatchMessage(1, [{ name: "id", type: "int64", values: [entity.id] }]) });
  expect(res.model).toBe(modelName);
  return (decodeRecordBatch(res.outputs!).columns.prediction as Float32Array[])[0]![0]!;
}

/** The registered model file applied with onnxruntime to one row. */
async function modelOn(modelName: string, row: number[]): Promise<number> {
  const model = (await h.registry.call(rpc.getModel, { name: modelName })).model!;
  const bytes = new Uint8Array(await readFile(fileURLToPath(model.artifactUri)));
  const outputs = await predictWithOnnx(bytes, Float32Array.from(row), 1, row.length);
  return (outputs.prediction!.data as Float32Array)[0]!;
}

const params = (feature: string) => dataset.fittedTransformations.find((f) => f.transformation!.feature === feature)!.params;

describe("training and serving apply the same transformations", () => {
  it("the fitted parameters are not the identity (so a skew would show)", () => {
    const scaler = params("amount");
    expect(scaler.case).toBe("standardScaler");
    if (scaler.case !== "standardScaler") return;
    expect(scaler.value.mean).toBeGreaterThan(100);
    expect(scaler.value.stddev).toBeGreaterThan(5);
  });

  it("a model trained on an in-place standard-scaled feature scores online what it learned", async () => {
    const { done, logs } = await train("inplace", ["amount", "score"]);
    expect(done.state, logs.join("\n")).toBe(JobState.SUCCEEDED);
    const model = (await h.registry.call(rpc.getModel, { name: done.model! })).model!;
    expect(model.inputs[0]!.features).toEqual(["amount", "score"]);

    // By hand: the dataset's fitted scaler on the raw amount, then the model.
    const scaler = params("amount");
    if (scaler.case !== "standardScaler") throw new Error("not a standard scaler");
    const transformed = [(entity.amount - scaler.value.mean) / scaler.value.stddev, entity.score];
    const expected = await modelOn(done.model!, transformed);
    const online = await predictOnline(done.model!, "inplace");
    expect(online).toBeCloseTo(expected, 4);
    // And what it learned is the label's function of the raw values.
    expect(online).toBeCloseTo(truth(entity.amount, entity.score), 1);
  }, 60_000);

  it("a min-max scaler writing a new column is a feature trained on and served with its fitted parameters", async () => {
    const { done, logs } = await train("newcolumn", ["amount", "score_mm"]);
    expect(done.state, logs.join("\n")).toBe(JobState.SUCCEEDED);
    const model = (await h.registry.call(rpc.getModel, { name: done.model! })).model!;
    expect(model.inputs[0]!.features).toEqual(["amount", "score_mm"]);

    const scaler = params("amount");
    const minMax = params("score");
    if (scaler.case !== "standardScaler" || minMax.case !== "minMaxScaler") throw new Error("unexpected fitted parameters");
    const transformed = [(entity.amount - scaler.value.mean) / scaler.value.stddev, (entity.score - minMax.value.min) / (minMax.value.max - minMax.value.min)];
    const expected = await modelOn(done.model!, transformed);
    const online = await predictOnline(done.model!, "newcolumn");
    expect(online).toBeCloseTo(expected, 4);
    expect(online).toBeCloseTo(truth(entity.amount, entity.score), 1);
  }, 60_000);
});
