// The registry process: reads config, migrates its schema, connects to NATS,
// listens on the gRPC and web ports, and drains on SIGTERM.
import { loadConfig, redact } from "@fti/config";
import { createLogger } from "@fti/logger";
import { openServiceDatabase } from "@fti/db";
import { connectNats, eventNames } from "@fti/events";
import { shutdownOnSignals } from "@fti/server";
import { registrySettings } from "./config.js";
import { build } from "./server.js";

const config = loadConfig(registrySettings);
const logger = createLogger({ level: config.logLevel, base: { service: "registry" } });
logger.info("starting", { config: redact(registrySettings, config) });

const pool = await openServiceDatabase(config, new URL("../migrations", import.meta.url), logger);
const nats = await connectNats({ url: config.natsUrl, name: "fti-registry", logger });

const server = await build({
  pool,
  nats,
  logger,
  healthIntervalMs: config.healthIntervalMs,
  ...eventNames(config),
  offlineRoot: config.offlineRoot,
  relayPollIntervalMs: config.relayPollIntervalMs,
}).listen({ host: config.host, grpcPort: config.grpcPort, webPort: config.webPort });
shutdownOnSignals(server, config.shutdownGraceMs, async () => {
  await nats.drain().catch(() => {});
  await pool.end();
});
