// An ingestion service against its own Postgres schema, NATS streams and
// subjects, offline root (temp dir) and online store (Postgres schema or
// Cassandra keyspace), with a real registry (services/registry/test/harness)
// holding its feature groups. The service runs in-process on port 0, or as a
// real child process (main.ts) that a test can kill -9 and restart.
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import type { DescMessage, DescMethod, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { jetstreamManager } from "@nats-io/jetstream";
import { createPool, loadMigrations, migrate, type Pool } from "@fti/db";
import { connectNats, type NatsConnection } from "@fti/events";
import { silentLogger } from "@fti/logger";
import { createOfflineStore, type OfflineStore } from "@fti/offline-store";
import { createCassandraOnlineStore, createPostgresOnlineStore, type OnlineStore, type OnlineTable } from "@fti/online-store";
import { IngestionService } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import type { FeatureGroupSchema as FeatureGroupMessageSchema } from "@fti/proto/fti/registry/v1/feature_group_pb";
import { ScalarType } from "@fti/proto/fti/common/v1/types_pb";
import { recordBatchMessage } from "@fti/record-batch";
import { createMetadataCache, createRegistryClient, type MetadataCache } from "@fti/registry-client";
import type { FeatureGroupSchema, Row, Value } from "@fti/schema";
import { grpcChannel, unary, clientStream } from "../../../libs/server/test/grpc-client.js";
import { databaseUrl, natsUrl, rpc as registryRpc, startRegistry, uniqueId, type Harness as RegistryHarness } from "../../registry/test/harness.js";
import { scalar } from "../../registry/test/fixtures.js";
import { build, type RunningIngestion } from "../src/server.js";

export { statusOf, until } from "../../registry/test/harness.js";
// The online store's own cassandra-driver (4.x, which takes host:port contact points), not the root's.
const cassandra = createRequire(new URL("../../../libs/online-store/package.json", import.meta.url))("cassandra-driver") as typeof import("../../../libs/online-store/node_modules/cassandra-driver/index.js");
export const rpc = IngestionService.method;
const migrationsDir = fileURLToPath(new URL("../migrations", import.meta.url));
const mainScript = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

export type OnlineKind = "postgres" | "cassandra";

export interface StartOptions {
  online?: OnlineKind;
  /** Run the service in this process (default) or leave it to `spawnService`. */
  inProcess?: boolean;
  maxBatchRows?: number;
  microBatchRows?: number;
  microBatchMs?: number;
  streamEnabled?: boolean;
  materializeMaxRowsPerSecond?: number;
  /** Wrap the online store (e.g. to make it fail). */
  wrapOnline?: (store: OnlineStore) => OnlineStore;
}

export interface Harness {
  registry: RegistryHarness;
  project: string;
  schema: string;
  pool: Pool;
  nats: NatsConnection;
  offlineRoot: string;
  /** A reader of the same offline root (own DuckDB). */
  offline: OfflineStore;
  /** The same online store the service writes. */
  online: OnlineStore;
  streamPrefix: string;
  subjectPrefix: string;
  server: RunningIngestion | undefined;
  address: string;
  call<I extends DescMessage, O extends DescMessage>(method: DescMethod & { input: I; output: O }, request: MessageInitShape<I>, deadlineMs?: number): Promise<MessageShape<O>>;
  stream<I extends DescMessage, O extends DescMessage>(method: DescMethod & { input: I; output: O }, requests: MessageInitShape<I>[]): Promise<MessageShape<O>>;
  /** Creates a feature group (version 1) in the test project; returns its version name. */
  createGroup(id: string, group: MessageInitShape<typeof FeatureGroupMessageSchema>): Promise<string>;
  /** Environment for a child process running services/ingestion/src/main.ts against this harness. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Points `call` at another server (a spawned process). */
  connect(address: string): void;
  close(): Promise<void>;
}

export async function startIngestion(options: StartOptions = {}): Promise<Harness> {
  const registry = await startRegistry();
  const id = uniqueId();
  const project = `p_${id.replace(/[^a-z0-9]/g, "")}`;
  await registry.call(registryRpc.createProject, { projectId: project, project: {} });
  const schema = `test_ingestion_${id}`;
  const pool = createPool({ connectionString: databaseUrl, schema, logger: silentLogger });
  await migrate(pool, { schema, migrations: await loadMigrations(migrationsDir), logger: silentLogger });
  const nats = await connectNats({ url: natsUrl, name: "ingestion-test", logger: silentLogger });
  const offlineRoot = await mkdtemp(join(tmpdir(), "fti-ingestion-"));
  const offline = await createOfflineStore({ root: offlineRoot });
  const onlineKind = options.online ?? "postgres";
  const onlineSchema = `test_online_${id}`;
  const cassandraKeyspace = `ingestion_test_${id.replace(/[^a-z0-9]/g, "")}`;
  const online =
    onlineKind === "cassandra"
      ? createCassandraOnlineStore({ contactPoints: [cassandraContactPoint()], localDataCenter: "datacenter1", keyspace: cassandraKeyspace, consistency: "ONE" })
      : createPostgresOnlineStore({ connectionString: databaseUrl, schema: onlineSchema });
  const streamPrefix = `TEST_INGESTION_${id}`;
  const subjectPrefix = `test.ingestion.${id}`;
  let metadata: MetadataCache | undefined;
  let server: RunningIngestion | undefined;
  let serverOffline: OfflineStore | undefined;

  if (options.inProcess ?? true) {
    metadata = createMetadataCache({ registry: createRegistryClient(registry.server.grpcAddress), nats: registry.nats, eventSubjectPrefix: registry.subjectPrefix, logger: silentLogger });
    serverOffline = await createOfflineStore({ root: offlineRoot });
    server = await build({
      pool,
      nats,
      logger: silentLogger,
      metadata,
      offline: serverOffline,
      online: options.wrapOnline ? options.wrapOnline(online) : online,
      natsStreamPrefix: streamPrefix,
      natsSubjectPrefix: subjectPrefix,
      maxBatchRows: options.maxBatchRows,
      streamEnabled: options.streamEnabled,
      microBatchRows: options.microBatchRows,
      microBatchMs: options.microBatchMs,
      materializeMaxRowsPerSecond: options.materializeMaxRowsPerSecond,
      pollIntervalMs: 100,
      healthIntervalMs: 200,
    }).listen({ grpcPort: 0, webPort: 0 });
  }
  let client = server ? grpcChannel(server.grpcAddress) : undefined;
  let address = server?.grpcAddress ?? "";

  const h: Harness = {
    registry,
    project,
    schema,
    pool,
    nats,
    offlineRoot,
    offline,
    online,
    streamPrefix,
    subjectPrefix,
    server,
    get address() {
      return address;
    },
    async call(method, request, deadlineMs = 30_000) {
      return (await unary(client!, method, request, { deadlineMs })).response;
    },
    stream: (method, requests) => clientStream(client!, method, requests),
    async createGroup(groupId, group) {
      const res = await registry.call(registryRpc.createFeatureGroup, { parent: `projects/${project}`, featureGroupId: groupId, featureGroup: group });
      return res.featureGroup!.name;
    },
    env(extra = {}) {
      return {
        PATH: process.env.PATH ?? "",
        FTI_DATABASE_URL: databaseUrl,
        FTI_DATABASE_SCHEMA: schema,
        FTI_NATS_URL: natsUrl,
        FTI_NATS_STREAM_PREFIX: streamPrefix,
        FTI_NATS_SUBJECT_PREFIX: subjectPrefix,
        FTI_OFFLINE_ROOT: offlineRoot,
        FTI_ONLINE_STORE: onlineKind,
        FTI_ONLINE_POSTGRES_SCHEMA: onlineSchema,
        FTI_CASSANDRA_CONTACT_POINTS: onlineKind === "cassandra" ? cassandraContactPoint() : "127.0.0.1:9042",
        FTI_CASSANDRA_KEYSPACE: cassandraKeyspace,
        FTI_CASSANDRA_CONSISTENCY: "ONE",
        FTI_REGISTRY_ADDRESS: registry.server.grpcAddress,
        FTI_HOST: "127.0.0.1",
        FTI_GRPC_PORT: "0",
        FTI_WEB_PORT: "0",
        FTI_OUTBOX_POLL_INTERVAL_MS: "100",
        FTI_HEALTH_INTERVAL_MS: "200",
        FTI_SHUTDOWN_GRACE_MS: "1000",
        ...extra,
      };
    },
    connect(to) {
      client?.close();
      client = grpcChannel(to);
      address = to;
    },
    async close() {
      client?.close();
      await server?.shutdown(1_000);
      await metadata?.close();
      serverOffline?.close();
      offline.close();
      if (onlineKind === "cassandra") {
        await online.close();
        const admin = new cassandra.Client({ contactPoints: [cassandraContactPoint()], localDataCenter: "datacenter1" });
        await admin.execute(`DROP KEYSPACE IF EXISTS "${cassandraKeyspace}"`).catch(() => {});
        await admin.shutdown();
      } else {
        await online.close();
        await pool.query(`DROP SCHEMA IF EXISTS ${onlineSchema} CASCADE`).catch(() => {});
      }
      const jsm = await jetstreamManager(nats);
      for (const s of ["EVENTS", "INGEST", "DEADLETTER"]) await jsm.streams.delete(`${streamPrefix}_${s}`).catch(() => {});
      await nats.close().catch(() => {});
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await pool.end().catch(() => {});
      await rm(offlineRoot, { recursive: true, force: true });
      await registry.close();
    },
  };
  return h;
}

function cassandraContactPoint(): string {
  const value = process.env.FTI_TEST_CASSANDRA;
  if (!value) throw new Error("FTI_TEST_CASSANDRA is unset: run the tests through vitest.config.ts (global setup)");
  return value;
}

export interface ServiceProcess {
  address: string;
  child: ChildProcess;
  /** Resolves with the exit code or signal. */
  exited: Promise<number | string>;
  /** Everything it logged. */
  output(): string;
}

/** Starts services/ingestion/src/main.ts as a real process and waits until it listens. */
export async function spawnService(h: Harness, extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", mainScript], { cwd: repoRoot, env: h.env(extraEnv), stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ingestion did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /"grpcPort":(\d+)[^\n]*"msg":"listening"/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(`127.0.0.1:${m[1]}`);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`ingestion exited (${code}) before listening:\n${output}`));
    });
  });
  return { address, child, exited, output: () => output };
}

