// The training pipeline: a point-in-time-correct training dataset built by
// offline-query (split by time: the last day is the test set), then a GBDT
// trained, evaluated and registered by the training runner.
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { JobState } from "@fti/proto/fti/common/v1/types_pb";
import type { TrainingDataset } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { TrainingDataset_State } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { GradientBoostedTrees_Objective, type Job, type JobSpecSchema } from "@fti/proto/fti/training/v1/training_pb";
import { DAY_MS } from "./generator.js";
import { sleep, waitFor, type Platform } from "./platform.js";

/** The model's inputs: the view's numeric output columns (raw; trees need no scaling). */
export const modelFeatures = [
  "amount",
  "hour",
  "card_tx_count_10m",
  "card_tx_count_1h",
  "card_tx_count_1d",
  "card_amount_sum_10m",
  "card_amount_sum_1h",
  "card_amount_sum_1d",
  "card_amount_avg_7d",
  "card_seconds_since_prev",
  "merchant_tx_count_7d",
  "merchant_amount_avg_7d",
  "merchant_fraud_rate_7d",
  "amount_to_card_avg",
  "amount_to_merchant_avg",
  "is_night",
];

export const gbdt = { objective: GradientBoostedTrees_Objective.BINARY_CLASSIFICATION, numTrees: 80, maxDepth: 5, learningRate: 0.15, minSamplesLeaf: 10 };

/** Days at the end of the first dataset that form its "test" split. */
export const testDays = 2;

/** A time-split dataset spec: rows of days [0, days), the last `testDays` are "test". */
export function datasetSpec(startMs: number, days: number, testDays: number) {
  const at = (day: number) => timestampFromMs(startMs + day * DAY_MS);
  return {
    description: `transactions of days 0–${days - 1}; days ${days - testDays}–${days - 1} are the test split`,
    rows: { case: "eventTimeRange" as const, value: { startTime: at(0), endTime: at(days) } },
    split: {
      kind: {
        case: "time" as const,
        value: {
          ranges: [
            { name: "train", range: { startTime: at(0), endTime: at(days - testDays) } },
            { name: "test", range: { startTime: at(days - testDays), endTime: at(days) } },
          ],
        },
      },
    },
  };
}

export async function createTrainingDataset(platform: Platform, featureView: string, startMs: number, days: number, requestId: string): Promise<TrainingDataset> {
  const { job } = await platform.client.offline.createTrainingDataset({ parent: featureView, trainingDataset: datasetSpec(startMs, days, testDays), requestId });
  const done = await waitFor("the training dataset job", 300_000, async () => {
    const current = (await platform.client.offline.getTrainingDatasetJob({ name: job!.name })).job!;
    return current.state === JobState.SUCCEEDED || current.state === JobState.FAILED || current.state === JobState.CANCELLED ? current : undefined;
  }, 300);
  if (done.state !== JobState.SUCCEEDED) throw new Error(`training dataset job ${done.name} ${JobState[done.state]}: ${done.failureReason}`);
  const { trainingDataset } = await platform.client.registry.getTrainingDataset({ name: done.trainingDataset });
  if (trainingDataset!.state !== TrainingDataset_State.READY) throw new Error(`${done.trainingDataset} is ${TrainingDataset_State[trainingDataset!.state]}`);
  return trainingDataset!;
}

export function jobSpec(options: { project: string; dataset: MessageInitShape<typeof JobSpecSchema>["dataset"]; description: string; deployment?: string }): MessageInitShape<typeof JobSpecSchema> {
  return {
    description: options.description,
    dataset: options.dataset,
    label: "is_fraud",
    features: modelFeatures,
    trainer: { case: "gbdt", value: gbdt },
    seed: 7n,
    evaluation: { split: "test" },
    validationGate: { metric: "auc", threshold: 0.75, maxRegression: 0.02 },
    model: `projects/${options.project}/models/fraud_gbdt`,
    modelTags: { pipeline: "examples/fraud" },
    ...(options.deployment ? { deployment: options.deployment, deploymentAction: 2 /* REPLACE */ } : {}),
    timeout: { seconds: 900n },
  };
}

/** Follows a training job to its end, logging its progress. */
export async function followJob(platform: Platform, name: string, log: (line: string) => void, timeoutMs = 600_000): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  let lastProgress = -1;
  for (;;) {
    const { job } = await platform.client.training.getJob({ name });
    const progress = Math.floor(job!.progressPercent / 25) * 25;
    if (progress > lastProgress && job!.state === JobState.RUNNING) {
      log(`    ${name}: ${JobState[job!.state]} ${Math.round(job!.progressPercent)}%`);
      lastProgress = progress;
    }
    if (job!.state === JobState.SUCCEEDED || job!.state === JobState.FAILED || job!.state === JobState.CANCELLED) return job!;
    if (Date.now() > deadline) throw new Error(`training job ${name} still ${JobState[job!.state]} after ${timeoutMs / 1000}s`);
    await sleep(500);
  }
}

export async function train(platform: Platform, project: string, dataset: TrainingDataset, log: (line: string) => void): Promise<Job> {
  const { job } = await platform.client.training.submitJob({
    parent: `projects/${project}`,
    spec: jobSpec({ project, dataset: { case: "trainingDataset", value: dataset.name }, description: "first model, trained on the backfilled history" }),
    requestId: `${project}-first-model`,
  });
  log(`    submitted ${job!.name}`);
  const done = await followJob(platform, job!.name, log);
  if (done.state !== JobState.SUCCEEDED) throw new Error(`training job ${done.name} ${JobState[done.state]}: ${done.failureReason}\n${done.logLines.map((l) => l.text).join("\n")}`);
  return done;
}
