// The training-runner process: reads config, migrates its schema, connects to
// NATS, listens on the gRPC and web ports, runs jobs, and drains on SIGTERM
// (running jobs are then marked FAILED so they can be submitted again).
import { loadConfig, redact } from "@fti/config";
import { createLogger } from "@fti/logger";
import { openServiceDatabase } from "@fti/db";
import { connectNats, eventNames } from "@fti/events";
import { shutdownOnSignals } from "@fti/server";
import { trainingRunnerSettings } from "./config.js";
import { build } from "./server.js";

const config = loadConfig(trainingRunnerSettings);
const logger = createLogger({ level: config.logLevel, base: { service: "training-runner" } });
logger.info("starting", { config: redact(trainingRunnerSettings, config) });

const pool = await openServiceDatabase(config, new URL("../migrations", import.meta.url), logger);
const nats = await connectNats({ url: config.natsUrl, name: "fti-training-runner", logger });
const names = eventNames(config);

const server = await build({
  pool,
  nats,
  logger,
  registryAddress: config.registryAddress,
  offlineQueryAddress: config.offlineQueryAddress,
  offlineRoot: config.offlineRoot,
  workDir: config.workDir,
  maxConcurrentJobs: config.maxConcurrentJobs,
  pollIntervalMs: config.jobPollIntervalMs,
  staleJobAfterMs: config.staleJobAfterMs,
  healthIntervalMs: config.healthIntervalMs,
  eventStream: names.eventStream,
  eventSubjectPrefix: names.eventSubjectPrefix,
  triggerConsumer: `${config.natsStreamPrefix.toLowerCase()}_training_runner_triggers`,
}).listen({ host: config.host, grpcPort: config.grpcPort, webPort: config.webPort });
shutdownOnSignals(server, config.shutdownGraceMs, async () => {
  await nats.drain().catch(() => {});
  await pool.end();
});
