// Operating the model in production: the drift monitor (rendered from
// definitions/drift-monitor.yaml.tmpl and applied with `fti apply`), the
// training runner's drift trigger, the alert, the retraining it starts, the
// deployment upgrade and the one-call rollback.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { JobState } from "@fti/proto/fti/common/v1/types_pb";
import { Alert_State, DriftMetric, DriftStatus, type Alert } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import type { Job } from "@fti/proto/fti/training/v1/training_pb";
import { datasetSpec, followJob, jobSpec } from "./training-pipeline.js";
import { waitFor, type Platform } from "./platform.js";

const definitions = fileURLToPath(new URL("../definitions/", import.meta.url));

/** Renders the monitor definition with its reference dataset and applies it with the CLI. */
export async function applyDriftMonitor(platform: Platform, project: string, trainingDataset: string): Promise<string> {
  const template = await readFile(join(definitions, "drift-monitor.yaml.tmpl"), "utf8");
  const dir = await mkdtemp(join(tmpdir(), "fraud-monitor-"));
  try {
    await writeFile(join(dir, "drift-monitor.yaml"), template.replaceAll("{{training_dataset}}", trainingDataset));
    const { stdout } = await platform.cli(["apply", dir, "--project", project]);
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The training runner's trigger: a drift alert of the monitor submits a job
 * that builds a fresh dataset over everything ingested so far (train: every
 * day but the last, drifted days included; test: the last day), trains, gates
 * against the deployed model on that same test day, and replaces the
 * deployment's model when the gate passes.
 */
export async function createRetrainingTrigger(platform: Platform, options: { project: string; monitor: string; featureView: string; deployment: string; startMs: number; days: number }) {
  const { trigger } = await platform.client.training.createTrigger({
    parent: `projects/${options.project}`,
    triggerId: "retrain_on_drift",
    trigger: {
      description: "retrain the fraud model when live transactions drift",
      event: { case: "driftAlert", value: { monitor: options.monitor } },
      debounce: { seconds: 3n },
      jobSpec: jobSpec({
        project: options.project,
        // The last day is the test split, so the drifted day before it is learned from.
        dataset: { case: "newTrainingDataset", value: { featureView: options.featureView, spec: datasetSpec(options.startMs, options.days, 1) } },
        description: "retrained after a drift alert, on history and live days",
        deployment: options.deployment,
      }),
    },
  });
  return trigger!;
}

export interface DriftWindow {
  day: string;
  rows: number;
  status: string;
  worst: string;
}

/** The monitor's verdict per daily window, with its largest score. */
export async function driftReport(platform: Platform, monitor: string, fromMs: number, toMs: number): Promise<DriftWindow[]> {
  const { timestampFromMs } = await import("@bufbuild/protobuf/wkt");
  const report = await platform.client.monitoring.getDriftReport({ monitor, timeRange: { startTime: timestampFromMs(fromMs), endTime: timestampFromMs(toMs) } });
  return report.windows.map((w) => {
    let worst = "";
    let worstRatio = -1;
    for (const f of w.features)
      for (const s of f.scores) {
        if (s.value === undefined) continue;
        const ratio = s.metric === DriftMetric.CHI_SQUARE ? s.threshold / Math.max(s.value, 1e-9) : s.value / s.threshold;
        if (ratio > worstRatio) {
          worstRatio = ratio;
          worst = `${f.feature} ${DriftMetric[s.metric]!.toLowerCase()}=${s.value.toFixed(3)} (threshold ${s.threshold})`;
        }
      }
    return { day: timestampDate(w.window!.startTime!).toISOString().slice(0, 10), rows: Number(w.rowCount), status: DriftStatus[w.status]!, worst };
  });
}

export async function waitForAlert(platform: Platform, monitor: string, timeoutMs: number): Promise<Alert> {
  return waitFor("a drift alert", timeoutMs, async () => {
    const { alerts } = await platform.client.monitoring.listAlerts({ parent: monitor });
    return alerts.find((a) => a.state === Alert_State.FIRING);
  }, 500);
}

/** The job the trigger submitted, followed to its end. */
export async function waitForRetraining(platform: Platform, project: string, trigger: string, log: (line: string) => void, timeoutMs: number): Promise<Job> {
  const submitted = await waitFor("the training runner's trigger to submit a job", timeoutMs, async () => {
    const { jobs } = await platform.client.training.listJobs({ parent: `projects/${project}`, filter: `trigger = "${trigger}"` });
    return jobs[0];
  }, 500);
  log(`    trigger submitted ${submitted.name}`);
  const job = await followJob(platform, submitted.name, log, timeoutMs);
  if (job.state !== JobState.SUCCEEDED) throw new Error(`retraining job ${job.name} ${JobState[job.state]}: ${job.failureReason}\n${job.logLines.map((l) => l.text).join("\n")}`);
  return job;
}
