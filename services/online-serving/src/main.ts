// The online-serving process: reads config, opens the online store, connects
// to NATS and the registry, listens on the gRPC and web ports, and drains on
// SIGTERM.
import { loadConfig, redact } from "@fti/config";
import { createLogger } from "@fti/logger";
import { connectNats, eventNames } from "@fti/events";
import { createOnlineStore } from "@fti/online-store";
import { createRegistryClient } from "@fti/registry-client";
import { shutdownOnSignals } from "@fti/server";
import { onlineServingSettings } from "./config.js";
import { build } from "./server.js";

const config = loadConfig(onlineServingSettings);
const logger = createLogger({ level: config.logLevel, base: { service: "online-serving" } });
logger.info("starting", { config: redact(onlineServingSettings, config) });

const store = createOnlineStore(
  config.onlineStore === "cassandra"
    ? { type: "cassandra", contactPoints: config.cassandraContactPoints, localDataCenter: config.cassandraLocalDc, keyspace: config.cassandraKeyspace, consistency: config.cassandraConsistency }
    : { type: "postgres", connectionString: config.databaseUrl },
  logger,
);
const nats = await connectNats({ url: config.natsUrl, name: "fti-online-serving", logger });
const registry = createRegistryClient(config.registryAddress);

const server = await build({
  store,
  registry,
  nats,
  logger,
  offlineRoot: config.offlineRoot,
  eventSubjectPrefix: eventNames(config).eventSubjectPrefix,
  healthIntervalMs: config.healthIntervalMs,
  metadataResyncIntervalMs: config.metadataResyncIntervalMs,
  modelRetireGraceMs: config.modelRetireGraceMs,
  predictionLog: { batchSize: config.predictionLogBatchSize, flushIntervalMs: config.predictionLogFlushIntervalMs, bufferSize: config.predictionLogBufferSize },
}).listen({ host: config.host, grpcPort: config.grpcPort, webPort: config.webPort });
shutdownOnSignals(server, config.shutdownGraceMs, async () => {
  await nats.drain().catch(() => {});
  await store.close();
});
