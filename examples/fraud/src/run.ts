// The whole fraud system, end to end, against a running platform. Each step
// is one FTI pipeline or one operator action, in the order a team would run
// them; `run` returns what happened and `formatSummary` prints it.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { DriftMetric } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { ValidationGateOutcome_Result } from "@fti/proto/fti/registry/v1/model_pb";
import type { Job } from "@fti/proto/fti/training/v1/training_pb";
import { sizes, timeline, type ExampleSettings } from "./config.js";
import { backfill, createStreamingPipeline, merchantDailyJob, type FeatureGroups } from "./feature-pipelines.js";
import { DAY_MS, generate } from "./generator.js";
import { batchInference, onlineInference, predict, pythonClient, type BatchResult, type OnlineResult, type PythonResult } from "./inference-pipelines.js";
import { applyDriftMonitor, createRetrainingTrigger, driftReport, waitForAlert, waitForRetraining, type DriftWindow } from "./operations.js";
import { connectPlatform, reason, waitFor, type Platform, type PlatformOptions } from "./platform.js";
import { createTrainingDataset, testDays, train } from "./training-pipeline.js";

const definitions = fileURLToPath(new URL("../definitions/", import.meta.url));

export interface RunOptions extends ExampleSettings {
  platform?: PlatformOptions;
  /** Progress lines. */
  log?: (line: string) => void;
  /** How long to wait for the monitor's alert and for the retraining. */
  alertTimeoutMs?: number;
  retrainTimeoutMs?: number;
}

export interface ModelSummary {
  name: string;
  auc: number;
  metrics: Record<string, number>;
  gate: string;
}

export interface Summary {
  project: string;
  size: string;
  seed: number;
  data: { cards: number; merchants: number; transactions: number; fraudRate: number };
  ingested: {
    batch: { transactions: number; cardActivity: number; merchantProfile: number };
    stream: { transactions: number; cardActivity: number };
    dailyMerchantProfile: number;
  };
  dataset: { name: string; splits: Record<string, number> };
  model: ModelSummary;
  deployment: { name: string; revision: number; model: string };
  online?: Omit<OnlineResult, "scores">;
  python?: PythonResult;
  batch?: BatchResult;
  drift?: {
    monitor: string;
    windows: DriftWindow[];
    alert?: { feature: string; metric: string; value: number; threshold: number; windows: number; raised: string };
  };
  retraining?: { job: string; trigger: string; dataset: string; splits: Record<string, number>; model: ModelSummary; baseline?: { model: string; auc: number }; deploymentUpdated: boolean; upgradedBy: "training runner (gate passed)" | "fti deploy (explicit)" };
  upgrade?: { revision: number; model: string; servedBy: string };
  rollback?: { revision: number; restoredRevision: number; model: string; servedBy: string };
  /** Anything that did not go as designed, in words. Empty on a clean run. */
  problems: string[];
  durationMs: number;
}

function modelSummary(job: Job): ModelSummary {
  const gate = job.validationGate;
  return {
    name: job.model,
    auc: job.metrics.auc ?? NaN,
    metrics: { ...job.metrics },
    gate: gate ? `${ValidationGateOutcome_Result[gate.result]!.toLowerCase()}: ${gate.message}` : "none",
  };
}

async function splitsOf(platform: Platform, name: string): Promise<Record<string, number>> {
  const { trainingDataset } = await platform.client.registry.getTrainingDataset({ name });
  return Object.fromEntries(trainingDataset!.splits.map((s) => [s.name, Number(s.rowCount)]));
}

/** Waits until Predict answers with `model` (the serving catalog swaps on registry events). */
async function servedBy(platform: Platform, deployment: string, txId: string, model: string, timeoutMs = 60_000): Promise<string> {
  return (await waitFor(`${deployment} to serve ${model}`, timeoutMs, async () => {
    const result = await predict(platform, deployment, txId, `probe-${Date.now()}`);
    return result.model === model ? result : undefined;
  }, 250)).model;
}

