// fti train: submit a training job and follow it (WatchJob) with a progress
// bar; fti jobs: list, show and cancel training jobs.
import { toJson } from "@bufbuild/protobuf";
import { randomUUID } from "node:crypto";
import { GradientBoostedTrees_Objective, JobSchema, JobSpec_DeploymentAction, type Job } from "@fti/proto/fti/training/v1/training_pb";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { JobSpecSchema } from "@fti/proto/fti/training/v1/training_pb";
import type { Command } from "../command.js";
import { str } from "../command.js";
import type { Context } from "../client.js";
import { UsageError } from "../exit-codes.js";
import { resourceNames as n, shortName, versionedName } from "../names.js";
import { formatFields, formatJson, formatTable, ProgressBar } from "../output.js";
import { explainRpcError } from "../rpc-errors.js";
import { isFinal, jobExitCode, jobStateNames } from "./jobs-common.js";
import { formatMetrics, time } from "./resource-kinds.js";

const trainers = ["gbdt", "logistic-regression", "linear-regression"] as const;

function trainerOf(text: string): MessageInitShape<typeof JobSpecSchema>["trainer"] {
  switch (text) {
    case "gbdt":
      return { case: "gbdt", value: { objective: GradientBoostedTrees_Objective.BINARY_CLASSIFICATION } };
    case "gbdt-regression":
      return { case: "gbdt", value: { objective: GradientBoostedTrees_Objective.REGRESSION } };
    case "logistic-regression":
      return { case: "logisticRegression", value: {} };
    case "linear-regression":
      return { case: "linearRegression", value: {} };
  }
  throw new UsageError(`--trainer "${text}": use ${trainers.join(", ")} or gbdt-regression`);
}

function printJob(ctx: Context, job: Job): void {
  if (ctx.format === "json") {
    ctx.io.stdout.write(formatJson(toJson(JobSchema, job)));
    return;
  }
  ctx.io.stdout.write(
    formatFields([
      ["job", job.name],
      ["state", jobStateNames[job.state] ?? "?"],
      ["training dataset", job.trainingDataset],
      ["model", job.model],
      ["metrics", formatMetrics(job.metrics)],
      ["gate", job.validationGate?.message ?? ""],
      ["deployment updated", job.deploymentUpdated ? "yes" : "no"],
      ...(job.failureReason ? [["failure", job.failureReason] as [string, string]] : []),
    ]),
  );
}

/** Follows a job to its end with a progress bar; log lines go to stderr. */
async function follow(ctx: Context, name: string): Promise<Job> {
  const bar = new ProgressBar(ctx.io.stderr, `training ${shortName(name)}`);
  let last: Job | undefined;
  try {
    for await (const message of ctx.client.training.watchJob({ name }, { timeoutMs: 0 })) {
      last = message.job!;
      for (const line of last.logLines) {
        bar.clear();
        ctx.io.stderr.write(`${line.text}\n`);
      }
      bar.update(last.progressPercent / 100, jobStateNames[last.state] ?? "");
      if (isFinal(last.state)) break;
    }
  } catch (err) {
    throw explainRpcError(err, ctx.callContext("training-runner"));
  } finally {
    bar.clear();
  }
  return last ?? (await ctx.call("training-runner", async (c) => (await c.training.getJob({ name })).job!));
}

