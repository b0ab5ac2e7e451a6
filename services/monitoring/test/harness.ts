// A monitoring server on port 0 beside a real registry (its harness), each
// with its own Postgres schema, sharing one test NATS stream and subject
// prefix, plus a temp offline root. Tests publish the events ingestion and
// online-serving would publish onto that stream.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, fromBinary, type DescMessage, type DescMethod, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { DuckDBInstance } from "@duckdb/node-api";
import type * as grpc from "@grpc/grpc-js";
import { createPool, loadMigrations, migrate, type Pool } from "@fti/db";
import { ensureStream, publishMessage } from "@fti/events";
import { createLogger, silentLogger } from "@fti/logger";
import { createOfflineStore, type OfflineStore } from "@fti/offline-store";
import { createMetadataCache, createRegistryClient, type MetadataCache } from "@fti/registry-client";
import { EventSchema, type Event } from "@fti/proto/fti/events/v1/events_pb";
import { MonitoringService } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { grpcChannel, unary } from "../../../libs/server/test/grpc-client.js";
import { databaseUrl, startRegistry, uniqueId, type Harness as RegistryHarness } from "../../registry/test/harness.js";
import { build, type RunningMonitoring } from "../src/server.js";

export { statusOf, until } from "../../registry/test/harness.js";
export const rpc = MonitoringService.method;
export const migrationsDir = fileURLToPath(new URL("../migrations", import.meta.url));

export interface MonitoringHarness {
  registry: RegistryHarness;
  pool: Pool;
  schema: string;
  offlineRoot: string;
  offlineStore: OfflineStore;
  duckdb: DuckDBInstance;
  cache: MetadataCache;
  server: RunningMonitoring;
  stream: string;
  subjectPrefix: string;
  call<I extends DescMessage, O extends DescMessage>(method: DescMethod & { input: I; output: O }, request: MessageInitShape<I>): Promise<MessageShape<O>>;
  /** Publishes an event as its producer would (Nats-Msg-Id = event id). */
  publish(type: string, subjectTokens: string[], payload: MessageInitShape<typeof EventSchema>["payload"], timeMs?: number): Promise<void>;
  /** Every event on the stream under a subject filter so far. */
  events(filter: string): Promise<Event[]>;
  close(): Promise<void>;
}

/** With `registry`, shares that registry (and its stream) and leaves closing it to its owner. */
export async function startMonitoring(options: { registry?: RegistryHarness; windowSettleMs?: number } = {}): Promise<MonitoringHarness> {
  const registry = options.registry ?? (await startRegistry());
  const schema = `test_monitoring_${uniqueId()}`;
  const pool = createPool({ connectionString: databaseUrl, schema, logger: silentLogger });
  await migrate(pool, { schema, migrations: await loadMigrations(migrationsDir), logger: silentLogger });
  // Monitoring's events share the registry's test stream, as in production (one FTI_EVENTS).
  const stream = registry.stream;
  const subjectPrefix = registry.subjectPrefix;
  await ensureStream(registry.nats, { name: stream, subjects: [`${subjectPrefix}.>`] });
  const offlineRoot = await mkdtemp(join(tmpdir(), "fti-monitoring-"));
  const duckdb = await DuckDBInstance.create(":memory:");
  const offlineStore = await createOfflineStore({ root: offlineRoot, duckdb });
  const cache = createMetadataCache({ registry: createRegistryClient(registry.server.grpcAddress), nats: registry.nats, eventSubjectPrefix: subjectPrefix, logger: silentLogger, maxAgeMs: 1_000 });
  const server = await build({
    pool,
    nats: registry.nats,
    cache,
    offlineStore,
    duckdb,
    logger: process.env.FTI_TEST_LOG ? createLogger({ level: "debug" }) : silentLogger,
    eventStream: stream,
    eventSubjectPrefix: subjectPrefix,
    consumerName: `monitoring_${uniqueId()}`,
    evaluationIntervalMs: 100,
    allowedLatenessMs: 0,
    windowSettleMs: options.windowSettleMs,
    minWindowMs: 1_000,
    relayPollIntervalMs: 100,
    healthIntervalMs: 200,
  }).listen({ grpcPort: 0, webPort: 0 });
  const client: grpc.Client = grpcChannel(server.grpcAddress);

  return {
    registry,
    pool,
    schema,
    offlineRoot,
    offlineStore,
    duckdb,
    cache,
    server,
    stream,
    subjectPrefix,
    async call(method, request) {
      return (await unary(client, method, request, { deadlineMs: 20_000 })).response;
    },
    async publish(type, subjectTokens, payload, timeMs = Date.now()) {
      const id = crypto.randomUUID();
      const subject = [subjectPrefix, type, ...subjectTokens].join(".");
      await publishMessage(registry.nats, subject, EventSchema, { id, time: timestampFromMs(timeMs), source: "test", type, subject, payload }, { msgId: id });
    },
    async events(filter) {
      const { jetstreamManager } = await import("@nats-io/jetstream");
      const jsm = await jetstreamManager(registry.nats);
      const info = await jsm.streams.info(stream);
      const out: Event[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const msg = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
        if (msg && subjectMatches(filter, msg.subject)) out.push(fromBinary(EventSchema, msg.data));
      }
      return out;
    },
    async close() {
      client.close();
      await server.shutdown(1_000);
      await cache.close();
      offlineStore.close();
      duckdb.closeSync();
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await pool.end().catch(() => {});
      if (!options.registry) await registry.close();
      await rm(offlineRoot, { recursive: true, force: true });
    },
  };
}

/** NATS subject matching with `*` and `>`. */
function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split(".");
  const s = subject.split(".");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === ">") return s.length > i;
    if (f[i] !== "*" && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

export { create };
