// An offline-query server on port 0 beside a real registry (its own Postgres
// schema, NATS names), an offline root in a temp dir and a grpc-js client.
// Feature group history is written straight through @fti/offline-store.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type * as grpc from "@grpc/grpc-js";
import type { DescMessage, DescMethod, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { createPool, loadMigrations, migrate, type Pool } from "@fti/db";
import { createLogger, silentLogger } from "@fti/logger";
import { createOfflineStore, type OfflineStore } from "@fti/offline-store";
import type { RecordBatch } from "@fti/proto/fti/common/v1/record_batch_pb";
import { OfflineQueryService } from "@fti/proto/fti/offline/v1/offline_pb";
import { decodeRecordBatch, featureGroupSchemaFromWire } from "@fti/record-batch";
import { createMetadataCache, createRegistryClient, type MetadataCache } from "@fti/registry-client";
import type { RunningServer } from "@fti/server";
import type { Row } from "@fti/schema";
import { grpcChannel, serverStream, unary } from "../../../libs/server/test/grpc-client.js";
import { databaseUrl, rpc as registryRpc, startRegistry, uniqueId, type Harness as RegistryHarness } from "../../registry/test/harness.js";
import { createQueryEngine, type QueryEngine } from "../src/query-engine.js";
import { build } from "../src/server.js";

export const rpc = OfflineQueryService.method;
export { registryRpc };

export interface Harness {
  registry: RegistryHarness;
  project: string;
  root: string;
  store: OfflineStore;
  engine: QueryEngine;
  metadata: MetadataCache;
  pool: Pool;
  server: RunningServer;
  client: grpc.Client;
  call<I extends DescMessage, O extends DescMessage>(method: DescMethod & { input: I; output: O }, request: MessageInitShape<I>): Promise<MessageShape<O>>;
  stream<I extends DescMessage, O extends DescMessage>(method: DescMethod & { input: I; output: O }, request: MessageInitShape<I>): Promise<MessageShape<O>[]>;
  /** Registers a feature group and creates its offline table; returns its version name. */
  createGroup(id: string, group: MessageInitShape<typeof import("@fti/proto/fti/registry/v1/feature_group_pb").FeatureGroupSchema>): Promise<string>;
  close(): Promise<void>;
}

export async function startOfflineQuery(options: { workers?: number } = {}): Promise<Harness> {
  const registry = await startRegistry();
  const project = `p${uniqueId().replace(/[^a-z0-9]/g, "")}`.slice(0, 40);
  await registry.call(registryRpc.createProject, { projectId: project, project: { owner: "test" } });
  const root = await mkdtemp(join(tmpdir(), "fti-offline-query-"));
  const engine = await createQueryEngine({ threads: 2, memoryLimit: "1GB", tempDirectory: join(root, "_spill"), maxConcurrentQueries: 4 });
  const store = await createOfflineStore({ root, duckdb: engine.instance });
  const schema = `test_offline_query_${uniqueId()}`;
  const pool = createPool({ connectionString: databaseUrl, schema, logger: silentLogger });
  await migrate(pool, { schema, migrations: await loadMigrations(fileURLToPath(new URL("../migrations", import.meta.url))), logger: silentLogger });
  const registryClient = createRegistryClient(registry.server.grpcAddress);
  const metadata = createMetadataCache({ registry: registryClient, nats: registry.nats, eventSubjectPrefix: registry.subjectPrefix, logger: silentLogger });
  const server = await build({ pool, registry: registryClient, metadata, store, engine, offlineRoot: root, logger: process.env.FTI_TEST_LOG ? createLogger({ level: "debug", base: { service: "offline-query" } }) : silentLogger, trainingDatasetWorkers: options.workers ?? 1, jobPollIntervalMs: 50, healthIntervalMs: 200 }).listen({ grpcPort: 0, webPort: 0 });
  const client = grpcChannel(server.grpcAddress);
  return {
    registry,
    project,
    root,
    store,
    engine,
    metadata,
    pool,
    server,
    client,
    async call(method, request) {
      return (await unary(client, method, request, { deadlineMs: 30_000 })).response;
    },
    stream: (method, request) => serverStream(client, method, request),
    async createGroup(id, group) {
      const created = (await registry.call(registryRpc.createFeatureGroup, { parent: `projects/${project}`, featureGroupId: id, featureGroup: group })).featureGroup!;
      await store.createTable({ project, featureGroup: id, version: created.version }, featureGroupSchemaFromWire(created));
      return created.name;
    },
    async close() {
      client.close();
      await server.shutdown(1_000);
      await metadata.close();
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await pool.end().catch(() => {});
      engine.close();
      await registry.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Every row of a stream of batches, as plain rows. */
export function rowsOf(batches: readonly (RecordBatch | undefined)[]): Row[] {
  const out: Row[] = [];
  for (const b of batches) {
    if (!b) continue;
    const decoded = decodeRecordBatch(b);
    for (let i = 0; i < decoded.rowCount; i++) {
      const row: Row = {};
      for (const [name, values] of Object.entries(decoded.columns)) row[name] = values[i] ?? null;
      out.push(row);
    }
  }
  return out;
}

export function columnNames(batch: RecordBatch | undefined): string[] {
  return batch?.columns.map((c) => c.name) ?? [];
}