export const trainCommand: Command = {
  name: "train",
  summary: "train a model on a feature view or training dataset (follows the job with a progress bar)",
  usage: "fti train --model <model> --label <column> (--feature-view <view[@version]> | --training-dataset <view@v/n>) [--trainer gbdt] [--gate-metric auc --gate-threshold 0.8] [--deployment <name> --deploy replace|shadow] [--seed N] [--no-wait]",
  options: {
    model: { type: "string", description: "the model to register the new version under" },
    label: { type: "string", description: "the label column" },
    "feature-view": { type: "string", description: "create a training dataset of this view first (random 80/20 train/test split)" },
    "training-dataset": { type: "string", description: "or train on this READY training dataset" },
    trainer: { type: "string", description: `${trainers.join(", ")} or gbdt-regression (default gbdt)` },
    "gate-metric": { type: "string", description: "validation gate metric, e.g. auc" },
    "gate-threshold": { type: "string", description: "the metric must be at least (or for errors at most) this" },
    deployment: { type: "string", description: "the deployment whose model is the gate's baseline" },
    deploy: { type: "string", description: "when the gate passes: replace (100% traffic) or shadow" },
    seed: { type: "string", description: "seed of every random choice (default 0)" },
    "no-wait": { type: "boolean", description: "print the job and return without following it" },
  },
  async run(ctx, { values }) {
    const model = str(values.model);
    const label = str(values.label);
    if (!model || !label) throw new UsageError("--model and --label are required");
    const view = str(values["feature-view"]);
    const dataset = str(values["training-dataset"]);
    if (!view === !dataset) throw new UsageError("pass one of --feature-view or --training-dataset");
    const project = ctx.requireProject();
    const seed = str(values.seed) ?? "0";
    if (!/^-?\d+$/.test(seed)) throw new UsageError("--seed must be a whole number");
    const gateThreshold = str(values["gate-threshold"]);
    const deploy = str(values.deploy);
    if (deploy && !["replace", "shadow"].includes(deploy)) throw new UsageError("--deploy must be replace or shadow");
    if (deploy && !values.deployment) throw new UsageError("--deploy needs --deployment");
    const spec: MessageInitShape<typeof JobSpecSchema> = {
      label,
      model: n.modelFamily(project, model),
      trainer: trainerOf(str(values.trainer) ?? "gbdt"),
      seed: BigInt(seed),
      dataset: dataset
        ? { case: "trainingDataset", value: dataset.startsWith("projects/") ? dataset : `${versionedName(dataset.split("/")[0]!, () => project, n.featureView)}/trainingDatasets/${dataset.split("/")[1] ?? ""}` }
        : { case: "newTrainingDataset", value: { featureView: versionedName(view!, () => project, n.featureView) } },
      validationGate: values["gate-metric"] ? { metric: str(values["gate-metric"])!, threshold: gateThreshold === undefined ? undefined : Number(gateThreshold) } : undefined,
      deployment: str(values.deployment) ? n.deployment(project, str(values.deployment)!) : "",
      deploymentAction: deploy === "replace" ? JobSpec_DeploymentAction.REPLACE : deploy === "shadow" ? JobSpec_DeploymentAction.SHADOW : JobSpec_DeploymentAction.UNSPECIFIED,
    };
    const job = (await ctx.call("training-runner", (c) => c.training.submitJob({ parent: n.project(project), spec, requestId: randomUUID() }))).job!;
    if (values["no-wait"]) {
      printJob(ctx, job);
      return 0;
    }
    const done = await follow(ctx, job.name);
    printJob(ctx, done);
    return jobExitCode(done.state);
  },
};


export const jobsCommand: Command = {
  name: "jobs",
  summary: "list training jobs, or show / follow / cancel one",
  usage: "fti jobs [list] [--state RUNNING] | fti jobs get <job> | fti jobs watch <job> | fti jobs cancel <job>",
  options: { state: { type: "string", description: "list only jobs in this state (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)" } },
  async run(ctx, { positionals, values }) {
    const [action = "list", id] = positionals;
    const project = ctx.requireProject();
    const jobName = () => {
      if (!id) throw new UsageError(`which job? \`fti jobs ${action} <job>\` (\`fti jobs\` lists them)`);
      return id.startsWith("projects/") ? id : n.trainingJob(project, id);
    };
    switch (action) {
      case "list": {
        const state = str(values.state);
        const jobs = (await ctx.call("training-runner", (c) => c.training.listJobs({ parent: n.project(project), pageSize: 100, filter: state ? `state = "${state.toUpperCase()}"` : "" }))).jobs;
        if (ctx.format === "json") ctx.io.stdout.write(formatJson(jobs.map((j) => toJson(JobSchema, j))));
        else ctx.io.stdout.write(jobs.length ? formatTable(["JOB", "STATE", "PROGRESS", "MODEL", "METRICS", "CREATED"], jobs.map((j) => [shortName(j.name), jobStateNames[j.state] ?? "?", `${Math.floor(j.progressPercent)}%`, shortName(j.model), formatMetrics(j.metrics), time(j.createTime)])) : `No training jobs in project ${project}.\n`);
        return 0;
      }
      case "get": {
        const name = jobName();
        printJob(ctx, (await ctx.call("training-runner", (c) => c.training.getJob({ name }), "fti jobs")).job!);
        return 0;
      }
      case "watch": {
        const done = await follow(ctx, jobName());
        printJob(ctx, done);
        return jobExitCode(done.state);
      }
      case "cancel": {
        const name = jobName();
        printJob(ctx, (await ctx.call("training-runner", (c) => c.training.cancelJob({ name }), "fti jobs")).job!);
        return 0;
      }
    }
    throw new UsageError(`unknown action "${action}": list, get, watch or cancel`);
  },
};
