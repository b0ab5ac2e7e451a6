// A real restart: the training runner runs as its own process (main.ts), is
// killed with SIGKILL in the middle of a job, and a new process marks that job
// FAILED with a reason instead of leaving it RUNNING, then runs new jobs.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { silentLogger } from "@fti/logger";
import { JobState } from "@fti/proto/fti/common/v1/types_pb";
import { GradientBoostedTrees_Objective as Objective, JobSpecSchema } from "@fti/proto/fti/training/v1/training_pb";
import { create } from "@bufbuild/protobuf";
import { databaseUrl, natsUrl } from "../../registry/test/harness.js";
import { build } from "../src/server.js";
import { jobSpec, migratedRunnerPool, startTraining, syntheticDataset, uniqueId, until, type SyntheticDataset, type TrainingHarness } from "./harness.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
let h: TrainingHarness;
let dataset: SyntheticDataset;
const children: ChildProcess[] = [];

beforeAll(async () => {
  h = await startTraining();
  dataset = await syntheticDataset(h, { project: "rst", rows: 3000, features: 4, labelType: "bool", label: "x0 * x1 + 0.2 * noise" });
}, 60_000);

afterAll(async () => {
  killAll();
  await h?.close();
});

function killAll(): void {
  for (const child of children) {
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Starts main.ts in its own process group (tsx runs node as a child; the group is killed as one). */
function startProcess(env: Record<string, string>): ChildProcess {
  const child = spawn(`${repo}node_modules/.bin/tsx`, ["--conditions=source", "services/training-runner/src/main.ts"], {
    cwd: repo,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  return child;
}

it("a job interrupted by killing the process is marked FAILED by the next process, which runs new jobs", async () => {
  const { pool, schema } = await migratedRunnerPool();
  const id = uniqueId();
  const env = {
    FTI_DATABASE_URL: databaseUrl,
    FTI_DATABASE_SCHEMA: schema,
    FTI_NATS_URL: natsUrl,
    FTI_NATS_STREAM_PREFIX: `TEST_TR_${id}`,
    FTI_NATS_SUBJECT_PREFIX: `test.tr.${id}`,
    FTI_REGISTRY_ADDRESS: h.registry.server.grpcAddress,
    FTI_OFFLINE_ROOT: h.offlineRoot,
    FTI_GRPC_PORT: "0",
    FTI_WEB_PORT: "0",
    FTI_LOG_LEVEL: "error",
    FTI_TRAINING_JOB_POLL_INTERVAL_MS: "100",
    FTI_TRAINING_STALE_JOB_AFTER_MS: "1500",
  };
  // Submits through the same logic and schema the processes use.
  const { jobs } = build({ pool, nats: h.registry.nats, logger: silentLogger, registryAddress: h.registry.server.grpcAddress, offlineRoot: h.offlineRoot, workDir: "/tmp" });
  try {
    const first = startProcess(env);
    const long = await jobs.submitJob("projects/rst", create(JobSpecSchema, jobSpec({ trainingDataset: dataset.name, label: "label", gbdt: { objective: Objective.BINARY_CLASSIFICATION, numTrees: 10_000, maxDepth: 8, minSamplesLeaf: 1 }, model: "projects/rst/models/long" })), "");
    await until(async () => (await jobs.getJob(long.name)).progressPercent > 10, 60_000);
    process.kill(-first.pid!, "SIGKILL");
    await new Promise((resolve) => first.once("exit", resolve));
    expect((await jobs.getJob(long.name)).state).toBe(JobState.RUNNING); // nobody has noticed yet

    startProcess(env);
    await until(async () => (await jobs.getJob(long.name)).state !== JobState.RUNNING, 30_000);
    const failed = await jobs.getJob(long.name);
    expect(failed.state).toBe(JobState.FAILED);
    expect(failed.failureReason).toMatch(/stopped \(crashed or restarted\) before it finished/);
    expect(failed.endTime).toBeDefined();

    const next = await jobs.submitJob("projects/rst", create(JobSpecSchema, jobSpec({ trainingDataset: dataset.name, label: "label", gbdt: { objective: Objective.BINARY_CLASSIFICATION, numTrees: 20 }, model: "projects/rst/models/after" })), "");
    await until(async () => (await jobs.getJob(next.name)).state === JobState.SUCCEEDED, 60_000);
  } finally {
    killAll();
    const jsm = await jetstreamManager(h.registry.nats);
    await jsm.streams.delete(`TEST_TR_${id}_EVENTS`).catch(() => {});
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await pool.end();
  }
}, 150_000);
