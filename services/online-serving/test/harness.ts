// Online serving on port 0 against a real registry (its own Postgres schema,
// NATS stream and subject prefix), a real Postgres online store in a schema of
// its own, and a temp offline root for ONNX files; plus a grpc-js client and
// builders for the resources a test registers.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import * as grpc from "@grpc/grpc-js";
import pg from "pg";
import type { DescMessage, DescMethod, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createLogger, silentLogger } from "@fti/logger";
import { createPostgresOnlineStore, postgresOnlineStorePoolConfig, type OnlineStore, type OnlineTable } from "@fti/online-store";
import { TrainingDataset_State } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import type { FeatureGroupSchema as FeatureGroupMessage } from "@fti/proto/fti/registry/v1/feature_group_pb";
import type { FeatureViewSchema } from "@fti/proto/fti/registry/v1/feature_view_pb";
import type { ModelSchema } from "@fti/proto/fti/registry/v1/model_pb";
import type { ShadowRouteSchema, TrafficRouteSchema } from "@fti/proto/fti/registry/v1/deployment_pb";
import { OnlineServingService } from "@fti/proto/fti/serving/v1/serving_pb";
import { GRPCInferenceService } from "@fti/proto/inference/grpc_predict_v2_pb";
import { featureGroupSchemaFromWire } from "@fti/record-batch";
import { createRegistryClient } from "@fti/registry-client";
import type { Row } from "@fti/schema";
import { fitTransformations, type Column, type Columns } from "@fti/transforms";
import { grpcChannel, unary } from "../../../libs/server/test/grpc-client.js";
import { rpc, startRegistry, type Harness as RegistryHarness } from "../../registry/test/harness.js";
import { build, type OnlineServingServerDependencies, type RunningOnlineServing } from "../src/server.js";

export { rpc, statusOf, until } from "../../registry/test/harness.js";
export const serving = OnlineServingService.method;
export const oip = GRPCInferenceService.method;
export const databaseUrl = process.env.FTI_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface ServingHarness {
  registry: RegistryHarness;
  store: OnlineStore;
  offlineRoot: string;
  server: RunningOnlineServing;
  built: ReturnType<typeof build>;
  client: grpc.Client;
  /** Set to fix the serving clock (TTL decisions); undefined is the real clock. */
  clock: { now: Date | undefined };
  call<I extends DescMessage, O extends DescMessage>(method: DescMethod & { input: I; output: O }, request: MessageInitShape<I>, deadlineMs?: number): Promise<MessageShape<O>>;
  close(): Promise<void>;
}

export async function startServing(options: { store?: OnlineStore; closeStore?: () => Promise<void>; overrides?: Partial<OnlineServingServerDependencies> } = {}): Promise<ServingHarness> {
  const registry = await startRegistry();
  const schema = `online_serving_test_${randomBytes(4).toString("hex")}`;
  const pool = new pg.Pool({ ...postgresOnlineStorePoolConfig(databaseUrl), max: 8 });
  const store = options.store ?? createPostgresOnlineStore({ pool, schema });
  const offlineRoot = await mkdtemp(join(tmpdir(), "fti-serving-"));
  const clock: { now: Date | undefined } = { now: undefined };
  const built = build({
    store,
    registry: createRegistryClient(registry.server.grpcAddress),
    nats: registry.nats,
    // FTI_TEST_LOG=debug shows the server's logs when a test needs explaining.
    logger: process.env.FTI_TEST_LOG ? createLogger({ level: process.env.FTI_TEST_LOG as "debug", base: { service: "online-serving" } }) : silentLogger,
    offlineRoot,
    eventSubjectPrefix: registry.subjectPrefix,
    healthIntervalMs: 200,
    modelRetireGraceMs: 2_000,
    predictionLog: { flushIntervalMs: 50 },
    now: () => clock.now ?? new Date(),
    ...options.overrides,
  });
  const server = await built.listen({ grpcPort: 0, webPort: 0 });
  const client = grpcChannel(server.grpcAddress);
  return {
    registry,
    store,
    offlineRoot,
    server,
    built,
    client,
    clock,
    async call(method, request, deadlineMs = 10_000) {
      return (await unary(client, method, request, { deadlineMs })).response;
    },
    async close() {
      client.close();
      await server.shutdown(1_000);
      if (options.closeStore) await options.closeStore();
      else {
        await store.close();
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
      }
      await pool.end();
      await registry.close();
      await rm(offlineRoot, { recursive: true, force: true });
    },
  };
}

