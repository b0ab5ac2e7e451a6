// Builds the offline-query server from its dependencies; main.ts listens.
// Tests call build() with their own Postgres schema, registry and offline
// root, on port 0. Training dataset workers run while the server listens.
import { OfflineQueryService } from "@fti/proto/fti/offline/v1/offline_pb";
import { createServer, service, type ListenOptions, type RunningServer } from "@fti/server";
import { postgresDependency, type Pool } from "@fti/db";
import { natsDependency, type NatsConnection } from "@fti/events";
import type { Logger } from "@fti/logger";
import type { OfflineStore } from "@fti/offline-store";
import type { MetadataCache, RegistryClient } from "@fti/registry-client";
import { createJobStore } from "./job-store.js";
import { createOfflineQuery } from "./offline-query.js";
import type { QueryEngine } from "./query-engine.js";
import routes from "./routes.js";
import { createTrainingDatasets } from "./training-datasets.js";

export interface OfflineQueryDependencies {
  pool: Pool;
  nats?: NatsConnection;
  registry: RegistryClient;
  metadata: MetadataCache;
  store: OfflineStore;
  engine: QueryEngine;
  offlineRoot: string;
  logger: Logger;
  healthIntervalMs?: number;
  trainingDatasetWorkers?: number;
  jobPollIntervalMs?: number;
  jobHeartbeatTimeoutMs?: number;
  logRequests?: boolean;
}

export function build(deps: OfflineQueryDependencies) {
  const base = { metadata: deps.metadata, store: deps.store, engine: deps.engine, logger: deps.logger };
  const trainingDatasets = createTrainingDatasets({
    ...base,
    registry: deps.registry,
    jobs: createJobStore(deps.pool),
    offlineRoot: deps.offlineRoot,
    workers: deps.trainingDatasetWorkers ?? 1,
    pollIntervalMs: deps.jobPollIntervalMs,
    heartbeatTimeoutMs: deps.jobHeartbeatTimeoutMs,
  });
  const offline = createOfflineQuery({ ...base, trainingDatasets });
  const server = createServer({
    name: "offline-query",
    services: [service(OfflineQueryService, routes(offline))],
    dependencies: [postgresDependency(deps.pool), ...(deps.nats ? [natsDependency(deps.nats)] : [])],
    logger: deps.logger,
    healthIntervalMs: deps.healthIntervalMs,
    logRequests: deps.logRequests,
    defaultMetrics: true,
  });
  return {
    ...server,
    offline,
    async listen(options: ListenOptions): Promise<RunningServer> {
      const running = await server.listen(options);
      const workers = trainingDatasets.start();
      return {
        ...running,
        async shutdown(graceMs?: number) {
          await running.shutdown(graceMs);
          await workers.stop();
        },
      };
    },
  };
}
