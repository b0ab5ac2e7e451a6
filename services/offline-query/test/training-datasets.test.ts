// Training datasets as a user sees them: a job that finishes with a READY,
// immutable dataset whose splits are stable per row, with statistics and
// transformations fitted on the train split only; on-demand features equal to
// what serving computes; bad input named; cancellation. Also GetBatchData and
// ReadFeatureGroup on the same data.
import { createHash } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobState, ScalarType } from "@fti/proto/fti/common/v1/types_pb";
import { TrainingDataset_State } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { recordBatchMessage } from "@fti/record-batch";
import type { Row } from "@fti/schema";
import { compileOnDemandFeatures } from "@fti/transforms";
import { scalar } from "../../registry/test/fixtures.js";
import { statusOf, until } from "../../registry/test/harness.js";
import { registryRpc, rowsOf, rpc, startOfflineQuery, type Harness } from "./harness.js";

let h: Harness;
let view: string;
let txGroup: string;
const t0 = Date.UTC(2024, 0, 1);
const accounts = 50;
const txRows: Row[] = [];
const balanceRows: Row[] = [];
const ratioExpression = "amount / nullif(acct_balance, 0)";

beforeAll(async () => {
  h = await startOfflineQuery();
  txGroup = await h.createGroup("tx", {
    schema: { features: [scalar("account_id", ScalarType.STRING), scalar("ts", ScalarType.TIMESTAMP), scalar("amount", ScalarType.DOUBLE), scalar("is_fraud", ScalarType.BOOL)] },
    primaryKey: ["account_id"],
    eventTime: "ts",
  });
  const balances = await h.createGroup("balances", {
    schema: { features: [scalar("account_id", ScalarType.STRING), scalar("ts", ScalarType.TIMESTAMP), scalar("balance", ScalarType.DOUBLE)] },
    primaryKey: ["account_id"],
    eventTime: "ts",
  });
  for (let i = 0; i < 1500; i++) txRows.push({ account_id: `a${i % accounts}`, ts: new Date(t0 + i * 60_000), amount: (i % 97) * 3.5 + 1, is_fraud: i % 13 === 0 });
  for (let i = 0; i < 300; i++) balanceRows.push({ account_id: `a${i % accounts}`, ts: new Date(t0 + i * 5 * 60_000 - 30_000), balance: (i % 7) * 100 });
  await h.store.table({ project: h.project, featureGroup: "tx", version: 1 }).append(txRows);
  await h.store.table({ project: h.project, featureGroup: "balances", version: 1 }).append(balanceRows);
  view = (
    await h.registry.call(registryRpc.createFeatureView, {
      parent: `projects/${h.project}`,
      featureViewId: "fraud",
      featureView: {
        root: { featureGroup: txGroup, features: ["amount", "is_fraud"] },
        joins: [{ selection: { featureGroup: balances, features: ["balance"], prefix: "acct_" }, keys: [{ left: "account_id", right: "account_id" }] }],
        labelColumns: ["is_fraud"],
        onDemandFeatures: [{ name: "ratio", type: { kind: { case: "scalar", value: ScalarType.DOUBLE } }, expression: ratioExpression }],
        transformations: [{ feature: "amount", output: "amount_scaled", kind: { case: "standardScaler", value: {} } }],
      },
    })
  ).featureView!.name;
}, 60_000);

afterAll(async () => {
  await h?.close();
});

const range = { startTime: { seconds: BigInt(t0 / 1000) }, endTime: { seconds: BigInt((t0 + 1500 * 60_000) / 1000) } };

async function createDataset(trainingDataset: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const { job } = await h.call(rpc.createTrainingDataset, { parent: view, trainingDataset, ...extra });
  await until(async () => {
    const current = (await h.call(rpc.getTrainingDatasetJob, { name: job!.name })).job!;
    return current.state !== JobState.QUEUED && current.state !== JobState.RUNNING;
  }, 60_000);
  const done = (await h.call(rpc.getTrainingDatasetJob, { name: job!.name })).job!;
  const td = (await h.registry.call(registryRpc.getTrainingDataset, { name: done.trainingDataset })).trainingDataset!;
  return { job: done, td };
}