/** Another online-serving process on the same registry, store and offline root (a restart, a second replica). */
export async function startReplica(h: ServingHarness, overrides: Partial<OnlineServingServerDependencies> = {}) {
  const built = build({
    store: h.store,
    registry: createRegistryClient(h.registry.server.grpcAddress),
    nats: h.registry.nats,
    logger: silentLogger,
    offlineRoot: h.offlineRoot,
    eventSubjectPrefix: h.registry.subjectPrefix,
    predictionLog: false,
    ...overrides,
  });
  const server = await built.listen({ grpcPort: 0, webPort: 0 });
  const client = grpcChannel(server.grpcAddress);
  return {
    built,
    async call<I extends DescMessage, O extends DescMessage>(method: DescMethod & { input: I; output: O }, request: MessageInitShape<I>): Promise<MessageShape<O>> {
      return (await unary(client, method, request, { deadlineMs: 10_000 })).response;
    },
    async close() {
      client.close();
      await server.shutdown(1_000);
    },
  };
}

// ---- registering resources -------------------------------------------------

type GroupInit = MessageInitShape<typeof FeatureGroupMessage>;

/** Creates a feature group in the registry and its online table; returns the table to write rows to. */
export async function createGroup(h: ServingHarness, project: string, id: string, group: GroupInit): Promise<OnlineTable & { name: string }> {
  const created = (await h.registry.call(rpc.createFeatureGroup, { parent: `projects/${project}`, featureGroupId: id, featureGroup: { onlineEnabled: true, ...group } })).featureGroup!;
  const table = { project, featureGroup: id, version: created.version, schema: featureGroupSchemaFromWire(created), name: created.name };
  await h.store.ensureTable(table);
  return table;
}

export async function createView(h: ServingHarness, project: string, id: string, view: MessageInitShape<typeof FeatureViewSchema>) {
  return (await h.registry.call(rpc.createFeatureView, { parent: `projects/${project}`, featureViewId: id, featureView: view })).featureView!;
}

/**
 * Registers a training dataset of `viewName` and completes it (READY) with the
 * view's transformations fitted on `train` — what offline-query does after
 * writing the files.
 */
export async function createReadyDataset(h: ServingHarness, viewName: string, train: Columns, inputs: Column[]) {
  const view = (await h.registry.call(rpc.getFeatureView, { name: viewName })).featureView!;
  const created = (await h.registry.call(rpc.createTrainingDataset, { parent: viewName, trainingDataset: { rows: { case: "eventTimeRange", value: { startTime: timestampFromDate(new Date(0)), endTime: timestampFromDate(new Date()) } } } })).trainingDataset!;
  const fitted = fitTransformations(view.transformations, inputs, train);
  return (
    await h.registry.call(rpc.updateTrainingDataset, {
      trainingDataset: { name: created.name, etag: created.etag, state: TrainingDataset_State.READY, fittedTransformations: fitted, location: "file:///unused" },
      updateMask: { paths: ["state", "fitted_transformations", "location"] },
    })
  ).trainingDataset!;
}

/** Writes ONNX bytes under the offline root and registers a model version pointing at them. */
export async function registerModel(
  h: ServingHarness,
  project: string,
  modelId: string,
  bytes: Uint8Array,
  model: Omit<MessageInitShape<typeof ModelSchema>, "artifactUri" | "checksum"> & { checksumOf?: Uint8Array },
) {
  const file = join(h.offlineRoot, "models", project, modelId, randomBytes(4).toString("hex"), "model.onnx");
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, bytes);
  const checksum = `sha256:${createHash("sha256").update(model.checksumOf ?? bytes).digest("hex")}`;
  const { checksumOf: _, ...init } = model;
  const body = { ...init, artifactUri: pathToFileURL(file).href, checksum } as MessageInitShape<typeof ModelSchema>;
  const family = `projects/${project}/models/${modelId}`;
  const exists = await h.registry.call(rpc.getModel, { name: `${family}/versions/latest` }).then(() => true, () => false);
  const created = exists
    ? await h.registry.call(rpc.createModelVersion, { parent: family, model: body })
    : await h.registry.call(rpc.createModel, { parent: `projects/${project}`, modelId, model: body });
  return created.model!;
}

export type RouteInit = MessageInitShape<typeof TrafficRouteSchema>;
export type ShadowInit = MessageInitShape<typeof ShadowRouteSchema>;

export async function createProject(h: ServingHarness, project: string) {
  await h.registry.call(rpc.createProject, { projectId: project, project: { owner: "test" } });
}

export async function upsertRows(h: ServingHarness, table: OnlineTable, rows: Row[]) {
  await h.store.upsert(table, rows);
}