export async function run(options: RunOptions): Promise<Summary> {
  const log = options.log ?? (() => {});
  const problems: string[] = [];
  const project = options.project;
  const platform = await connectPlatform(options.platform);
  const step = (text: string) => log(`▸ ${text}`);
  const startMs = timeline.start.getTime();
  const { historyDays, liveDays } = timeline;
  try {
    // 1. Definitions.
    step(`project ${project}: fti apply definitions/feature-store`);
    await platform.client.registry.createProject({ projectId: project, project: { description: "real-time card fraud detection (examples/fraud)", owner: "risk-team" } }).catch((err) => {
      if (ConnectError.from(err).code !== Code.AlreadyExists) throw err;
    });
    const applied = await platform.cli(["apply", join(definitions, "feature-store"), "--project", project]);
    log(`    ${applied.stdout.trim().split("\n").filter((l) => l.trim()).pop()}`);
    const latest = async (kind: "featureGroups" | "featureViews", id: string) =>
      kind === "featureGroups"
        ? (await platform.client.registry.getFeatureGroup({ name: `projects/${project}/featureGroups/${id}/versions/latest` })).featureGroup!.name
        : (await platform.client.registry.getFeatureView({ name: `projects/${project}/featureViews/${id}/versions/latest` })).featureView!.name;
    const groups: FeatureGroups = { transactions: await latest("featureGroups", "transactions"), cardActivity: await latest("featureGroups", "card_activity"), merchantProfile: await latest("featureGroups", "merchant_profile") };
    const featureView = await latest("featureViews", "fraud_detection");

    // 2. Data.
    step(`generating ${options.size} synthetic data (seed ${options.seed}, drift ${options.drift ? "on" : "off"})`);
    const data = generate({ ...sizes[options.size], ...timeline, seed: options.seed, drift: options.drift });
    const inRange = data.transactions.filter((t) => t.day >= 0);
    const fraudRate = inRange.filter((t) => t.isFraud).length / inRange.length;
    log(`    ${data.cards} cards, ${data.merchants} merchants (${data.riskyMerchants} risky), ${inRange.length} transactions over ${historyDays} history + ${liveDays} live days, ${(fraudRate * 100).toFixed(2)}% fraud`);

    // 3. Batch feature pipeline.
    step("feature pipeline (batch): backfill of the history with DuckDB window functions → Ingest");
    const batch = await backfill(platform, groups, data.transactions, startMs, historyDays);
    log(`    transactions ${batch.transactions}, card_activity ${batch.cardActivity}, merchant_profile ${batch.merchantProfile} rows`);

    // 4. Training pipeline.
    step(`training dataset (offline-query): days 0–${historyDays - 1}, split by time (test = days ${historyDays - testDays}–${historyDays - 1})`);
    const dataset = await createTrainingDataset(platform, featureView, startMs, historyDays, `${project}-dataset-1`);
    const splits = Object.fromEntries(dataset.splits.map((s) => [s.name, Number(s.rowCount)]));
    log(`    ${dataset.name}: ${Object.entries(splits).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    step("training pipeline (training runner): GBDT → evaluation → registration");
    const firstJob = await train(platform, project, dataset, log);
    const model = modelSummary(firstJob);
    log(`    ${model.name}: test AUC ${model.auc.toFixed(3)}, gate ${model.gate}`);

    // 5. Deployment and monitoring.
    step("fti apply definitions/serving (deployment) and the drift monitor; training trigger on drift");
    log(`    ${(await platform.cli(["apply", join(definitions, "serving"), "--project", project])).stdout.trim().split("\n").pop()}`);
    const deploymentName = `projects/${project}/deployments/fraud_scoring`;
    const deployment = (await platform.client.registry.getDeployment({ name: deploymentName })).deployment!;
    log(`    ${(await applyDriftMonitor(platform, project, dataset.name)).trim().split("\n").pop()}`);
    const monitor = `projects/${project}/monitors/transaction_drift`;
    const trigger = await createRetrainingTrigger(platform, { project, monitor, featureView, deployment: deploymentName, startMs, days: historyDays + liveDays });
    log(`    ${trigger.name} fires on alerts of ${monitor}`);

    // 6. Streaming feature pipeline: the first live day.
    const history = data.transactions.filter((t) => t.tsMs < startMs + historyDays * DAY_MS);
    const stream = createStreamingPipeline(platform, project, groups, history, { seed: options.seed });
    let dailyMerchantProfile = 0;
    const liveDay = async (day: number) => {
      dailyMerchantProfile += await merchantDailyJob(platform, groups, data.transactions, startMs, day);
      const txs = data.transactions.filter((t) => t.tsMs >= startMs + day * DAY_MS && t.tsMs < startMs + (day + 1) * DAY_MS);
      const sent = await stream.publishDay(day, txs);
      const ingested = await stream.waitUntilIngested(180_000);
      log(`    day ${day}: published ${sent.transactions} transactions + ${sent.cardActivity} card_activity rows; committed so far ${ingested.transactions} + ${ingested.cardActivity}`);
      return txs;
    };
    step(`feature pipeline (streaming): live day ${historyDays} → NATS → ingestion`);
    const firstLive = await liveDay(historyDays);

    // 7. Inference pipelines.
    // Online features are each key's latest values, so a replayed day is scored where online
    // and point-in-time values coincide: each card's last transaction of the day.
    const lastOfCard = new Map<string, (typeof firstLive)[number]>();
    for (const t of firstLive) lastOfCard.set(t.cardId, t);
    const candidates = [...lastOfCard.values()].sort((a, b) => a.tsMs - b.tsMs);
    const sample = Array.from({ length: Math.min(options.predictCalls, candidates.length * 10) }, (_, i) => candidates[i % candidates.length]!);
    step(`online inference: ${sample.length} Predict calls, one transaction each (each card's latest)`);
    const online = await onlineInference(platform, deploymentName, sample);
    log(`    p50 ${online.p50Ms.toFixed(2)} ms, p99 ${online.p99Ms.toFixed(2)} ms, AUC on these ${Number.isNaN(online.auc) ? "n/a" : online.auc.toFixed(3)} (${online.model})`);
    let python: PythonResult | undefined;
    if (options.python) {
      step("online inference from Python (grpcio, stubs generated from proto/)");
      try {
        python = await pythonClient(platform.servingAddress, deploymentName, sample.slice(0, 5).map((t) => t.txId));
        log(`    ${python.predictions.map((p) => `${p.tx_id}=${p.fraud_probability.toFixed(3)}`).join(" ")} (${python.model})`);
        for (const p of python.predictions) {
          const ts = online.scores.get(p.tx_id);
          if (ts !== undefined && Math.abs(ts - p.fraud_probability) > 1e-6) problems.push(`Python and TypeScript Predict disagree on ${p.tx_id}: ${p.fraud_probability} vs ${ts}`);
        }
      } catch (err) {
        problems.push(`Python client failed: ${reason(err)}`);
      }
    }
    step(`batch inference: GetBatchData for day ${historyDays} → ONNX (onnxruntime-node) → Parquet`);
    const batchResult = await batchInference(platform, { featureView, model: model.name, startMs, day: historyDays, outputFile: join(options.outputDir, project, `predictions-day-${historyDays}.parquet`), labels: new Map(firstLive.map((t) => [t.txId, t.isFraud])), online: online.scores });
    log(`    ${batchResult.rows} rows → ${batchResult.file}; AUC ${batchResult.auc.toFixed(3)}; max |batch − online| ${batchResult.maxDifferenceFromOnline?.toExponential(2) ?? "n/a"} over ${batchResult.compared}`);
    if (batchResult.maxDifferenceFromOnline !== undefined && batchResult.maxDifferenceFromOnline > 1e-4)
      problems.push(`batch and online scores differ by up to ${batchResult.maxDifferenceFromOnline.toFixed(4)} for the same transactions`);

    const summary: Summary = {
      project,
      size: options.size,
      seed: options.seed,
      data: { cards: data.cards, merchants: data.merchants, transactions: inRange.length, fraudRate },
      ingested: { batch, stream: stream.published, dailyMerchantProfile },
      dataset: { name: dataset.name, splits },
      model,
      deployment: { name: deploymentName, revision: Number(deployment.revision), model: deployment.routes[0]?.model ?? "" },
      online: { calls: online.calls, p50Ms: online.p50Ms, p95Ms: online.p95Ms, p99Ms: online.p99Ms, auc: online.auc, model: online.model },
      python,
      batch: batchResult,
      problems,
      durationMs: 0,
    };

    // 8. The rest of the live days: drifted when drift is on.
    for (let day = historyDays + 1; day < historyDays + liveDays; day++) {
      step(`feature pipeline (streaming): live day ${day}${options.drift && day >= historyDays + liveDays - timeline.driftDays ? " (drifted)" : ""}`);
      await liveDay(day);
    }
    const committed = await stream.waitUntilIngested(60_000);
    summary.ingested.stream = committed;
    summary.ingested.dailyMerchantProfile = dailyMerchantProfile;

    // 9. Monitoring → alert → retraining → upgrade → rollback.
    const liveFrom = startMs + historyDays * DAY_MS;
    const liveTo = startMs + (historyDays + liveDays) * DAY_MS;
    if (!options.drift) {
      step("monitoring (no drift injected)");
      summary.drift = { monitor, windows: await driftReport(platform, monitor, liveFrom, liveTo).catch(() => []) };
      return summary;
    }
    step("monitoring: waiting for the drift alert");
    const alert = await waitForAlert(platform, monitor, options.alertTimeoutMs ?? 180_000).catch((err) => {
      problems.push(`no drift alert: ${reason(err)}`);
      return undefined;
    });
    const windows = await driftReport(platform, monitor, liveFrom, liveTo).catch((err) => (problems.push(`drift report failed: ${reason(err)}`), []));
    for (const w of windows) log(`    ${w.day}: ${w.status} (${w.rows} rows) ${w.worst}`);
    const last = alert?.evidence[alert.evidence.length - 1];
    summary.drift = {
      monitor,
      windows,
      alert:
        alert && last
          ? { feature: alert.feature, metric: last.metric.case === "driftMetric" ? DriftMetric[last.metric.value]!.toLowerCase() : String(last.metric.value), value: last.value, threshold: last.threshold, windows: alert.evidence.length, raised: timestampDate(alert.raiseTime!).toISOString() }
          : undefined,
    };
    if (!alert) return summary;
    log(`    alert on ${alert.feature}: ${summary.drift.alert!.metric} ${last!.value.toFixed(3)} > ${last!.threshold} in ${alert.evidence.length} consecutive windows`);

    step("retraining: the training runner's drift trigger");
    const retrainJob = await waitForRetraining(platform, project, trigger.name, log, options.retrainTimeoutMs ?? 420_000);
    const retrained = modelSummary(retrainJob);
    const gate = retrainJob.validationGate;
    log(`    ${retrained.name}: test AUC ${retrained.auc.toFixed(3)} (deployed ${gate?.baselineModel || "none"}: ${gate?.baselineValue?.toFixed(3) ?? "n/a"}), gate ${retrained.gate}`);
    let upgradedBy: "training runner (gate passed)" | "fti deploy (explicit)" = "training runner (gate passed)";
    if (!retrainJob.deploymentUpdated) {
      problems.push(`the retrained model did not pass its gate (${retrained.gate}), so the deployment was upgraded explicitly with fti deploy`);
      upgradedBy = "fti deploy (explicit)";
      await platform.cli(["deploy", "fraud_scoring", "--model", `fraud_gbdt@${retrained.name.split("/").pop()}`, "--project", project]);
    }
    summary.retraining = {
      job: retrainJob.name,
      trigger: trigger.name,
      dataset: retrainJob.trainingDataset,
      splits: await splitsOf(platform, retrainJob.trainingDataset),
      model: retrained,
      baseline: gate?.baselineModel ? { model: gate.baselineModel, auc: gate.baselineValue ?? NaN } : undefined,
      deploymentUpdated: retrainJob.deploymentUpdated,
      upgradedBy,
    };

    step("upgrade: Predict now answers with the retrained model");
    const probe = sample[0]!.txId;
    const upgraded = (await platform.client.registry.getDeployment({ name: deploymentName })).deployment!;
    summary.upgrade = { revision: Number(upgraded.revision), model: upgraded.routes[0]?.model ?? "", servedBy: await servedBy(platform, deploymentName, probe, retrained.name) };
    log(`    revision ${summary.upgrade.revision}: ${summary.upgrade.model}; Predict served by ${summary.upgrade.servedBy}`);

    step("rollback: fti rollback fraud_scoring");
    await platform.cli(["rollback", "fraud_scoring", "--project", project]);
    const rolledBack = (await platform.client.registry.getDeployment({ name: deploymentName })).deployment!;
    const { revisions } = await platform.client.registry.listDeploymentRevisions({ parent: deploymentName, pageSize: 100 });
    const current = revisions.find((r) => r.revision === rolledBack.revision);
    summary.rollback = {
      revision: Number(rolledBack.revision),
      restoredRevision: Number(current?.restoredRevision ?? 0),
      model: rolledBack.routes[0]?.model ?? "",
      servedBy: await servedBy(platform, deploymentName, probe, model.name).catch((err) => (problems.push(`after the rollback: ${reason(err)}`), "?")),
    };
    log(`    revision ${summary.rollback.revision} (restores ${summary.rollback.restoredRevision}): ${summary.rollback.model}; Predict served by ${summary.rollback.servedBy}`);
    return summary;
  } finally {
    await platform.close();
  }
}

/** Runs and stamps the duration. */
export async function runTimed(options: RunOptions): Promise<Summary> {
  const started = Date.now();
  const summary = await run(options);
  summary.durationMs = Date.now() - started;
  return summary;
}

const n = (x: number) => x.toLocaleString("en-US");
const f3 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "n/a" : x.toFixed(3));

export function formatSummary(s: Summary): string {
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(22)} ${value}`);
  lines.push("", `Fraud example — summary (project ${s.project}, size ${s.size}, seed ${s.seed})`, "");
  row("data", `${n(s.data.transactions)} transactions of ${n(s.data.cards)} cards at ${n(s.data.merchants)} merchants, ${(s.data.fraudRate * 100).toFixed(2)}% fraud`);
  row("ingested (batch)", `transactions ${n(s.ingested.batch.transactions)}, card_activity ${n(s.ingested.batch.cardActivity)}, merchant_profile ${n(s.ingested.batch.merchantProfile)} (+${n(s.ingested.dailyMerchantProfile)} by the daily job)`);
  row("ingested (stream)", `transactions ${n(s.ingested.stream.transactions)}, card_activity ${n(s.ingested.stream.cardActivity)} (NATS → ingestion)`);
  row("training dataset", `${s.dataset.name}: ${Object.entries(s.dataset.splits).map(([k, v]) => `${k} ${n(v)}`).join(", ")}`);
  row("model", `${s.model.name}: test AUC ${f3(s.model.auc)}; gate ${s.model.gate}`);
  row("deployment", `${s.deployment.name} revision ${s.deployment.revision} → ${s.deployment.model}`);
  if (s.online) row("online Predict", `${n(s.online.calls)} calls: p50 ${s.online.p50Ms.toFixed(2)} ms, p95 ${s.online.p95Ms.toFixed(2)} ms, p99 ${s.online.p99Ms.toFixed(2)} ms; AUC ${f3(s.online.auc)}`);
  if (s.python) row("Python client", `${s.python.predictions.length} predictions from ${s.python.model}, p50 ${s.python.latencyMs.p50.toFixed(2)} ms`);
  if (s.batch) row("batch inference", `${n(s.batch.rows)} rows → ${s.batch.file}; AUC ${f3(s.batch.auc)}; ${n(s.batch.flagged)} flagged (p ≥ 0.5)`);
  if (s.drift) {
    row("drift windows", s.drift.windows.length ? s.drift.windows.map((w) => `${w.day} ${w.status}`).join(", ") : "none judged");
    row("drift alert", s.drift.alert ? `${s.drift.alert.feature} ${s.drift.alert.metric} = ${s.drift.alert.value.toFixed(3)} > ${s.drift.alert.threshold} (${s.drift.alert.windows} windows in a row), raised ${s.drift.alert.raised}` : "none");
  }
  if (s.retraining) {
    row("retraining", `${s.retraining.job} (by ${s.retraining.trigger.split("/").pop()}): ${s.retraining.model.name}, test AUC ${f3(s.retraining.model.auc)} vs deployed ${f3(s.retraining.baseline?.auc)} on the same test day`);
    row("", `dataset ${s.retraining.dataset}: ${Object.entries(s.retraining.splits).map(([k, v]) => `${k} ${n(v)}`).join(", ")}; gate ${s.retraining.model.gate}`);
  }
  if (s.upgrade) row("upgrade", `revision ${s.upgrade.revision} → ${s.upgrade.model} (by ${s.retraining?.upgradedBy}); Predict served by ${s.upgrade.servedBy}`);
  if (s.rollback) row("rollback", `revision ${s.rollback.revision} restores revision ${s.rollback.restoredRevision} → ${s.rollback.model}; Predict served by ${s.rollback.servedBy}`);
  row("problems", s.problems.length ? s.problems.join("; ") : "none");
  row("took", `${(s.durationMs / 1000).toFixed(1)} s`);
  lines.push("");
  return lines.join("\n");
}
