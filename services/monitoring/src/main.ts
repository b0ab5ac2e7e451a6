// The monitoring process: reads config, migrates its schema, connects to
// Postgres, NATS, the registry and the offline store, listens on the gRPC and
// web ports, and drains on SIGTERM.
import { DuckDBInstance } from "@duckdb/node-api";
import { loadConfig, redact } from "@fti/config";
import { createLogger } from "@fti/logger";
import { openServiceDatabase } from "@fti/db";
import { connectNats, ensureStream, eventNames } from "@fti/events";
import { createOfflineStore } from "@fti/offline-store";
import { createMetadataCache, createRegistryClient } from "@fti/registry-client";
import { shutdownOnSignals } from "@fti/server";
import { monitoringSettings } from "./config.js";
import { build } from "./server.js";

const config = loadConfig(monitoringSettings);
const logger = createLogger({ level: config.logLevel, base: { service: "monitoring" } });
logger.info("starting", { config: redact(monitoringSettings, config) });

const pool = await openServiceDatabase(config, new URL("../migrations", import.meta.url), logger);
const nats = await connectNats({ url: config.natsUrl, name: "fti-monitoring", logger });
const { eventStream, eventSubjectPrefix } = eventNames(config);
// The inputs' durable consumer needs the stream; whoever starts first creates it.
await ensureStream(nats, { name: eventStream, subjects: [`${eventSubjectPrefix}.>`] });
const cache = createMetadataCache({ registry: createRegistryClient(config.registryAddress), nats, eventSubjectPrefix, maxAgeMs: config.metadataCacheMaxAgeMs, logger });
const duckdb = await DuckDBInstance.create(":memory:");
const offlineStore = await createOfflineStore({ root: config.offlineRoot, duckdb, logger });

const server = await build({
  pool,
  nats,
  cache,
  offlineStore,
  duckdb,
  logger,
  healthIntervalMs: config.healthIntervalMs,
  eventStream,
  eventSubjectPrefix,
  evaluationIntervalMs: config.evaluationIntervalMs,
  allowedLatenessMs: config.allowedLatenessMs,
  windowSettleMs: config.windowSettleMs,
  relayPollIntervalMs: config.relayPollIntervalMs,
}).listen({ host: config.host, grpcPort: config.grpcPort, webPort: config.webPort });
shutdownOnSignals(server, config.shutdownGraceMs, async () => {
  await cache.close();
  await nats.drain().catch(() => {});
  offlineStore.close();
  duckdb.closeSync();
  await pool.end();
});
