// The validation gate: the new model's metric against an absolute bound and
// against the model version currently deployed (its highest-weight route),
// scored on the same evaluation split.
import { create } from "@bufbuild/protobuf";
import { ValidationGateOutcome_Result as Result, ValidationGateOutcomeSchema, type ValidationGateOutcome } from "@fti/proto/fti/registry/v1/model_pb";
import type { ValidationGate } from "@fti/proto/fti/training/v1/training_pb";
import { errorMetrics, isWorse } from "./evaluation.js";

export interface Baseline {
  model: string;
  /** The baseline's metric on the same split; undefined when it could not be scored. */
  value?: number;
  /** Why it could not be scored. */
  problem?: string;
}

export function judgeGate(gate: ValidationGate | undefined, metrics: Record<string, number>, baseline: Baseline | undefined): ValidationGateOutcome {
  if (!gate) return create(ValidationGateOutcomeSchema, { result: Result.SKIPPED, message: "no validation gate configured" });
  const metric = gate.metric;
  const value = metrics[metric];
  const outcome = create(ValidationGateOutcomeSchema, { metric, value: value ?? 0, baselineModel: baseline?.model ?? "" });
  if (baseline?.value !== undefined) outcome.baselineValue = baseline.value;
  const fail = (message: string) => Object.assign(outcome, { result: Result.FAILED, message });
  if (value === undefined) return fail(`the model has no "${metric}" metric (it has ${Object.keys(metrics).join(", ")})`);
  const lowerIsBetter = errorMetrics.has(metric);
  if (gate.threshold !== undefined && isWorse(metric, value, gate.threshold))
    return fail(`${metric} ${value.toFixed(4)} is ${lowerIsBetter ? "above" : "below"} the threshold ${gate.threshold}`);
  if (baseline) {
    if (baseline.value === undefined) return fail(`the deployed model ${baseline.model} could not be scored on the same split: ${baseline.problem}`);
    const allowed = lowerIsBetter ? baseline.value + gate.maxRegression : baseline.value - gate.maxRegression;
    if (isWorse(metric, value, allowed))
      return fail(`${metric} ${value.toFixed(4)} is worse than the deployed ${baseline.model}'s ${baseline.value.toFixed(4)} by more than ${gate.maxRegression}`);
  }
  return Object.assign(outcome, {
    result: Result.PASSED,
    message: baseline ? `${metric} ${value.toFixed(4)} vs deployed ${baseline.value!.toFixed(4)}` : `${metric} ${value.toFixed(4)}${gate.threshold !== undefined ? ` meets ${gate.threshold}` : ""}; no deployed baseline`,
  });
}