async function readSplit(name: string, split: string, extra: Record<string, unknown> = {}) {
  const responses = await h.stream(rpc.readTrainingDataset, { trainingDataset: name, split, ...extra });
  return { responses, rows: rowsOf(responses.map((r) => r.batch)) };
}

/** The documented split hash: md5("seed|key|event_time_micros"), first 13 hex digits / 16^13. */
function expectedSplit(seed: number, account: string, ts: Date, fractions: [string, number][]): string {
  const hex = createHash("md5").update(`${seed}|${account}|${ts.getTime() * 1000}`).digest("hex").slice(0, 13);
  const x = parseInt(hex, 16) / 16 ** 13;
  let cumulative = 0;
  for (const [name, f] of fractions.slice(0, -1)) {
    cumulative += f;
    if (x < cumulative) return name;
  }
  return fractions.at(-1)![0];
}

describe("CreateTrainingDataset and ReadTrainingDataset", () => {
  const fractions: [string, number][] = [["train", 0.7], ["test", 0.3]];
  const split = { kind: { case: "random", value: { seed: 7n, fractions: fractions.map(([name, fraction]) => ({ name, fraction })) } } };
  let first: Awaited<ReturnType<typeof createDataset>>;

  beforeAll(async () => {
    first = await createDataset({ rows: { case: "eventTimeRange", value: range }, split, description: "first" });
  }, 60_000);

  it("finishes the job and marks the dataset READY with splits, statistics, location and commits read", async () => {
    expect(first.job).toMatchObject({ state: JobState.SUCCEEDED, progressPercent: 100, rowsDone: 1500n });
    const { td } = first;
    expect(td.state).toBe(TrainingDataset_State.READY);
    expect(td.location).toMatch(/^file:\/\//);
    expect(td.splits.map((s) => s.name)).toEqual(["train", "test"]);
    expect(td.splits.reduce((n, s) => n + Number(s.rowCount), 0)).toBe(1500);
    expect(td.asOf.map((s) => s.featureGroup).sort()).toEqual([txGroup, expect.stringContaining("balances")].sort());
    const train = td.splits[0]!;
    const amount = train.statistics.find((s) => s.feature === "amount")!;
    const { rows } = await readSplit(td.name, "train");
    const amounts = rows.map((r) => r.amount as number);
    expect(amount.count).toBe(BigInt(rows.length));
    expect(amount.nullCount).toBe(0n);
    expect(amount.min).toBe(Math.min(...amounts));
    expect(amount.max).toBe(Math.max(...amounts));
    const mean = amounts.reduce((a, b) => a + b, 0) / amounts.length;
    expect(amount.mean).toBeCloseTo(mean, 9);
    expect(amount.stddev).toBeCloseTo(Math.sqrt(amounts.reduce((a, b) => a + (b - mean) ** 2, 0) / amounts.length), 6);
    // Quantiles come from a sample; each lies within a few ranks of the exact one.
    const sorted = [...amounts].sort((a, b) => a - b);
    expect(amount.quantiles.map((q) => q.quantile)).toEqual([0.01, 0.25, 0.5, 0.75, 0.99]);
    for (const q of amount.quantiles) {
      expect(q.value).toBeGreaterThanOrEqual(sorted[Math.max(0, Math.floor(q.quantile * sorted.length) - 10)]!);
      expect(q.value).toBeLessThanOrEqual(sorted[Math.min(sorted.length - 1, Math.ceil(q.quantile * sorted.length) + 10)]!);
    }
    // Distinct counts are sketched for keys and categories, not for continuous values.
    const accounts = new Set(rows.map((r) => r.account_id)).size;
    const account = train.statistics.find((s) => s.feature === "account_id")!;
    expect(Number(account.approxDistinct)).toBeGreaterThan(accounts * 0.8);
    expect(Number(account.approxDistinct)).toBeLessThan(accounts * 1.25);
    expect(amount.approxDistinct).toBe(0n);
    const balance = train.statistics.find((s) => s.feature === "acct_balance")!;
    expect(Number(balance.nullCount)).toBe(rows.filter((r) => r.acct_balance === null).length);
  });

  it("assigns every row to the split its key and time hash to (stable, not by row order)", async () => {
    for (const name of ["train", "test"]) {
      const { rows } = await readSplit(first.td.name, name);
      for (const r of rows) expect(expectedSplit(7, r.account_id as string, r.ts as Date, fractions)).toBe(name);
    }
    // The same spec again gives the same rows in each split.
    const again = await createDataset({ rows: { case: "eventTimeRange", value: range }, split });
    const key = (r: Row) => `${r.account_id}@${(r.ts as Date).getTime()}`;
    expect((await readSplit(again.td.name, "test")).rows.map(key).sort()).toEqual((await readSplit(first.td.name, "test")).rows.map(key).sort());
  });

  it("fits transformations on the train split only and applies them when asked", async () => {
    const fitted = first.td.fittedTransformations[0]!;
    const train = (await readSplit(first.td.name, "train")).rows.map((r) => r.amount as number);
    const all = (await readSplit(first.td.name, "test")).rows.map((r) => r.amount as number).concat(train);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const params = fitted.params.value as { mean: number; stddev: number };
    expect(fitted.params.case).toBe("standardScaler");
    expect(params.mean).toBeCloseTo(mean(train), 9);
    expect(Math.abs(params.mean - mean(all))).toBeGreaterThan(1e-6);
    const { rows } = await readSplit(first.td.name, "test", { applyTransformations: true });
    for (const r of rows) expect(r.amount_scaled).toBeCloseTo(((r.amount as number) - params.mean) / params.stddev, 9);
  });

  it("computes on-demand features at training time exactly as serving does for one vector", async () => {
    const onDemand = compileOnDemandFeatures([{ name: "ratio", type: "double", expression: ratioExpression }], [{ name: "amount", type: "double" }, { name: "acct_balance", type: "double" }]);
    const { rows } = await readSplit(first.td.name, "train");
    expect(rows.some((r) => r.ratio !== null) && rows.some((r) => r.ratio === null)).toBe(true);
    for (const r of rows) expect(onDemand.applyVector({ amount: r.amount!, acct_balance: r.acct_balance! }).ratio).toBe(r.ratio);
  });

  it("is immutable: later ingestion changes neither its rows nor its files, and the next dataset is a new version", async () => {
    const files = first.td.splits.flatMap((s) => s.files.map((f) => fileURLToPath(f)));
    const before = await Promise.all(files.map(async (f) => (await stat(f)).mtimeMs));
    const rowsBefore = (await readSplit(first.td.name, "train")).rows;
    await h.store.table({ project: h.project, featureGroup: "tx", version: 1 }).append([{ account_id: "a1", ts: new Date(t0 + 10 * 60_000), amount: 99999, is_fraud: true }]);
    expect((await readSplit(first.td.name, "train")).rows).toEqual(rowsBefore);
    expect(await Promise.all(files.map(async (f) => (await stat(f)).mtimeMs))).toEqual(before);
    const update = await statusOf(h.registry.call(registryRpc.updateTrainingDataset, { trainingDataset: { name: first.td.name, location: "file:///elsewhere" }, updateMask: { paths: ["location"] } }));
    expect(update.code).toBe(grpc.status.FAILED_PRECONDITION);
    const next = await createDataset({ rows: { case: "eventTimeRange", value: range } });
    expect(next.td.version).toBeGreaterThan(first.td.version);
    expect(next.td.splits[0]!.rowCount).toBe(1501n);
    const { responses } = await readSplit(next.td.name, "train", { filesOnly: true });
    expect(responses).toHaveLength(1);
    expect(responses[0]!.rowCount).toBe(1501n);
    expect(responses[0]!.files.length).toBeGreaterThan(0);
    expect((await readdir(fileURLToPath(next.td.location))).sort()).toEqual(["fti_split=train"]);
  });

  it("splits by time ranges, dropping rows outside every range", async () => {
    const mid = t0 + 1000 * 60_000;
    const { td } = await createDataset({
      rows: { case: "eventTimeRange", value: range },
      split: { kind: { case: "time", value: { ranges: [{ name: "train", range: { endTime: { seconds: BigInt(mid / 1000) } } }, { name: "test", range: { startTime: { seconds: BigInt(mid / 1000) }, endTime: { seconds: BigInt((mid + 100 * 60_000) / 1000) } } }] } } },
    });
    expect(td.splits.map((s) => [s.name, s.rowCount])).toEqual([["train", 1001n], ["test", 100n]]);
    for (const r of (await readSplit(td.name, "test")).rows) expect((r.ts as Date).getTime()).toBeGreaterThanOrEqual(mid);
  });

  it("builds from inline entity rows with pass-through columns", async () => {
    const batch = recordBatchMessage(3, [
      { name: "account_id", type: "string", values: ["a1", "a2", "nobody"] },
      { name: "ts", type: "timestamp", values: [new Date(t0 + 500 * 60_000), new Date(t0 + 20 * 60_000), new Date(t0)] },
      { name: "label", type: "int32", values: [1, 0, 1] },
    ]);
    const { td } = await createDataset({}, { entityRows: batch });
    const { rows } = await readSplit(td.name, "train");
    expect(rows.map((r) => [r.account_id, r.label, r.amount === null]).sort()).toEqual([["a1", 1, false], ["a2", 0, false], ["nobody", 1, true]]);
  });

  it("names the field of bad input and changes nothing", async () => {
    const code = async (request: Record<string, unknown>) => statusOf(h.call(rpc.createTrainingDataset, { parent: view, ...request }));
    const badSum = await code({ trainingDataset: { rows: { case: "eventTimeRange", value: range }, split: { kind: { case: "random", value: { fractions: [{ name: "train", fraction: 0.5 }, { name: "test", fraction: 0.3 }] } } } } });
    expect(badSum).toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    expect(badSum.details).toContain("training_dataset.split.random.fractions");
    const backwards = await code({ trainingDataset: { rows: { case: "eventTimeRange", value: { startTime: range.endTime, endTime: range.startTime } } } });
    expect(backwards.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(backwards.details).toContain("training_dataset.event_time_range.end_time");
    const noKey = await code({ trainingDataset: {}, entityRows: recordBatchMessage(1, [{ name: "ts", type: "timestamp", values: [new Date(t0)] }]) });
    expect(noKey.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(noKey.details).toContain("account_id");
    const missing = await statusOf(h.call(rpc.createTrainingDataset, { parent: `projects/${h.project}/featureViews/nothing/versions/1`, trainingDataset: { rows: { case: "eventTimeRange", value: range } } }));
    expect(missing.code).toBe(grpc.status.NOT_FOUND);
    const jobs = (await h.call(rpc.listTrainingDatasetJobs, { parent: `projects/${h.project}`, filter: 'state = "FAILED"' })).jobs;
    expect(jobs).toEqual([]);
  });

  it("cancels a job: CANCELLED, dataset FAILED", async () => {
    const { job } = await h.call(rpc.createTrainingDataset, { parent: view, trainingDataset: { rows: { case: "eventTimeRange", value: range } } });
    const cancelled = (await h.call(rpc.cancelTrainingDatasetJob, { name: job!.name })).job!;
    expect(cancelled.state).toBe(JobState.CANCELLED);
    await until(async () => (await h.registry.call(registryRpc.getTrainingDataset, { name: job!.trainingDataset })).trainingDataset!.state === TrainingDataset_State.FAILED);
    expect((await h.call(rpc.getTrainingDatasetJob, { name: job!.name })).job!.state).toBe(JobState.CANCELLED);
  });
});

describe("GetBatchData and ReadFeatureGroup", () => {
  it("returns vectors for an entity list as of a time, with a dataset's transformations", async () => {
    const { td } = await createDataset({ rows: { case: "eventTimeRange", value: range } });
    const params = td.fittedTransformations[0]!.params.value as { mean: number; stddev: number };
    const at = new Date(t0 + 100 * 60_000);
    const responses = await h.stream(rpc.getBatchData, {
      featureView: view,
      entities: { case: "entityRows", value: recordBatchMessage(2, [{ name: "account_id", type: "string", values: ["a0", "a3"] }]) },
      asOfTime: { seconds: BigInt(at.getTime() / 1000) },
      trainingDataset: td.name,
    });
    const rows = rowsOf(responses.map((r) => r.batch));
    expect(responses[0]!.batch!.columns.map((c) => c.name)).toEqual(["account_id", "ts", "amount", "acct_balance", "ratio", "amount_scaled"]);
    // a0's latest transaction at or before minute 100 is minute 100; a3's is minute 53.
    expect(rows.map((r) => [r.account_id, r.amount])).toEqual(expect.arrayContaining([["a0", txRows[100]!.amount], ["a3", txRows[53]!.amount]]));
    for (const r of rows) expect(r.amount_scaled).toBeCloseTo(((r.amount as number) - params.mean) / params.stddev, 9);
  }, 60_000);

  it("reads a feature group as of a commit, and the latest row per key", async () => {
    const table = h.store.table({ project: h.project, featureGroup: "balances", version: 1 });
    const first = (await table.listCommits()).at(-1)!.version;
    await table.append([{ account_id: "a0", ts: new Date(t0 + 10_000 * 60_000), balance: -1 }]);
    const old = await h.stream(rpc.readFeatureGroup, { featureGroup: `projects/${h.project}/featureGroups/balances/versions/1`, asOf: { point: { case: "commitId", value: BigInt(first) } }, features: ["balance"] });
    expect(old[0]!.commitId).toBe(BigInt(first));
    expect(rowsOf(old.map((r) => r.batch))).toHaveLength(300);
    const latest = await h.stream(rpc.readFeatureGroup, { featureGroup: `projects/${h.project}/featureGroups/balances/versions/1`, latestPerKey: true });
    const rows = rowsOf(latest.map((r) => r.batch));
    expect(rows).toHaveLength(accounts);
    expect(rows.find((r) => r.account_id === "a0")!.balance).toBe(-1);
  });
});

describe("GetHistoricalFeatures bad input and cancellation", () => {
  it("answers NOT_FOUND for an unknown view and INVALID_ARGUMENT naming the field", async () => {
    const entities = recordBatchMessage(1, [{ name: "account_id", type: "string", values: ["a1"] }, { name: "ts", type: "timestamp", values: [new Date(t0)] }]);
    expect((await statusOf(h.stream(rpc.getHistoricalFeatures, { featureView: `projects/${h.project}/featureViews/fraud/versions/9`, entities: { case: "entityRows", value: entities } }))).code).toBe(grpc.status.NOT_FOUND);
    const noTime = await statusOf(h.stream(rpc.getHistoricalFeatures, { featureView: view, entities: { case: "entityRows", value: recordBatchMessage(1, [{ name: "account_id", type: "string", values: ["a1"] }]) } }));
    expect(noTime.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(noTime.details).toContain('event-time column "ts"');
    const nullKey = await statusOf(h.stream(rpc.getHistoricalFeatures, { featureView: view, entities: { case: "entityRows", value: recordBatchMessage(2, [{ name: "account_id", type: "string", values: ["a1", null] }, { name: "ts", type: "timestamp", values: [new Date(t0), new Date(t0)] }]) } }));
    expect(nullKey.details).toContain("entity_rows.columns[0]");
    const backwards = await statusOf(h.stream(rpc.getHistoricalFeatures, { featureView: view, entities: { case: "rootEventTimeRange", value: { startTime: range.endTime, endTime: range.startTime } } }));
    expect(backwards.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(backwards.details).toContain("root_event_time_range.end_time");
  });

  it("stops the DuckDB query when the caller cancels", async () => {
    // A join far larger than the first message: 300k label rows, one row per message.
    const n = 300_000;
    const entities = recordBatchMessage(n, [
      { name: "account_id", type: "string", values: Array.from({ length: n }, (_, i) => `a${i % accounts}`) },
      { name: "ts", type: "timestamp", values: Array.from({ length: n }, (_, i) => new Date(t0 + (i % 1500) * 60_000)) },
    ]);
    const call = h.client.makeServerStreamRequest(
      `/${rpc.getHistoricalFeatures.parent.typeName}/${rpc.getHistoricalFeatures.name}`,
      (x: Buffer) => x,
      (x: Buffer) => x,
      Buffer.from((await import("@bufbuild/protobuf")).toBinary(rpc.getHistoricalFeatures.input, (await import("@bufbuild/protobuf")).create(rpc.getHistoricalFeatures.input, { featureView: view, entities: { case: "entityRows", value: entities }, options: { batchSize: 1 } }))),
    );
    const status = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
    let received = 0;
    call.on("data", () => {
      received++;
      if (received === 1) call.cancel();
    });
    call.on("error", () => {});
    expect((await status).code).toBe(grpc.status.CANCELLED);
    await until(() => h.engine.openConnections === 0, 5_000);
    expect(received).toBeLessThan(1000);
  }, 60_000);
});