// ---- a feature group and rows for it ----

/** transactions: account_id (string key), ts (event time), amount, merchant_id, is_fraud, country. */
export function transactionsGroup(extra: Record<string, unknown> = {}): MessageInitShape<typeof FeatureGroupMessageSchema> {
  return {
    schema: {
      features: [
        scalar("account_id", ScalarType.STRING),
        scalar("ts", ScalarType.TIMESTAMP),
        scalar("amount", ScalarType.DOUBLE),
        scalar("merchant_id", ScalarType.INT64),
        scalar("is_fraud", ScalarType.BOOL),
        scalar("country", ScalarType.STRING),
      ],
    },
    primaryKey: ["account_id"],
    eventTime: "ts",
    onlineEnabled: true,
    ...extra,
  } as MessageInitShape<typeof FeatureGroupMessageSchema>;
}

export const transactionsSchema: FeatureGroupSchema = {
  features: [
    { name: "account_id", type: "string" },
    { name: "ts", type: "timestamp" },
    { name: "amount", type: "double" },
    { name: "merchant_id", type: "int64" },
    { name: "is_fraud", type: "bool" },
    { name: "country", type: "string" },
  ],
  primaryKey: ["account_id"],
  eventTime: "ts",
};

export const t0 = Date.UTC(2024, 4, 1);

