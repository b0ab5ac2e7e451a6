// Builds the monitoring server from its dependencies; main.ts listens. Tests
// call build() with their own Postgres schema, NATS names and registry, on
// port 0. While the server listens, the input consumer, the evaluation loop
// and the outbox relay run; they stop after it drains.
import type { DuckDBInstance } from "@duckdb/node-api";
import { MonitoringService } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { createServer, service, type ListenOptions, type RunningServer } from "@fti/server";
import { postgresDependency, type Pool } from "@fti/db";
import { natsDependency, type NatsConnection, type Subscription } from "@fti/events";
import type { Logger } from "@fti/logger";
import type { OfflineStore } from "@fti/offline-store";
import type { MetadataCache } from "@fti/registry-client";
import { createDriftGauges } from "./drift-gauges.js";
import { createEvaluator, startEvaluationLoop } from "./evaluator.js";
import { startInputs } from "./inputs.js";
import { createMonitoring } from "./monitoring.js";
import { startOutboxRelay, type OutboxRelay } from "@fti/events";
import routes from "./routes.js";

export interface MonitoringDependencies {
  pool: Pool;
  nats: NatsConnection;
  cache: MetadataCache;
  offlineStore: OfflineStore;
  duckdb: DuckDBInstance;
  logger: Logger;
  healthIntervalMs?: number;
  /** The JetStream stream events are stored in. Default FTI_EVENTS. */
  eventStream?: string;
  /** Event subjects are "<eventSubjectPrefix>.<type>.<project>...". Default "fti.events". */
  eventSubjectPrefix?: string;
  /** Durable consumer name of the inputs. Default "monitoring-inputs". */
  consumerName?: string;
  evaluationIntervalMs?: number;
  allowedLatenessMs?: number;
  /** How long a window past its end must stay unchanged before the clock alone closes it. */
  windowSettleMs?: number;
  /** Smallest monitor window accepted. Default 1 minute. */
  minWindowMs?: number;
  relayPollIntervalMs?: number;
}

export interface RunningMonitoring extends RunningServer {
  relay: OutboxRelay;
  /** One evaluation pass now (tests). */
  evaluateOnce(): Promise<void>;
}

export function build(deps: MonitoringDependencies) {
  const subjectPrefix = deps.eventSubjectPrefix ?? "fti.events";
  const stream = deps.eventStream ?? "FTI_EVENTS";
  const monitoring = createMonitoring({ pool: deps.pool, cache: deps.cache, duckdb: deps.duckdb, logger: deps.logger, minWindowMs: deps.minWindowMs ?? 60_000 });
  const server = createServer({
    name: "monitoring",
    services: [service(MonitoringService, routes(monitoring))],
    dependencies: [postgresDependency(deps.pool), natsDependency(deps.nats)],
    logger: deps.logger,
    healthIntervalMs: deps.healthIntervalMs,
    defaultMetrics: true,
  });
  let relay: OutboxRelay | undefined;
  const evaluator = createEvaluator({
    pool: deps.pool,
    references: monitoring.references,
    gauges: createDriftGauges(server.metrics.registry),
    logger: deps.logger.child({ component: "evaluator" }),
    subjectPrefix,
    allowedLatenessMs: deps.allowedLatenessMs ?? 60_000,
    windowSettleMs: deps.windowSettleMs ?? 10_000,
    monitors: () => monitoring.allMonitors(),
    onAlert: () => relay?.notify(),
  });

  return {
    ...server,
    monitoring,
    evaluator,
    async listen(options: ListenOptions): Promise<RunningMonitoring> {
      const running = await server.listen(options);
      relay = startOutboxRelay({ pool: deps.pool, nats: deps.nats, logger: deps.logger.child({ component: "outbox-relay" }), stream, subjectPrefix, pollIntervalMs: deps.relayPollIntervalMs });
      let inputs: Subscription | undefined;
      try {
        inputs = await startInputs({
          nats: deps.nats,
          stream,
          subjectPrefix,
          durable: deps.consumerName,
          pool: deps.pool,
          cache: deps.cache,
          offlineStore: deps.offlineStore,
          logger: deps.logger.child({ component: "inputs" }),
          edgesOf: monitoring.edgesOf,
          monitors: () => monitoring.allMonitors(),
        });
      } catch (err) {
        await running.shutdown(0);
        await relay.stop();
        throw err;
      }
      const loop = startEvaluationLoop(evaluator.evaluateOnce, deps.evaluationIntervalMs ?? 10_000, deps.logger);
      const started = relay;
      return {
        ...running,
        relay: started,
        evaluateOnce: evaluator.evaluateOnce,
        async shutdown(graceMs?: number) {
          await running.shutdown(graceMs);
          await inputs?.stop();
          await loop.stop();
          await started.stop();
        },
      };
    },
  };
}
