// All six services in this process, each built with build() and listening on
// port 0, as one installation: their own Postgres schemas, one NATS stream
// prefix and subject prefix of their own, one temp offline root, and a
// Postgres online store in a schema of its own. What `make up` runs as six
// processes, in a form a test can start and throw away.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import { jetstreamManager } from "@nats-io/jetstream";
import { createPool, loadMigrations, migrate, type Pool } from "@fti/db";
import { connectNats, ensureStream, type NatsConnection } from "@fti/events";
import { createLogger, silentLogger, type Logger } from "@fti/logger";
import { createOfflineStore } from "@fti/offline-store";
import { createPostgresOnlineStore } from "@fti/online-store";
import { createMetadataCache, createRegistryClient } from "@fti/registry-client";
import type { RunningServer } from "@fti/server";
import { build as buildRegistry } from "../../../services/registry/src/server.js";
import { build as buildIngestion } from "../../../services/ingestion/src/server.js";
import { build as buildOfflineQuery } from "../../../services/offline-query/src/server.js";
import { createQueryEngine } from "../../../services/offline-query/src/query-engine.js";
import { build as buildServing } from "../../../services/online-serving/src/server.js";
import { build as buildTraining } from "../../../services/training-runner/src/server.js";
import { build as buildMonitoring } from "../../../services/monitoring/src/server.js";
import type { PlatformOptions } from "../src/platform.js";

export const databaseUrl = process.env.FTI_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const natsUrl = process.env.FTI_TEST_NATS_URL ?? "nats://127.0.0.1:4222";

const migrations = (service: string) => fileURLToPath(new URL(`../../../services/${service}/migrations`, import.meta.url));

export interface InProcessPlatform {
  /** What the example's run() needs to reach this installation. */
  options: PlatformOptions;
  offlineRoot: string;
  close(): Promise<void>;
}

