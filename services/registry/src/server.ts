// Builds the registry server from its dependencies; main.ts listens. Tests
// call build() with their own Postgres schema and NATS names, on port 0.
import { RegistryService } from "@fti/proto/fti/registry/v1/registry_pb";
import { createServer, service } from "@fti/server";
import { postgresDependency, type Pool } from "@fti/db";
import { natsDependency, type NatsConnection } from "@fti/events";
import type { Logger } from "@fti/logger";
import routes from "./routes.js";

export interface RegistryDependencies {
  pool: Pool;
  nats: NatsConnection;
  logger: Logger;
  healthIntervalMs?: number;
}

export function build(deps: RegistryDependencies) {
  return createServer({
    name: "registry",
    services: [service(RegistryService, routes())],
    dependencies: [postgresDependency(deps.pool), natsDependency(deps.nats)],
    logger: deps.logger,
    healthIntervalMs: deps.healthIntervalMs,
    defaultMetrics: true,
  });
}
