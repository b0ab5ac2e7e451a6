// `make demo` in small: the whole fraud example against all six services
// started in this process (their own schemas, NATS names and offline root).
// It checks what the demo's summary promises a user: rows went in by batch
// and by stream, a model good enough to use, online and batch scores that
// agree, the injected drift raising an alert, the alert retraining and
// upgrading the deployment, and a rollback restoring the previous revision.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { freshProjectName } from "../src/config.js";
import { formatSummary, runTimed, type Summary } from "../src/run.js";
import { startPlatform, type InProcessPlatform } from "./platform.js";

const python = existsSync("/usr/bin/python3");

describe("the fraud example (small)", () => {
  let platform: InProcessPlatform;
  let summary: Summary;
  const lines: string[] = [];

  beforeAll(async () => {
    platform = await startPlatform();
    summary = await runTimed({
      size: "small",
      seed: 42,
      drift: true,
      project: freshProjectName(),
      predictCalls: 100,
      python,
      outputDir: platform.offlineRoot,
      platform: platform.options,
      log: (line) => lines.push(line),
      alertTimeoutMs: 60_000,
      retrainTimeoutMs: 90_000,
    }).catch((err) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\nprogress:\n${lines.join("\n")}`);
    });
    if (process.env.FTI_TEST_LOG || process.env.FRAUD_TEST_PRINT) process.stdout.write(`${lines.join("\n")}\n${formatSummary(summary)}`);
  }, 170_000);
  afterAll(async () => {
    await platform?.close();
  }, 30_000);

  it("runs cleanly", () => {
    expect(summary.problems, formatSummary(summary)).toEqual([]);
  });

  it("ingests the history by batch and the live days by stream", () => {
    // 7 history days of ~900 transactions, each with its card features; 3 live days streamed.
    expect(summary.ingested.batch.transactions).toBeGreaterThan(5_000);
    expect(summary.ingested.batch.cardActivity).toBe(summary.ingested.batch.transactions);
    expect(summary.ingested.batch.merchantProfile).toBe(7 * 50);
    expect(summary.ingested.dailyMerchantProfile).toBe(3 * 50);
    expect(summary.ingested.stream.transactions).toBeGreaterThan(2_000);
    expect(summary.ingested.stream.cardActivity).toBe(summary.ingested.stream.transactions);
    expect(summary.ingested.batch.transactions + summary.ingested.stream.transactions).toBe(summary.data.transactions);
  });

  it("builds a time-split dataset and a model with AUC above 0.85", () => {
    expect(summary.dataset.splits.train).toBeGreaterThan(3_000);
    expect(summary.dataset.splits.test).toBeGreaterThan(1_000);
    expect(summary.dataset.splits.train + summary.dataset.splits.test).toBe(summary.ingested.batch.transactions);
    expect(summary.model.auc).toBeGreaterThan(0.85);
    expect(summary.model.gate).toMatch(/^passed/);
  });

  it("serves the model online (TypeScript and Python) and in batch, with the same scores", () => {
    expect(summary.deployment).toMatchObject({ revision: 1, model: summary.model.name });
    expect(summary.online!.calls).toBe(100);
    expect(summary.online!.p99Ms).toBeGreaterThan(0);
    expect(summary.online!.model).toBe(summary.model.name);
    if (python) expect(summary.python!.predictions).toHaveLength(5);
    expect(summary.batch!.rows).toBeGreaterThan(500);
    expect(summary.batch!.compared).toBe(100);
    expect(summary.batch!.maxDifferenceFromOnline!).toBeLessThan(1e-4);
  });

  it("raises a drift alert on the drifted days only", () => {
    const statuses = summary.drift!.windows.map((w) => w.status);
    expect(statuses).toEqual(["OK", "DRIFT", "DRIFT"]);
    expect(summary.drift!.alert).toBeDefined();
  });

  it("retrains through the drift trigger, upgrades, and rolls back in one call", () => {
    expect(summary.retraining!.model.name).toMatch(/models\/fraud_gbdt\/versions\/2$/);
    expect(summary.retraining!.splits.train).toBeGreaterThan(summary.dataset.splits.train);
    expect(summary.upgrade).toMatchObject({ revision: 2, model: summary.retraining!.model.name, servedBy: summary.retraining!.model.name });
    expect(summary.rollback).toMatchObject({ revision: 3, restoredRevision: 1, model: summary.model.name, servedBy: summary.model.name });
  });
});
