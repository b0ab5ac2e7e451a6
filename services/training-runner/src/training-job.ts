// One training job from start to end: get (or create) the training dataset,
// read its splits through its fitted transformations (what online serving
// feeds the model), train, export and check the ONNX model, evaluate, judge the
// gate, register, and update the deployment. Every expected problem is a
// JobFailure whose message becomes the job's failure reason; nothing is
// registered unless every step before registration succeeded.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { clone, create } from "@bufbuild/protobuf";
import { durationMs, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { describeModel } from "@fti/onnx";
import { JobState, TimeRangeSchema } from "@fti/proto/fti/common/v1/types_pb";
import type { OfflineQueryService } from "@fti/proto/fti/offline/v1/offline_pb";
import { SliceMetricsSchema, ValidationGateOutcome_Result as GateResult } from "@fti/proto/fti/registry/v1/model_pb";
import { SplitSpecSchema, TrainingDataset_State as DatasetState, TrainingDatasetSchema, type TrainingDataset } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { JobSpec_DeploymentAction as DeploymentAction, type Job, type JobSpec } from "@fti/proto/fti/training/v1/training_pb";
import type { RegistryClient } from "@fti/registry-client";
import { describeColumns, isNumeric, JobFailure, readSplit, splitPaths, type Column, type SplitData } from "./dataset.js";
import { evaluate, sliceMetrics } from "./evaluation.js";
import { judgeGate, type Baseline } from "./gate.js";
import { trainerSettings } from "./job-spec.js";
import { checkModelInputs, compareWithTrainer, ONNX_TOLERANCE, scoreWithOnnx } from "./onnx-scoring.js";
import { registerModelVersion, tensorSpecs, writeArtifact } from "./registration.js";
import { runExternalTrainer } from "./trainers/external.js";
import { trainGbdt } from "./trainers/gbdt.js";
import { trainLinearRegression } from "./trainers/linear-regression.js";
import { trainLogisticRegression } from "./trainers/logistic-regression.js";
import type { Task, TrainedModel, TrainerContext } from "./trainers/trainer.js";
import { datasetTransformations, transformedColumns } from "./transformations.js";

export interface TrainingJobDeps {
  registry: RegistryClient;
  /** Needed only by jobs that create their training dataset. */
  offlineQuery?: Client<typeof OfflineQueryService>;
  offlineRoot: string;
  workDir: string;
  /** How often a dataset build is polled. */
  pollIntervalMs?: number;
}

/** What a running job reports back; the runner persists it. */
export interface JobContext {
  job: Job;
  signal: AbortSignal;
  progress(percent: number): void;
  log(text: string): void;
  /** Saves output fields (training_dataset, metrics, …) on the job. */
  save(patch: Partial<Job>): Promise<void>;
}

const rethrowRegistry = (what: string) => (err: unknown) => {
  const e = ConnectError.from(err);
  if (e.code === Code.NotFound) throw new JobFailure(`${what} does not exist`);
  throw new JobFailure(`cannot read ${what} from the registry: ${e.rawMessage}`);
};

export async function runTrainingJob(deps: TrainingJobDeps, ctx: JobContext): Promise<Partial<Job>> {
  const spec = ctx.job.spec!;
  const settings = trainerSettings(spec);

  ctx.progress(1);
  const dataset = await resolveDataset(deps, ctx, spec);
  await ctx.save({ trainingDataset: dataset.name });
  ctx.signal.throwIfAborted();

  // Columns: the label and features must exist; default features are every numeric column but keys, time and labels.
  // The model is trained on the columns after the dataset's fitted transformations: what online serving feeds it.
  const evalSplit = spec.evaluation?.split || "test";
  const trainFiles = splitPaths(dataset, "train");
  const evalFiles = splitPaths(dataset, evalSplit);
  const stored = await describeColumns(trainFiles);
  const transformations = await datasetTransformations(deps.registry, dataset, stored);
  const columns = transformedColumns(stored, transformations);
  const byName = new Map(columns.map((c) => [c.name, c]));
  if (!stored.some((c) => c.name === spec.label)) throw new JobFailure(`label "${spec.label}" is not a column of ${dataset.name} (columns: ${stored.map((c) => c.name).join(", ")})`);
  const features = spec.features.length ? spec.features : await defaultFeatures(deps.registry, dataset, columns, spec.label);
  for (const f of features) {
    const column = byName.get(f);
    if (!column) throw new JobFailure(`feature "${f}" is not a column of ${dataset.name} after its transformations (columns: ${columns.map((c) => c.name).join(", ")})`);
    if (!isNumeric(column.type)) throw new JobFailure(`feature "${f}" is ${column.type}${transformations?.outputs.has(f) ? " after the transformations" : ""}; built-in trainers and ONNX inputs take numeric and boolean features (encode it in the feature view)`);
  }
  if (features.length === 0) throw new JobFailure(`${dataset.name} has no numeric feature column besides the label`);
  const sliceFeatures = spec.evaluation?.sliceFeatures ?? [];
  // Slices group rows by their stored (untransformed) values.
  for (const s of sliceFeatures) if (!stored.some((c) => c.name === s)) throw new JobFailure(`slice feature "${s}" is not a stored column of ${dataset.name}`);
  if (transformations) ctx.log(`applying the ${dataset.fittedTransformations.length} fitted transformation(s) of ${dataset.name}${features.some((f) => transformations.outputs.has(f)) ? ` (to ${features.filter((f) => transformations.outputs.has(f)).join(", ")})` : ""}`);
  ctx.log(`dataset ${dataset.name}: label ${spec.label}, ${features.length} features, evaluated on "${evalSplit}"`);

  ctx.progress(5);
  const train = await readSplit("train", trainFiles, spec.label, features, [], transformations);
  const test = await readSplit(evalSplit, evalFiles, spec.label, features, sliceFeatures, transformations);
  if (train.rows === 0) throw new JobFailure(`the train split of ${dataset.name} is empty`);
  if (test.rows === 0) throw new JobFailure(`the "${evalSplit}" split of ${dataset.name} is empty`);
  ctx.log(`read ${train.rows} train rows and ${test.rows} ${evalSplit} rows`);
  ctx.progress(10);
  ctx.signal.throwIfAborted();

  // Train and export.
  const trainerCtx: TrainerContext = { signal: ctx.signal, log: ctx.log, progress: (fraction) => ctx.progress(10 + 70 * fraction) };
  let modelBytes: Uint8Array;
  let task: Task;
  let trainerMetrics: Record<string, number> = {};
  const modelOptions = { featureNames: features, properties: { training_dataset: dataset.name, training_job: ctx.job.name, label: spec.label } };
  if (settings.algorithm === "external") {
    const workDir = join(deps.workDir, ctx.job.name.replaceAll("/", "_"));
    try {
      const result = await runExternalTrainer({ trainer: spec.trainer.value as never, dataset, transformations, label: spec.label, features, workDir, signal: ctx.signal, log: ctx.log });
      modelBytes = result.modelBytes;
      trainerMetrics = result.metrics;
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
    const description = describeOrFail(modelBytes, "the trainer's model.onnx");
    checkModelInputs(description, features, "the trainer's model.onnx");
    task = description.outputs.some((o) => o.name === "probabilities" || o.shape?.[1] === 2) ? "classification" : "regression";
  } else {
    checkLabel(settings.task, train);
    const model = await trainBuiltIn(settings, train, trainerCtx);
    task = model.task;
    modelBytes = model.toOnnx(modelOptions);
    checkModelInputs(describeOrFail(modelBytes, "the exported model"), features, "the exported model");
    await checkOnnxMatchesTrainer(model, modelBytes, test, ctx);
  }
  ctx.progress(80);
  ctx.signal.throwIfAborted();

  // Evaluate on the evaluation split, with onnxruntime: what serving will compute.
  const scores = await scoreWithOnnx(modelBytes, test.x, test.rows, test.features, task);
  const ev = spec.evaluation;
  const threshold = ev?.classificationThreshold || 0.5;
  const metrics = evaluate(task, test.y, scores, threshold);
  const slices = sliceMetrics(test.slices, test.y, scores, {
    task,
    metric: ev?.sliceMetric || (task === "classification" ? "accuracy" : "rmse"),
    threshold: ev?.sliceThreshold,
    minRows: ev?.minSliceRows || 30,
    classificationThreshold: threshold,
  });
  const flagged = slices.filter((s) => s.belowThreshold);
  ctx.log(`${evalSplit} metrics: ${Object.entries(metrics).map(([k, v]) => `${k}=${v.toFixed(4)}`).join(" ")}${flagged.length ? `; ${flagged.length} slice(s) flagged` : ""}`);
  for (const [k, v] of Object.entries(trainerMetrics)) if (!(k in metrics)) metrics[`trainer_${k}`] = v;
  const sliceMessages = slices.map((s) => create(SliceMetricsSchema, { feature: s.feature, value: s.value, rowCount: BigInt(s.rowCount), metrics: s.metrics, belowThreshold: s.belowThreshold }));
  await ctx.save({ metrics, sliceMetrics: sliceMessages });
  ctx.progress(85);

  // Gate against the deployed model on the same split.
  const deployment = spec.deployment ? await deps.registry.getDeployment({ name: spec.deployment }).then((r) => r.deployment!, rethrowRegistry(`deployment ${spec.deployment}`)) : undefined;
  const baseline = deployment && spec.validationGate ? await scoreBaseline(deps, deployment.routes, evalFiles, stored, spec, task) : undefined;
  const gate = judgeGate(spec.validationGate, metrics, baseline);
  if (gate.result === GateResult.PASSED && spec.validationGate?.requireSlicesPass && flagged.length) {
    gate.result = GateResult.FAILED;
    gate.message = `slices below the threshold: ${flagged.map((s) => `${s.feature}=${s.value}`).join(", ")}`;
  }
  ctx.log(`validation gate ${GateResult[gate.result]}: ${gate.message}`);
  await ctx.save({ validationGate: gate });
  ctx.progress(90);
  ctx.signal.throwIfAborted();

  // Register: the commit point of the job.
  const artifact = await writeArtifact(deps.offlineRoot, spec.model, ctx.job.name, modelBytes);
  const signature = tensorSpecs(describeModel(modelBytes), features);
  const algorithm = settings.algorithm;
  const registered = await registerModelVersion(deps.registry, spec.model, {
    description: spec.description,
    tags: { ...spec.modelTags, algorithm, gate: GateResult[gate.result].toLowerCase() },
    artifactUri: artifact.uri,
    checksum: artifact.checksum,
    inputs: signature.inputs,
    outputs: signature.outputs,
    metrics,
    sliceMetrics: sliceMessages,
    trainingDataset: dataset.name,
    label: spec.label,
    trainingJob: ctx.job.name,
    validationGate: gate,
  }).catch((err) => {
    throw new JobFailure(`registering the model failed: ${ConnectError.from(err).rawMessage}`);
  });
  ctx.log(`registered ${registered.name} (${artifact.checksum})`);
  await ctx.save({ model: registered.name });

  let deploymentUpdated = false;
  const action = spec.deploymentAction;
  if (deployment && gate.result === GateResult.PASSED && (action === DeploymentAction.REPLACE || action === DeploymentAction.SHADOW)) {
    const routes = action === DeploymentAction.REPLACE ? [{ model: registered.name, weight: 100 }] : deployment.routes.map((r) => ({ model: r.model, weight: r.weight }));
    const shadows = deployment.shadows.map((s) => ({ model: s.model, samplePercent: s.samplePercent }));
    if (action === DeploymentAction.SHADOW) shadows.push({ model: registered.name, samplePercent: 100 });
    await deps.registry
      .upgradeDeployment({ name: deployment.name, routes, shadows, reason: `training job ${ctx.job.name} passed its gate (${gate.message})`, etag: deployment.etag })
      .catch((err) => {
        throw new JobFailure(`${registered.name} is registered, but updating ${deployment.name} failed: ${ConnectError.from(err).rawMessage}`);
      });
    deploymentUpdated = true;
    ctx.log(`${deployment.name} now ${action === DeploymentAction.REPLACE ? "routes all traffic to" : "shadows"} ${registered.name}`);
  }
  ctx.progress(100);
  return { model: registered.name, deploymentUpdated, state: JobState.SUCCEEDED };
}

function describeOrFail(bytes: Uint8Array, what: string) {
  try {
    return describeModel(bytes);
  } catch (err) {
    throw new JobFailure(`${what} is not an ONNX model: ${(err as Error).message}`);
  }
}

function checkLabel(task: Task, train: SplitData): void {
  if (task !== "classification") return;
  const bad = train.y.findIndex((v) => v !== 0 && v !== 1);
  if (bad >= 0) throw new JobFailure(`binary classification needs a 0/1 or boolean label; row ${bad} of the train split has ${train.y[bad]}`);
  const positives = train.y.reduce((s, v) => s + v, 0);
  if (positives === 0 || positives === train.rows) throw new JobFailure(`the train split has only one class (${positives ? "all positive" : "all negative"})`);
}

async function trainBuiltIn(settings: ReturnType<typeof trainerSettings>, train: SplitData, ctx: TrainerContext): Promise<TrainedModel> {
  switch (settings.algorithm) {
    case "logistic_regression":
      return trainLogisticRegression(train, settings.params, ctx);
    case "linear_regression":
      return trainLinearRegression(train, settings.params, ctx);
    case "gbdt":
      return trainGbdt(train, settings.params, ctx);
    default:
      throw new Error("not a built-in trainer");
  }
}

/** Fails the job when onnxruntime and the trainer disagree: the export would serve something else than what was trained. */
async function checkOnnxMatchesTrainer(model: TrainedModel, bytes: Uint8Array, test: SplitData, ctx: JobContext): Promise<void> {
  const onnx = await scoreWithOnnx(bytes, test.x, test.rows, test.features, model.task);
  const own = model.predict(test.x, test.rows);
  const { maxDifference, worstRow } = compareWithTrainer(onnx, own);
  if (!(maxDifference <= ONNX_TOLERANCE))
    throw new JobFailure(`the exported ONNX model disagrees with the trainer: row ${worstRow} scores ${onnx[worstRow]} in onnxruntime, ${own[worstRow]} in the trainer (tolerance ${ONNX_TOLERANCE})`);
  ctx.log(`ONNX check: onnxruntime matches the trainer on ${test.rows} rows (max relative difference ${maxDifference.toExponential(2)})`);
}

async function resolveDataset(deps: TrainingJobDeps, ctx: JobContext, spec: JobSpec): Promise<TrainingDataset> {
  let name: string;
  if (spec.dataset.case === "trainingDataset") name = spec.dataset.value;
  else if (spec.dataset.case === "newTrainingDataset") name = await createDataset(deps, ctx, spec);
  else throw new JobFailure("the spec names no training dataset");
  const dataset = await deps.registry.getTrainingDataset({ name }).then((r) => r.trainingDataset!, rethrowRegistry(`training dataset ${name}`));
  if (dataset.state !== DatasetState.READY) throw new JobFailure(`training dataset ${name} is ${DatasetState[dataset.state]}${dataset.failureReason ? ` (${dataset.failureReason})` : ""}, not READY`);
  return dataset;
}

/** Asks offline-query to build the dataset and waits for its job. */
async function createDataset(deps: TrainingJobDeps, ctx: JobContext, spec: JobSpec): Promise<string> {
  const request = spec.dataset.case === "newTrainingDataset" ? spec.dataset.value : undefined;
  if (!request) throw new Error("unreachable");
  if (!deps.offlineQuery) throw new JobFailure("creating a training dataset needs offline-query, which is not configured (FTI_OFFLINE_QUERY_ADDRESS)");
  const training = request.spec ? clone(TrainingDatasetSchema, request.spec) : create(TrainingDatasetSchema);
  if (!training.split) {
    training.split = create(SplitSpecSchema, { kind: { case: "random", value: { seed: spec.seed, fractions: [{ name: "train", fraction: 0.8 }, { name: "test", fraction: 0.2 }] } } });
  }
  if (request.lookback) {
    const endMs = timestampMs(ctx.job.startTime ?? ctx.job.createTime!);
    training.rows = { case: "eventTimeRange", value: create(TimeRangeSchema, { startTime: timestampFromMs(endMs - durationMs(request.lookback)), endTime: timestampFromMs(endMs) }) };
  }
  const started = await deps.offlineQuery
    .createTrainingDataset({ parent: request.featureView, trainingDataset: training, requestId: ctx.job.name })
    .catch((err) => {
      throw new JobFailure(`offline-query refused to create the training dataset: ${ConnectError.from(err).rawMessage}`);
    });
  let job = started.job!;
  ctx.log(`creating training dataset ${job.trainingDataset} (offline-query job ${job.name})`);
  await ctx.save({ trainingDataset: job.trainingDataset });
  while (job.state === JobState.QUEUED || job.state === JobState.RUNNING) {
    await new Promise((resolve) => setTimeout(resolve, deps.pollIntervalMs ?? 500));
    if (ctx.signal.aborted) {
      await deps.offlineQuery.cancelTrainingDatasetJob({ name: job.name }).catch(() => {});
      ctx.signal.throwIfAborted();
    }
    job = (await deps.offlineQuery.getTrainingDatasetJob({ name: job.name })).job!;
  }
  if (job.state !== JobState.SUCCEEDED) throw new JobFailure(`creating the training dataset failed: ${job.failureReason || JobState[job.state]}`);
  return job.trainingDataset;
}

/**
 * Default features: numeric columns after the transformations that are not the
 * label, another label, a key, the event time or a request parameter (online,
 * request parameters feed on-demand features but are not vector columns).
 */
async function defaultFeatures(registry: RegistryClient, dataset: TrainingDataset, columns: { name: string; type: string }[], label: string): Promise<string[]> {
  const excluded = new Set([label, "fti_split"]);
  try {
    const view = (await registry.getFeatureView({ name: dataset.featureView })).featureView!;
    for (const l of view.labelColumns) excluded.add(l);
    for (const p of view.requestParameters) excluded.add(p.name);
    if (view.root) {
      const group = (await registry.getFeatureGroup({ name: view.root.featureGroup })).featureGroup!;
      for (const k of group.primaryKey) excluded.add(k);
      excluded.add(group.eventTime);
    }
  } catch (err) {
    throw new JobFailure(`cannot read ${dataset.featureView} to choose the default features: ${ConnectError.from(err).rawMessage}; list the features in the spec`);
  }
  return columns.filter((c) => !excluded.has(c.name) && isNumeric(c.type)).map((c) => c.name);
}

/**
 * The deployed (highest-weight) model scored on the same split with its own
 * features, after the fitted transformations of its own training dataset (what
 * online serving feeds it).
 */
async function scoreBaseline(deps: TrainingJobDeps, routes: { model: string; weight: number }[], evalFiles: string[], stored: Column[], spec: JobSpec, task: Task): Promise<Baseline | undefined> {
  const route = [...routes].sort((a, b) => b.weight - a.weight)[0];
  if (!route) return undefined;
  try {
    const model = (await deps.registry.getModel({ name: route.model })).model!;
    const features = model.inputs[0]?.features ?? [];
    if (model.inputs.length !== 1 || features.length === 0) return { model: route.model, problem: "it does not have one input filled by named features" };
    const path = model.artifactUri.startsWith("file://") ? fileURLToPath(model.artifactUri) : model.artifactUri;
    const bytes = new Uint8Array(await readFile(path));
    const own = model.trainingDataset ? (await deps.registry.getTrainingDataset({ name: model.trainingDataset })).trainingDataset! : undefined;
    const transformations = own ? await datasetTransformations(deps.registry, own, stored) : undefined;
    const split = await readSplit("baseline", evalFiles, spec.label, features, [], transformations);
    const scores = await scoreWithOnnx(bytes, split.x, split.rows, split.features, task);
    const gateMetric = spec.validationGate!.metric;
    const value = evaluate(task, split.y, scores, spec.evaluation?.classificationThreshold || 0.5)[gateMetric];
    return value === undefined ? { model: route.model, problem: `no "${gateMetric}" metric` } : { model: route.model, value };
  } catch (err) {
    return { model: route.model, problem: err instanceof Error ? err.message : String(err) };
  }
}
