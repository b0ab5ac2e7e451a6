// The ingestion process: reads config, migrates its schema, connects to NATS,
// the registry and both stores, listens on the gRPC and web ports, and drains
// on SIGTERM.
import { loadConfig, redact } from "@fti/config";
import { createLogger } from "@fti/logger";
import { openServiceDatabase } from "@fti/db";
import { connectNats, eventNames } from "@fti/events";
import { createOfflineStore } from "@fti/offline-store";
import { createOnlineStore } from "@fti/online-store";
import { createMetadataCache, createRegistryClient } from "@fti/registry-client";
import { shutdownOnSignals } from "@fti/server";
import { ingestionSettings } from "./config.js";
import { build } from "./server.js";

const config = loadConfig(ingestionSettings);
const logger = createLogger({ level: config.logLevel, base: { service: "ingestion" } });
logger.info("starting", { config: redact(ingestionSettings, config) });

const pool = await openServiceDatabase(config, new URL("../migrations", import.meta.url), logger);
const nats = await connectNats({ url: config.natsUrl, name: "fti-ingestion", logger });
const metadata = createMetadataCache({
  registry: createRegistryClient(config.registryAddress),
  nats,
  eventSubjectPrefix: eventNames(config).eventSubjectPrefix,
  maxAgeMs: config.metadataCacheMaxAgeMs,
  logger,
});
const offline = await createOfflineStore({ root: config.offlineRoot, logger });
const online = createOnlineStore(
  config.onlineStore === "cassandra"
    ? { type: "cassandra", contactPoints: config.cassandraContactPoints, localDataCenter: config.cassandraLocalDc, keyspace: config.cassandraKeyspace, consistency: config.cassandraConsistency }
    : { type: "postgres", connectionString: config.databaseUrl, schema: config.onlinePostgresSchema },
  logger,
);

const server = await build({
  pool,
  nats,
  logger,
  metadata,
  offline,
  online,
  healthIntervalMs: config.healthIntervalMs,
  natsStreamPrefix: config.natsStreamPrefix,
  natsSubjectPrefix: config.natsSubjectPrefix,
  maxBatchRows: config.maxBatchRows,
  streamEnabled: config.streamEnabled,
  microBatchRows: config.microBatchRows,
  microBatchMs: config.microBatchMs,
  streamAckWaitMs: config.streamAckWaitMs,
  streamDedupRetentionHours: config.streamDedupRetentionHours,
  materializeMaxRowsPerSecond: config.materializeMaxRowsPerSecond,
  pollIntervalMs: config.relayPollIntervalMs,
}).listen({ host: config.host, grpcPort: config.grpcPort, webPort: config.webPort });
shutdownOnSignals(server, config.shutdownGraceMs, async () => {
  await metadata.close();
  await online.close();
  offline.close();
  await nats.drain().catch(() => {});
  await pool.end();
});
