// The view's model-dependent transformations with a training dataset's fitted
// parameters, compiled once per call (what a model trained on it sees).
import { parseName } from "@fti/aip";
import { FailedPreconditionError, InvalidArgumentError } from "@fti/errors";
import { TrainingDataset_State, type TrainingDataset } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { compileTransformations, type Column, type TransformationPipeline } from "@fti/transforms";
import type { OfflineQueryDeps } from "./historical-features.js";
import { names } from "./names.js";
import type { ViewPlan } from "./view-plan.js";

/** A dataset's compiled transformations and the columns they read (the only ones a batch must box for them). */
export interface FittedPipeline extends TransformationPipeline {
  readonly inputs: readonly string[];
}

/** The columns transformations may read: the view's outputs (on-demand included). */
export function transformationInputs(plan: ViewPlan): Column[] {
  return plan.outputs;
}

/** A READY training dataset; the registry is asked again when the cached copy is not READY yet. */
export async function readyTrainingDataset(deps: Pick<OfflineQueryDeps, "metadata">, name: string, field: string): Promise<TrainingDataset> {
  parseName(names.trainingDataset, name, field, ["version", "dataset"]);
  let td = await deps.metadata.trainingDataset(name);
  if (td.state !== TrainingDataset_State.READY) {
    deps.metadata.invalidate(name);
    td = await deps.metadata.trainingDataset(name);
  }
  if (td.state !== TrainingDataset_State.READY) throw new FailedPreconditionError(`${name} is not READY (${TrainingDataset_State[td.state]}); wait for its job to finish`);
  return td;
}

export function fittedPipeline(td: TrainingDataset, plan: ViewPlan): FittedPipeline {
  const pipeline = compileTransformations(td.fittedTransformations, transformationInputs(plan));
  return { ...pipeline, inputs: [...new Set(td.fittedTransformations.map((f) => f.transformation!.feature))] };
}

export async function loadFittedPipeline(deps: Pick<OfflineQueryDeps, "metadata">, plan: ViewPlan, name: string, field: string): Promise<FittedPipeline> {
  const td = await readyTrainingDataset(deps, name, field);
  if (td.featureView !== plan.view.name) throw InvalidArgumentError.field(field, `${name} belongs to ${td.featureView}, not ${plan.view.name}`);
  return fittedPipeline(td, plan);
}