export function transaction(i: number, extra: Partial<Row> = {}): Row {
  return { account_id: `a${i}`, ts: new Date(t0 + i * 1000), amount: 10 + (i % 50), merchant_id: BigInt(100 + (i % 7)), is_fraud: i % 13 === 0, country: ["DE", "FR", "US"][i % 3]!, ...extra };
}

export function transactions(from: number, to: number, extra: Partial<Row> = {}): Row[] {
  return Array.from({ length: to - from }, (_, k) => transaction(from + k, extra));
}

/** Rows as a wire RecordBatch with the columns they hold (in schema order). */
export function recordBatch(rows: readonly Row[], schema: FeatureGroupSchema = transactionsSchema) {
  const names = new Set(rows.flatMap((r) => Object.keys(r)));
  const columns = schema.features.filter((f) => names.has(f.name)).map((f) => ({ name: f.name, type: f.type, values: rows.map((r) => (r[f.name] ?? null) as Value) }));
  return recordBatchMessage(rows.length, columns);
}

/** The online table of a group version in the harness's online store. */
export function onlineTable(name: string, schema: FeatureGroupSchema = transactionsSchema): OnlineTable {
  const m = /projects\/([^/]+)\/featureGroups\/([^/]+)\/versions\/(\d+)/.exec(name)!;
  return { project: m[1]!, featureGroup: m[2]!, version: Number(m[3]), schema };
}

export function offlineTable(h: Harness, name: string) {
  const t = onlineTable(name);
  return h.offline.table({ project: t.project, featureGroup: t.featureGroup, version: t.version });
}

/** How often each account id occurs in the latest offline snapshot. */
export async function offlineKeyCounts(h: Harness, name: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const row of await offlineTable(h, name).readRows({ columns: ["account_id"] })) counts.set(row.account_id as string, (counts.get(row.account_id as string) ?? 0) + 1);
  return counts;
}
