// A real registry (its own schema and NATS stream) and a training runner on
// port 0 (its own schema, same stream), plus helpers that register a training
// dataset whose Parquet split files the test writes itself with DuckDB, so
// these tests do not depend on offline-query.
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { DescMessage, DescMethod, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { createPool, loadMigrations, migrate, type Pool } from "@fti/db";
import { silentLogger } from "@fti/logger";
import { ScalarType } from "@fti/proto/fti/common/v1/types_pb";
import { JobState } from "@fti/proto/fti/common/v1/types_pb";
import { TrainingDataset_State } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import type { FittedTransformation, TransformationSchema } from "@fti/proto/fti/registry/v1/transformations_pb";
import { fitTransformations, type Columns } from "@fti/transforms";
import { TrainingService, type Job } from "@fti/proto/fti/training/v1/training_pb";
import * as grpc from "@grpc/grpc-js";
import { grpcChannel, unary } from "../../../libs/server/test/grpc-client.js";
import { databaseUrl, rpc, startRegistry, uniqueId, until, type Harness as RegistryHarness } from "../../registry/test/harness.js";
import { scalar } from "../../registry/test/fixtures.js";
import { withDuckDb } from "../src/dataset.js";
import { build, type RunningTrainingRunner } from "../src/server.js";

export { rpc, uniqueId, until };
export const trpc = TrainingService.method;
export const migrationsDir = fileURLToPath(new URL("../migrations", import.meta.url));

export interface TrainingHarness {
  registry: RegistryHarness;
  runner: RunningTrainingRunner;
  pool: Pool;
  schema: string;
  offlineRoot: string;
  client: grpc.Client;
  call<I extends DescMessage, O extends DescMessage>(method: DescMethod & { input: I; output: O }, request: MessageInitShape<I>, deadlineMs?: number): Promise<MessageShape<O>>;
  /** Polls GetJob until the job is in a final state. */
  waitForJob(name: string, timeoutMs?: number): Promise<Job>;
  close(): Promise<void>;
}

export async function migratedRunnerPool(schema = `test_training_${uniqueId()}`): Promise<{ pool: Pool; schema: string }> {
  const pool = createPool({ connectionString: databaseUrl, schema, logger: silentLogger });
  await migrate(pool, { schema, migrations: await loadMigrations(migrationsDir), logger: silentLogger });
  return { pool, schema };
}

export async function startTraining(options: { maxConcurrentJobs?: number; staleJobAfterMs?: number } = {}): Promise<TrainingHarness> {
  const registry = await startRegistry();
  const { pool, schema } = await migratedRunnerPool();
  const offlineRoot = await mkdtemp(join(tmpdir(), "fti-training-"));
  const runner = await build({
    pool,
    nats: registry.nats,
    logger: silentLogger,
    registryAddress: registry.server.grpcAddress,
    offlineRoot,
    workDir: join(offlineRoot, "_work"),
    maxConcurrentJobs: options.maxConcurrentJobs ?? 2,
    pollIntervalMs: 100,
    staleJobAfterMs: options.staleJobAfterMs ?? 5_000,
    healthIntervalMs: 500,
    eventStream: registry.stream,
    eventSubjectPrefix: registry.subjectPrefix,
    triggerConsumer: `training_${uniqueId()}`,
  }).listen({ grpcPort: 0, webPort: 0 });
  const client = grpcChannel(runner.grpcAddress);
  const h: TrainingHarness = {
    registry,
    runner,
    pool,
    schema,
    offlineRoot,
    client,
    async call(method, request, deadlineMs = 30_000) {
      return (await unary(client, method, request, { deadlineMs })).response;
    },
    async waitForJob(name, timeoutMs = 60_000) {
      let job: Job | undefined;
      await until(async () => {
        job = (await h.call(trpc.getJob, { name })).job!;
        return [JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED].includes(job.state);
      }, timeoutMs);
      return job!;
    },
    async close() {
      client.close();
      await runner.shutdown(1_000);
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await pool.end().catch(() => {});
      await registry.close();
      await rm(offlineRoot, { recursive: true, force: true });
    },
  };
  return h;
}

export interface SyntheticDataset {
  name: string;
  featureView: string;
  features: string[];
  /** The view's transformations fitted on the train split (empty without `transformations`). */
  fitted: FittedTransformation[];
}

/**
 * Registers project → feature group → feature view → training dataset and
 * writes its train/test splits as Parquet. `label` is a SQL expression over
 * x0..x{n-1} and `noise` (uniform −0.5..0.5); `segment` is "a" or "b".
 */
export async function syntheticDataset(
  h: TrainingHarness,
  options: {
    project: string;
    rows: number;
    features: number;
    label: string;
    labelType: "bool" | "double";
    seed?: number;
    createProject?: boolean;
    extraColumns?: string;
    /** Model-dependent transformations of the view (over x0..x{n-1}), fitted on the train split as offline-query does. */
    transformations?: MessageInitShape<typeof TransformationSchema>[];
  },
): Promise<SyntheticDataset> {
  const { project } = options;
  const features = Array.from({ length: options.features }, (_, i) => `x${i}`);
  if (options.createProject !== false) {
    await h.registry.call(rpc.createProject, { projectId: project });
    await h.registry.call(rpc.createFeatureGroup, {
      parent: `projects/${project}`,
      featureGroupId: "events",
      featureGroup: {
        schema: {
          features: [
            scalar("id", ScalarType.INT64),
            scalar("ts", ScalarType.TIMESTAMP),
            ...features.map((f) => scalar(f, ScalarType.DOUBLE)),
            scalar("segment", ScalarType.STRING),
            scalar("label", options.labelType === "bool" ? ScalarType.BOOL : ScalarType.DOUBLE),
          ],
        },
        primaryKey: ["id"],
        eventTime: "ts",
      },
    });
    await h.registry.call(rpc.createFeatureView, {
      parent: `projects/${project}`,
      featureViewId: "view",
      featureView: { root: { featureGroup: `projects/${project}/featureGroups/events/versions/1`, features: [...features, "segment", "label"] }, labelColumns: ["label"], transformations: options.transformations ?? [] },
    });
  }
  const featureView = `projects/${project}/featureViews/view/versions/1`;
  const td = (await h.registry.call(rpc.createTrainingDataset, { parent: featureView, trainingDataset: { split: { kind: { case: "random", value: { seed: 1n, fractions: [{ name: "train", fraction: 0.8 }, { name: "test", fraction: 0.2 }] } } } } })).trainingDataset!;
  const dir = join(h.offlineRoot, "_training", project, "view", "1", String(td.version));
  const splits: { name: string; rowCount: bigint; files: string[] }[] = [];
  let train: Columns = {};
  await withDuckDb(async (run) => {
    await run(`SELECT setseed(${options.seed ?? 0.25})`);
    const xs = features.map((f) => `random() * 2 - 1 AS ${f}`).join(", ");
    const labelSql = options.labelType === "bool" ? `(${options.label}) > 0` : `(${options.label})`;
    await run(
      `CREATE TABLE data AS SELECT id, TIMESTAMP '2024-01-01' + INTERVAL (id) SECOND AS ts, ${features.join(", ")}, segment, ${labelSql} AS label${options.extraColumns ? `, ${options.extraColumns}` : ""},
         CASE WHEN id % 5 = 0 THEN 'test' ELSE 'train' END AS split
       FROM (SELECT *, random() - 0.5 AS noise FROM (SELECT range AS id, ${xs}, CASE WHEN random() < 0.5 THEN 'a' ELSE 'b' END AS segment FROM range(${options.rows})))`,
    );
    for (const split of ["train", "test"]) {
      const splitDir = join(dir, `fti_split=${split}`);
      await mkdir(splitDir, { recursive: true });
      const file = join(splitDir, "part-0.parquet");
      await run(`COPY (SELECT * EXCLUDE (split) FROM data WHERE split = '${split}') TO '${file}' (FORMAT parquet)`);
      const count = await run(`SELECT count(*)::INTEGER AS n FROM data WHERE split = '${split}'`);
      splits.push({ name: split, rowCount: BigInt(count.n![0] as number), files: [pathToFileURL(file).href] });
    }
    train = (await run(`SELECT ${features.join(", ")} FROM data WHERE split = 'train'`)) as Columns;
  });
  const view = (await h.registry.call(rpc.getFeatureView, { name: featureView })).featureView!;
  const fitted = fitTransformations(view.transformations, features.map((name) => ({ name, type: "double" as const })), train);
  const ready = (await h.registry.call(rpc.updateTrainingDataset, {
    trainingDataset: { name: td.name, state: TrainingDataset_State.READY, location: pathToFileURL(dir).href, splits, fittedTransformations: fitted },
    updateMask: { paths: ["state", "location", "splits", "fitted_transformations"] },
  })).trainingDataset!;
  return { name: ready.name, featureView, features, fitted: ready.fittedTransformations };
}

type Init<T extends DescMessage> = MessageInitShape<T>;
type SpecInit = Init<typeof import("@fti/proto/fti/training/v1/training_pb").JobSpecSchema>;

/** A JobSpec written flat (`trainingDataset`, `gbdt: {...}`), turned into protobuf-es oneof cases. */
export function jobSpec(flat: Record<string, unknown>): SpecInit {
  const { trainingDataset, newTrainingDataset, logisticRegression, linearRegression, gbdt, external, ...rest } = flat;
  const dataset = trainingDataset !== undefined ? { case: "trainingDataset", value: trainingDataset } : newTrainingDataset !== undefined ? { case: "newTrainingDataset", value: newTrainingDataset } : undefined;
  const trainers = { logisticRegression, linearRegression, gbdt, external };
  const chosen = Object.entries(trainers).find(([, v]) => v !== undefined);
  return { ...rest, ...(dataset ? { dataset } : {}), ...(chosen ? { trainer: { case: chosen[0], value: chosen[1] } } : {}) } as SpecInit;
}
