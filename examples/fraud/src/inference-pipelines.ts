// Inference pipelines: online (Predict per transaction, from TypeScript and
// from Python) and batch (GetBatchData → the registered ONNX model with
// onnxruntime-node → Parquet).
import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { recordBatchToRows } from "@fti/client";
import { recordBatchMessage } from "@fti/record-batch";
import type { Row } from "@fti/schema";
import * as ort from "onnxruntime-node";
import { DAY_MS } from "./generator.js";
import type { Platform } from "./platform.js";

const exampleRoot = fileURLToPath(new URL("..", import.meta.url));

/** Area under the ROC curve (ties averaged). */
export function auc(labels: readonly boolean[], scores: readonly number[]): number {
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  let rankSumPositive = 0;
  let positives = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j]![0] === order[i]![0]) j++;
    const rank = (i + j + 1) / 2;
    for (let k = i; k < j; k++) if (labels[order[k]![1]]) (rankSumPositive += rank), positives++;
    i = j;
  }
  const negatives = labels.length - positives;
  return positives && negatives ? (rankSumPositive - (positives * (positives + 1)) / 2) / (positives * negatives) : NaN;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface PredictResult {
  model: string;
  revision: number;
  probability: number;
}

/** Scores one transaction with the deployment. */
export async function predict(platform: Platform, deployment: string, txId: string, requestId?: string): Promise<PredictResult> {
  const response = await platform.client.serving.predict({
    deployment,
    entities: recordBatchMessage(1, [{ name: "tx_id", type: "string", values: [txId] }]),
    requestId: requestId ?? txId,
  });
  const row = recordBatchToRows(response.outputs!)[0]!;
  const probabilities = row.probabilities as Float32Array | number[];
  return { model: response.model, revision: Number(response.deploymentRevision), probability: Number(probabilities[1]) };
}

export interface OnlineResult {
  calls: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  auc: number;
  model: string;
  /** tx id → probability, to compare with batch inference. */
  scores: Map<string, number>;
}

/** One Predict per transaction, sequentially, as a payment gateway would call it. */
export async function onlineInference(platform: Platform, deployment: string, transactions: { txId: string; isFraud: boolean }[]): Promise<OnlineResult> {
  // Warm the connection and the model before measuring.
  for (const t of transactions.slice(0, 5)) await predict(platform, deployment, t.txId);
  const latencies: number[] = [];
  const scores = new Map<string, number>();
  let model = "";
  for (const t of transactions) {
    const started = performance.now();
    const result = await predict(platform, deployment, t.txId);
    latencies.push(performance.now() - started);
    scores.set(t.txId, result.probability);
    model = result.model;
  }
  latencies.sort((a, b) => a - b);
  return {
    calls: latencies.length,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    auc: auc(transactions.map((t) => t.isFraud), transactions.map((t) => scores.get(t.txId)!)),
    model,
    scores,
  };
}

export interface BatchResult {
  rows: number;
  file: string;
  auc: number;
  flagged: number;
  /** Largest |batch − online| probability over the transactions scored both ways. */
  maxDifferenceFromOnline: number | undefined;
  compared: number;
}

/**
 * Batch inference over one day: GetBatchData streams the feature view's
 * vectors (point-in-time correct), the model version's ONNX file scores them
 * with onnxruntime-node, and DuckDB writes the predictions to Parquet.
 */
export async function batchInference(platform: Platform, options: { featureView: string; model: string; startMs: number; day: number; outputFile: string; labels: Map<string, boolean>; online?: Map<string, number> }): Promise<BatchResult> {
  const { model } = await platform.client.registry.getModel({ name: options.model });
  const input = model!.inputs[0]!;
  const rows: Row[] = [];
  for await (const message of platform.client.offline.getBatchData({
    featureView: options.featureView,
    entities: { case: "eventTimeRange", value: { startTime: timestampFromMs(options.startMs + options.day * DAY_MS), endTime: timestampFromMs(options.startMs + (options.day + 1) * DAY_MS) } },
  })) {
    if (message.batch) rows.push(...recordBatchToRows(message.batch));
  }
  const width = input.features.length;
  const x = new Float32Array(rows.length * width);
  rows.forEach((row, i) => input.features.forEach((f, j) => (x[i * width + j] = row[f] === null || row[f] === undefined ? NaN : Number(row[f]))));
  const session = await ort.InferenceSession.create(fileURLToPath(model!.artifactUri));
  let probabilities: number[] = [];
  try {
    if (rows.length) {
      const out = await session.run({ [input.name]: new ort.Tensor("float32", x, [rows.length, width]) });
      const p = out.probabilities!.data as Float32Array;
      probabilities = rows.map((_, i) => p[i * 2 + 1]!);
    }
  } finally {
    await session.release();
  }

  await mkdir(dirname(options.outputFile), { recursive: true });
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run("CREATE TABLE predictions (tx_id VARCHAR, ts TIMESTAMP, card_id VARCHAR, amount DOUBLE, fraud_probability DOUBLE, is_fraud BOOLEAN, model VARCHAR)");
    const appender = await connection.createAppender("predictions");
    const { DuckDBTimestampValue } = await import("@duckdb/node-api");
    rows.forEach((row, i) => {
      appender.appendVarchar(String(row.tx_id));
      appender.appendTimestamp(new DuckDBTimestampValue(BigInt((row.ts as Date).getTime()) * 1000n));
      appender.appendVarchar(String(row.card_id));
      appender.appendDouble(Number(row.amount));
      appender.appendDouble(probabilities[i]!);
      const label = options.labels.get(String(row.tx_id));
      if (label === undefined) appender.appendNull();
      else appender.appendBoolean(label);
      appender.appendVarchar(options.model);
      appender.endRow();
    });
    appender.closeSync();
    await connection.run(`COPY predictions TO '${resolve(options.outputFile).replace(/'/g, "''")}' (FORMAT parquet)`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }

  let maxDifference: number | undefined;
  let compared = 0;
  if (options.online) {
    rows.forEach((row, i) => {
      const online = options.online!.get(String(row.tx_id));
      if (online === undefined) return;
      compared++;
      maxDifference = Math.max(maxDifference ?? 0, Math.abs(online - probabilities[i]!));
    });
  }
  // Batch data carries features, not labels: the chargebacks known by now score the predictions.
  const labels = rows.map((r) => options.labels.get(String(r.tx_id)) === true);
  return { rows: rows.length, file: options.outputFile, auc: auc(labels, probabilities), flagged: probabilities.filter((p) => p >= 0.5).length, maxDifferenceFromOnline: maxDifference, compared };
}

export interface PythonResult {
  model: string;
  predictions: { tx_id: string; fraud_probability: number }[];
  latencyMs: { p50: number; max: number };
}

/** Runs python/predict.py (grpcio, stubs generated from proto/ at run time). */
export async function pythonClient(servingAddress: string, deployment: string, txIds: string[], python = "/usr/bin/python3"): Promise<PythonResult> {
  const script = join(exampleRoot, "python", "predict.py");
  const protoDir = resolve(exampleRoot, "..", "..", "proto");
  const { stdout } = await promisify(execFile)(python, [script, "--proto-dir", protoDir, "--target", servingAddress, "--deployment", deployment, ...txIds], { timeout: 60_000 });
  const out = JSON.parse(stdout.trim().split("\n").pop()!);
  return { model: out.model, predictions: out.predictions, latencyMs: out.latency_ms };
}
