// Checks a JobSpec before a job is queued (INVALID_ARGUMENT with every bad
// field) and resolves its defaults, so the runner works from plain settings.
import { durationMs } from "@bufbuild/protobuf/wkt";
import type { FieldViolation } from "@fti/errors";
import { GradientBoostedTrees_Objective as Objective, JobSpec_DeploymentAction as DeploymentAction, type JobSpec } from "@fti/proto/fti/training/v1/training_pb";
import { names, projectIdOf } from "./names.js";
import type { Task } from "./trainers/trainer.js";
import type { GbdtParams } from "./trainers/gbdt.js";
import type { LinearRegressionParams } from "./trainers/linear-regression.js";
import type { LogisticRegressionParams } from "./trainers/logistic-regression.js";

export type TrainerSettings =
  | { algorithm: "logistic_regression"; task: "classification"; params: LogisticRegressionParams }
  | { algorithm: "linear_regression"; task: "regression"; params: LinearRegressionParams }
  | { algorithm: "gbdt"; task: Task; params: GbdtParams }
  | { algorithm: "external" };

const SIX_HOURS_MS = 6 * 3600_000;

/** Every violation of `spec` as submitted under `project`, with field paths from `prefix`. */
export function jobSpecViolations(spec: JobSpec | undefined, project: string, prefix = "spec"): FieldViolation[] {
  if (!spec) return [{ field: prefix, description: "is required" }];
  const v: FieldViolation[] = [];
  const bad = (field: string, description: string) => v.push({ field: `${prefix}.${field}`, description });
  const sameProject = (field: string, name: string) => projectIdOf(name) !== project && bad(field, `must be in project "${project}"`);

  if (spec.dataset.case === "trainingDataset") {
    if (!names.trainingDataset.match(spec.dataset.value)) bad("training_dataset", `must be "${names.trainingDataset.pattern}"`);
    else sameProject("training_dataset", spec.dataset.value);
  } else if (spec.dataset.case === "newTrainingDataset") {
    const fv = spec.dataset.value.featureView;
    if (!names.featureView.match(fv)) bad("new_training_dataset.feature_view", `must be "${names.featureView.pattern}"`);
    else sameProject("new_training_dataset.feature_view", fv);
  } else bad("dataset", "set training_dataset or new_training_dataset");

  if (spec.label === "") bad("label", "is required");
  const seen = new Set<string>();
  spec.features.forEach((f, i) => {
    if (f === "") bad(`features[${i}]`, "is empty");
    if (f === spec.label) bad(`features[${i}]`, `"${f}" is the label`);
    if (seen.has(f)) bad(`features[${i}]`, `"${f}" is listed twice`);
    seen.add(f);
  });

  const t = spec.trainer;
  switch (t.case) {
    case "logisticRegression":
      if (t.value.learningRate < 0 || !Number.isFinite(t.value.learningRate)) bad("logistic_regression.learning_rate", "must be > 0 (0 means 0.1)");
      if (t.value.maxIterations > 10_000) bad("logistic_regression.max_iterations", "must be 1..10000 (0 means 100)");
      if (!(t.value.l2 >= 0)) bad("logistic_regression.l2", "must be >= 0");
      break;
    case "linearRegression":
      if (!(t.value.l2 >= 0)) bad("linear_regression.l2", "must be >= 0");
      break;
    case "gbdt":
      if (t.value.objective !== Objective.BINARY_CLASSIFICATION && t.value.objective !== Objective.REGRESSION) bad("gbdt.objective", "must be OBJECTIVE_BINARY_CLASSIFICATION or OBJECTIVE_REGRESSION");
      if (t.value.numTrees > 10_000) bad("gbdt.num_trees", "must be 1..10000 (0 means 100)");
      if (t.value.maxDepth > 16) bad("gbdt.max_depth", "must be 1..16 (0 means 6)");
      if (!(t.value.learningRate >= 0 && t.value.learningRate <= 1)) bad("gbdt.learning_rate", "must be in (0, 1] (0 means 0.1)");
      if (t.value.minSamplesLeaf > 1_000_000) bad("gbdt.min_samples_leaf", "must be 1..1000000 (0 means 20)");
      if (!(t.value.l2 >= 0)) bad("gbdt.l2", "must be >= 0");
      break;
    case "external":
      if (t.value.command.length === 0 || t.value.command[0] === "") bad("external.command", "is required: the program and its arguments");
      for (const key of Object.keys(t.value.env)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) bad(`external.env[${key}]`, "is not a valid environment variable name");
      break;
    default:
      bad("trainer", "set logistic_regression, linear_regression, gbdt or external");
  }

  if (!names.modelFamily.match(spec.model)) bad("model", `is required, as "${names.modelFamily.pattern}"`);
  else sameProject("model", spec.model);
  if (spec.deployment !== "") {
    if (!names.deployment.match(spec.deployment)) bad("deployment", `must be "${names.deployment.pattern}"`);
    else sameProject("deployment", spec.deployment);
  }
  const acts = spec.deploymentAction === DeploymentAction.REPLACE || spec.deploymentAction === DeploymentAction.SHADOW;
  if (acts && spec.deployment === "") bad("deployment_action", "needs a deployment");
  if (acts && !spec.validationGate) bad("deployment_action", "needs a validation_gate: only a model that passed it is deployed");
  if (spec.validationGate) {
    if (spec.validationGate.metric === "") bad("validation_gate.metric", "is required, e.g. auc or rmse");
    if (!(spec.validationGate.maxRegression >= 0)) bad("validation_gate.max_regression", "must be >= 0");
  }
  const ev = spec.evaluation;
  if (ev && !(ev.classificationThreshold >= 0 && ev.classificationThreshold < 1)) bad("evaluation.classification_threshold", "must be in (0, 1) (0 means 0.5)");
  if (spec.timeout && durationMs(spec.timeout) <= 0) bad("timeout", "must be positive");
  return v;
}

/** The trainer with defaults applied; the task is what the job evaluates. */
export function trainerSettings(spec: JobSpec): TrainerSettings {
  const t = spec.trainer;
  switch (t.case) {
    case "logisticRegression":
      return { algorithm: "logistic_regression", task: "classification", params: { learningRate: t.value.learningRate || 0.1, maxIterations: t.value.maxIterations || 100, l2: t.value.l2 } };
    case "linearRegression":
      return { algorithm: "linear_regression", task: "regression", params: { l2: t.value.l2 } };
    case "gbdt": {
      const objective = t.value.objective === Objective.REGRESSION ? "regression" : "binary";
      return {
        algorithm: "gbdt",
        task: objective === "binary" ? "classification" : "regression",
        params: { objective, numTrees: t.value.numTrees || 100, maxDepth: t.value.maxDepth || 6, learningRate: t.value.learningRate || 0.1, minSamplesLeaf: t.value.minSamplesLeaf || 20, l2: t.value.l2 },
      };
    }
    case "external":
      // Its task is read from the model's outputs once it exists.
      return { algorithm: "external" };
    default:
      throw new Error("unreachable: the spec was validated");
  }
}

export const timeoutMsOf = (spec: JobSpec) => (spec.timeout ? durationMs(spec.timeout) : SIX_HOURS_MS);
