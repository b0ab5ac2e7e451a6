// The online-serving process: reads config, opens the online store, connects
// to NATS and the registry, listens on the gRPC and web ports, and drains on
// SIGTERM.
import { setFlagsFromString } from "node:v8";
import { loadConfig, redact } from "@fti/config";
import { createLogger } from "@fti/logger";
import { connectNats, eventNames } from "@fti/events";
import { createOnlineStore } from "@fti/online-store";
import { createRegistryClient } from "@fti/registry-client";
import { shutdownOnSignals } from "@fti/server";
import { onlineServingSettings } from "./config.js";
import { build } from "./server.js";

// V8 allocation-site pretenuring, on by default, moves allocation sites whose
// objects once survived a scavenge (a backlog at warm-up, say) to old space for
// good. On this request path it picked the per-request feature columns and
// pg's row-description fields: every request's vectors then went to old space,
// kept what they point to alive through each scavenge (≈3.6 MB promoted per
// scavenge at 2k rps, 4-5 ms scavenges instead of ~1 ms, a mark-compact every
// second) — that, amplified by queueing, was most of the p99 in bench/serving.
// Per-request garbage belongs in new space: turn the heuristic off. (A GC-time
// heuristic, read at every scavenge, so setting it at startup takes effect.)
setFlagsFromString("--no-allocation-site-pretenuring");

const config = loadConfig(onlineServingSettings);
const logger = createLogger({ level: config.logLevel, base: { service: "online-serving" } });
logger.info("starting", { config: redact(onlineServingSettings, config) });

const store = createOnlineStore(
  config.onlineStore === "cassandra"
    ? { type: "cassandra", contactPoints: config.cassandraContactPoints, localDataCenter: config.cassandraLocalDc, keyspace: config.cassandraKeyspace, consistency: config.cassandraConsistency }
    : { type: "postgres", connectionString: config.databaseUrl, schema: config.onlinePostgresSchema },
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
  preloadDeployments: config.preloadDeployments,
  predictionLog: { batchSize: config.predictionLogBatchSize, flushIntervalMs: config.predictionLogFlushIntervalMs, bufferSize: config.predictionLogBufferSize },
}).listen({ host: config.host, grpcPort: config.grpcPort, webPort: config.webPort });
shutdownOnSignals(server, config.shutdownGraceMs, async () => {
  await nats.drain().catch(() => {});
  await store.close();
});
