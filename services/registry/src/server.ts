// Builds the registry server from its dependencies; main.ts listens. Tests
// call build() with their own Postgres schema and NATS names, on port 0.
// The outbox relay runs while the server listens and stops after it drains.
import { RegistryService } from "@fti/proto/fti/registry/v1/registry_pb";
import { createServer, service, type ListenOptions, type RunningServer } from "@fti/server";
import { postgresDependency, type Pool } from "@fti/db";
import { natsDependency, type NatsConnection } from "@fti/events";
import type { Logger } from "@fti/logger";
import { startOutboxRelay, type OutboxRelay } from "@fti/events";
import { createRegistry } from "./registry.js";
import routes from "./routes.js";

export interface RegistryDependencies {
  pool: Pool;
  nats: NatsConnection;
  logger: Logger;
  healthIntervalMs?: number;
  /** The JetStream stream events are stored in. Default FTI_EVENTS. */
  eventStream?: string;
  /** Event subjects are "<eventSubjectPrefix>.<type>.<project>...". Default "fti.events". */
  eventSubjectPrefix?: string;
  /** Root of the offline store, for feature group table URIs. */
  offlineRoot?: string;
  /** How often the relay looks for unpublished events besides being woken by commits. */
  relayPollIntervalMs?: number;
}

export interface RunningRegistry extends RunningServer {
  relay: OutboxRelay;
}

export function build(deps: RegistryDependencies) {
  const subjectPrefix = deps.eventSubjectPrefix ?? "fti.events";
  let relay: OutboxRelay | undefined;
  const registry = createRegistry({ pool: deps.pool, logger: deps.logger, events: { subjectPrefix }, offlineRoot: deps.offlineRoot, onCommit: () => relay?.notify() });
  const server = createServer({
    name: "registry",
    services: [service(RegistryService, routes(registry))],
    dependencies: [postgresDependency(deps.pool), natsDependency(deps.nats)],
    logger: deps.logger,
    healthIntervalMs: deps.healthIntervalMs,
    defaultMetrics: true,
  });

  return {
    ...server,
    registry,
    async listen(options: ListenOptions): Promise<RunningRegistry> {
      const running = await server.listen(options);
      const started = startOutboxRelay({
        pool: deps.pool,
        nats: deps.nats,
        logger: deps.logger.child({ component: "outbox-relay" }),
        stream: deps.eventStream ?? "FTI_EVENTS",
        subjectPrefix,
        pollIntervalMs: deps.relayPollIntervalMs,
      });
      relay = started;
      return {
        ...running,
        relay: started,
        async shutdown(graceMs?: number) {
          await running.shutdown(graceMs);
          await started.stop();
        },
      };
    },
  };
}
