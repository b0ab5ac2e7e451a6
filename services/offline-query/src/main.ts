// The offline-query process: reads config, migrates its schema, connects to
// NATS (registry events keep its metadata cache fresh), listens, and drains
// on SIGTERM.
import { loadConfig, redact } from "@fti/config";
import { createLogger } from "@fti/logger";
import { openServiceDatabase } from "@fti/db";
import { connectNats } from "@fti/events";
import { createOfflineStore } from "@fti/offline-store";
import { createMetadataCache, createRegistryClient } from "@fti/registry-client";
import { shutdownOnSignals } from "@fti/server";
import { offlineQuerySettings } from "./config.js";
import { createQueryEngine } from "./query-engine.js";
import { build } from "./server.js";

const config = loadConfig(offlineQuerySettings);
const logger = createLogger({ level: config.logLevel, base: { service: "offline-query" } });
logger.info("starting", { config: redact(offlineQuerySettings, config) });

const pool = await openServiceDatabase(config, new URL("../migrations", import.meta.url), logger);
const nats = await connectNats({ url: config.natsUrl, name: "fti-offline-query", logger });
const registry = createRegistryClient(config.registryAddress);
const metadata = createMetadataCache({ registry, nats, eventSubjectPrefix: `${config.natsSubjectPrefix}.events`, maxAgeMs: config.metadataCacheMaxAgeMs, logger });
const engine = await createQueryEngine({ threads: config.duckdbThreads, memoryLimit: config.duckdbMemoryLimit, tempDirectory: config.duckdbTempDirectory, maxConcurrentQueries: config.maxConcurrentQueries });
const store = await createOfflineStore({ root: config.offlineRoot, duckdb: engine.instance, logger });

const server = await build({
  pool,
  nats,
  registry,
  metadata,
  store,
  engine,
  offlineRoot: config.offlineRoot,
  logger,
  healthIntervalMs: config.healthIntervalMs,
  trainingDatasetWorkers: config.trainingDatasetWorkers,
  jobPollIntervalMs: config.jobPollIntervalMs,
  jobHeartbeatTimeoutMs: config.jobHeartbeatTimeoutMs,
  logRequests: config.logRequests,
}).listen({ host: config.host, grpcPort: config.grpcPort, webPort: config.webPort });
shutdownOnSignals(server, config.shutdownGraceMs, async () => {
  await metadata.close();
  await nats.drain().catch(() => {});
  await pool.end();
  engine.close();
});