export async function startPlatform(): Promise<InProcessPlatform> {
  const id = randomBytes(4).toString("hex");
  const streamPrefix = `FRAUD_TEST_${id.toUpperCase()}`;
  const subjectPrefix = `fraudtest_${id}`;
  const eventStream = `${streamPrefix}_EVENTS`;
  const eventSubjectPrefix = `${subjectPrefix}.events`;
  const logger: Logger = process.env.FTI_TEST_LOG ? createLogger({ level: process.env.FTI_TEST_LOG as "debug" }) : silentLogger;
  const offlineRoot = await mkdtemp(join(tmpdir(), "fti-fraud-"));
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  const schemas: string[] = [];

  async function pool(service: string, withMigrations = true): Promise<Pool> {
    const schema = `test_fraud_${id}_${service.replace("-", "_")}`;
    schemas.push(schema);
    const p = createPool({ connectionString: databaseUrl, schema, logger: silentLogger });
    if (withMigrations) await migrate(p, { schema, migrations: await loadMigrations(migrations(service)), logger: silentLogger });
    return p;
  }

  const nats: NatsConnection = await connectNats({ url: natsUrl, name: "fraud-test", logger: silentLogger });
  await ensureStream(nats, { name: eventStream, subjects: [`${eventSubjectPrefix}.>`] });
  const servers: RunningServer[] = [];
  const pools: Pool[] = [];
  const onlineSchema = `test_fraud_${id}_online`;
  schemas.push(onlineSchema);
  try {
    const log = (service: string) => logger.child({ service });

    const registryPool = await pool("registry");
    pools.push(registryPool);
    const registry = await buildRegistry({ pool: registryPool, nats, logger: log("registry"), eventStream, eventSubjectPrefix, offlineRoot, relayPollIntervalMs: 100, healthIntervalMs: 500 }).listen({ grpcPort: 0, webPort: 0 });
    servers.push(registry);
    const registryAddress = registry.grpcAddress;
    const cache = (maxAgeMs?: number) => {
      const c = createMetadataCache({ registry: createRegistryClient(registryAddress), nats, eventSubjectPrefix, logger: silentLogger, maxAgeMs });
      cleanups.push(() => c.close());
      return c;
    };

    const ingestionPool = await pool("ingestion");
    pools.push(ingestionPool);
    const ingestionOnline = createPostgresOnlineStore({ connectionString: databaseUrl, schema: onlineSchema });
    cleanups.push(() => ingestionOnline.close());
    const ingestionOffline = await createOfflineStore({ root: offlineRoot });
    cleanups.push(() => ingestionOffline.close());
    const ingestion = await buildIngestion({
      pool: ingestionPool,
      nats,
      logger: log("ingestion"),
      metadata: cache(),
      offline: ingestionOffline,
      online: ingestionOnline,
      natsStreamPrefix: streamPrefix,
      natsSubjectPrefix: subjectPrefix,
      pollIntervalMs: 200,
      healthIntervalMs: 500,
    }).listen({ grpcPort: 0, webPort: 0 });
    servers.push(ingestion);

    const offlinePool = await pool("offline-query");
    pools.push(offlinePool);
    const engine = await createQueryEngine({ threads: 2, memoryLimit: "1GB", tempDirectory: join(offlineRoot, "_spill"), maxConcurrentQueries: 4 });
    cleanups.push(() => engine.close());
    const offlineStore = await createOfflineStore({ root: offlineRoot, duckdb: engine.instance });
    const offlineQuery = await buildOfflineQuery({
      pool: offlinePool,
      nats,
      registry: createRegistryClient(registryAddress),
      metadata: cache(),
      store: offlineStore,
      engine,
      offlineRoot,
      logger: log("offline-query"),
      jobPollIntervalMs: 100,
      healthIntervalMs: 500,
    }).listen({ grpcPort: 0, webPort: 0 });
    servers.push(offlineQuery);

    const servingOnline = createPostgresOnlineStore({ connectionString: databaseUrl, schema: onlineSchema });
    cleanups.push(() => servingOnline.close());
    const serving = await buildServing({
      store: servingOnline,
      registry: createRegistryClient(registryAddress),
      nats,
      logger: log("online-serving"),
      offlineRoot,
      eventSubjectPrefix,
      healthIntervalMs: 500,
      predictionLog: { flushIntervalMs: 200 },
    }).listen({ grpcPort: 0, webPort: 0 });
    servers.push(serving);

    const trainingPool = await pool("training-runner");
    pools.push(trainingPool);
    const training = await buildTraining({
      pool: trainingPool,
      nats,
      logger: log("training-runner"),
      registryAddress,
      offlineQueryAddress: offlineQuery.grpcAddress,
      offlineRoot,
      workDir: join(offlineRoot, "_work"),
      pollIntervalMs: 200,
      healthIntervalMs: 500,
      eventStream,
      eventSubjectPrefix,
      triggerConsumer: `fraud_test_${id}_training`,
    }).listen({ grpcPort: 0, webPort: 0 });
    servers.push(training);

    const monitoringPool = await pool("monitoring");
    pools.push(monitoringPool);
    const duckdb = await DuckDBInstance.create(":memory:");
    cleanups.push(() => duckdb.closeSync());
    const monitoringOffline = await createOfflineStore({ root: offlineRoot, duckdb });
    cleanups.push(() => monitoringOffline.close());
    const monitoring = await buildMonitoring({
      pool: monitoringPool,
      nats,
      cache: cache(2_000),
      offlineStore: monitoringOffline,
      duckdb,
      logger: log("monitoring"),
      eventStream,
      eventSubjectPrefix,
      consumerName: `fraud_test_${id}_monitoring`,
      evaluationIntervalMs: 1_000,
      relayPollIntervalMs: 100,
      healthIntervalMs: 500,
    }).listen({ grpcPort: 0, webPort: 0 });
    servers.push(monitoring);

    const url = (s: RunningServer) => `http://${s.grpcAddress}`;
    return {
      offlineRoot,
      options: {
        urls: { registry: url(registry), ingestion: url(ingestion), "offline-query": url(offlineQuery), "online-serving": url(serving), "training-runner": url(training), monitoring: url(monitoring) },
        natsUrl,
        natsSubjectPrefix: subjectPrefix,
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }

  async function close() {
    for (const s of servers.reverse()) await s.shutdown(1_000).catch(() => {});
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
    for (const p of pools) await p.end().catch(() => {});
    const admin = createPool({ connectionString: databaseUrl, schema: "public", logger: silentLogger });
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await admin.end().catch(() => {});
    const jsm = await jetstreamManager(nats);
    for (const suffix of ["EVENTS", "INGEST", "DEADLETTER"]) await jsm.streams.delete(`${streamPrefix}_${suffix}`).catch(() => {});
    await nats.close().catch(() => {});
    await rm(offlineRoot, { recursive: true, force: true });
  }
}
