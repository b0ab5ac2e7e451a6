// A job whose spec creates its training dataset from a feature view version:
// the runner asks offline-query (CreateTrainingDataset), waits for its job and
// trains on the result.
import { afterAll, expect, it } from "vitest";
import { silentLogger } from "@fti/logger";
import { JobState, ScalarType } from "@fti/proto/fti/common/v1/types_pb";
import { uniqueId } from "../../registry/test/harness.js";
import { scalar } from "../../registry/test/fixtures.js";
import { build } from "../src/server.js";
import { jobSpec, migratedRunnerPool, trpc } from "./harness.js";
import { grpcChannel, unary } from "../../../libs/server/test/grpc-client.js";

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

it("creates the training dataset through offline-query, then trains on it", async () => {
  const { startOfflineQuery, registryRpc } = await import("../../offline-query/test/harness.js");
  const oq = await startOfflineQuery();
  cleanups.push(() => oq.close());
  const p = oq.project;
  const group = await oq.createGroup("tx", {
    schema: { features: [scalar("account_id", ScalarType.STRING), scalar("ts", ScalarType.TIMESTAMP), scalar("x0", ScalarType.DOUBLE), scalar("x1", ScalarType.DOUBLE), scalar("label", ScalarType.BOOL)] },
    primaryKey: ["account_id"],
    eventTime: "ts",
  });
  const t0 = Date.UTC(2024, 0, 1);
  const rows = Array.from({ length: 2000 }, (_, i) => {
    const x0 = Math.sin(i * 12.9898) * 0.5;
    const x1 = Math.cos(i * 78.233) * 0.5;
    return { account_id: `a${i}`, ts: new Date(t0 + i * 1000), x0, x1, label: x0 - x1 > 0 };
  });
  await oq.store.table({ project: p, featureGroup: "tx", version: 1 }).append(rows);
  const view = (await oq.registry.call(registryRpc.createFeatureView, { parent: `projects/${p}`, featureViewId: "v", featureView: { root: { featureGroup: group, features: ["x0", "x1", "label"] }, labelColumns: ["label"] } })).featureView!;

  const { pool, schema } = await migratedRunnerPool();
  const runner = await build({
    pool,
    nats: oq.registry.nats,
    logger: silentLogger,
    registryAddress: oq.registry.server.grpcAddress,
    offlineQueryAddress: oq.server.grpcAddress,
    offlineRoot: oq.root,
    workDir: `${oq.root}/_work`,
    pollIntervalMs: 100,
    eventStream: oq.registry.stream,
    eventSubjectPrefix: oq.registry.subjectPrefix,
    triggerConsumer: `training_${uniqueId()}`,
  }).listen({ grpcPort: 0, webPort: 0 });
  const client = grpcChannel(runner.grpcAddress);
  cleanups.push(async () => {
    client.close();
    await runner.shutdown(1_000);
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });
  const range = { startTime: { seconds: BigInt(t0 / 1000 - 1) }, endTime: { seconds: BigInt(t0 / 1000 + 3000) } };
  const submitted = (await unary(client, trpc.submitJob, { parent: `projects/${p}`, spec: jobSpec({ newTrainingDataset: { featureView: view.name, spec: { rows: { case: "eventTimeRange", value: range } } }, label: "label", features: ["x0", "x1"], logisticRegression: {}, model: `projects/${p}/models/m`, seed: 3n }) })).response.job!;
  let job = submitted;
  const end = Date.now() + 90_000;
  while (![JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED].includes(job.state) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    job = (await unary(client, trpc.getJob, { name: submitted.name })).response.job!;
  }
  expect(job.failureReason).toBe("");
  expect(job.state).toBe(JobState.SUCCEEDED);
  expect(job.trainingDataset).toMatch(new RegExp(`^${view.name}/trainingDatasets/\\d+$`));
  expect(job.metrics.auc).toBeGreaterThan(0.95);
}, 120_000);
