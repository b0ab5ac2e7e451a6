// Builds the ingestion server from its dependencies; main.ts listens. Tests
// call build() with their own Postgres schema, NATS names, offline root and
// online store, on port 0. While listening, background work runs beside the
// RPCs: the event relay, the NATS stream consumer, the materialization worker
// and the recovery of commits a crash or an outage left unfinished.
import { IngestionService } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import { createServer, service, type ListenOptions, type RunningServer } from "@fti/server";
import { postgresDependency, type Pool } from "@fti/db";
import { natsDependency, startOutboxRelay, type NatsConnection, type OutboxRelay } from "@fti/events";
import type { Logger } from "@fti/logger";
import type { OfflineStore } from "@fti/offline-store";
import type { OnlineStore } from "@fti/online-store";
import type { MetadataCache } from "@fti/registry-client";
import { createCommitWriter, type CommitWriter } from "./commit-writer.js";
import { createFeatureGroups } from "./feature-groups.js";
import { createIngestion, type Ingestion } from "./ingestion.js";
import { createMaterializations, type Materializations } from "./materialization.js";
import routes from "./routes.js";
import { startStreamConsumer, type StreamConsumer } from "./stream-consumer.js";

export interface IngestionDependencies {
  pool: Pool;
  nats: NatsConnection;
  logger: Logger;
  metadata: MetadataCache;
  offline: OfflineStore;
  online: OnlineStore;
  healthIntervalMs?: number;
  /** Stream names start with this, e.g. "FTI" → FTI_EVENTS, FTI_INGEST, FTI_DEADLETTER. */
  natsStreamPrefix?: string;
  /** Subjects start with this, e.g. "fti" → fti.events.…, fti.ingest.…, fti.deadletter.ingest.… */
  natsSubjectPrefix?: string;
  maxBatchRows?: number;
  /** Consume feature-pipeline streams from NATS. Default true. */
  streamEnabled?: boolean;
  microBatchRows?: number;
  microBatchMs?: number;
  streamAckWaitMs?: number;
  streamDedupRetentionHours?: number;
  materializeMaxRowsPerSecond?: number;
  /** How often the relay, the recovery and the materialization worker look for work nobody announced. */
  pollIntervalMs?: number;
}

export interface RunningIngestion extends RunningServer {
  relay: OutboxRelay;
  /** Runs the crash recovery now (tests). */
  recover(): Promise<number>;
}

export function build(deps: IngestionDependencies) {
  const streamPrefix = deps.natsStreamPrefix ?? "FTI";
  const subjectPrefix = deps.natsSubjectPrefix ?? "fti";
  const events = { subjectPrefix: `${subjectPrefix}.events` };
  const pollIntervalMs = deps.pollIntervalMs ?? 1_000;
  const maxBatchRows = deps.maxBatchRows ?? 1_000_000;
  let relay: OutboxRelay | undefined;
  const onEvent = () => relay?.notify();

  const groups = createFeatureGroups({ metadata: deps.metadata, offline: deps.offline, online: deps.online, logger: deps.logger });
  const writer: CommitWriter = createCommitWriter({ pool: deps.pool, groups, online: deps.online, events, logger: deps.logger.child({ component: "commit-writer" }), onEvent });
  const ingestion: Ingestion = createIngestion({ pool: deps.pool, groups, writer, maxBatchRows });
  const materializations: Materializations = createMaterializations({
    pool: deps.pool,
    groups,
    online: deps.online,
    events,
    logger: deps.logger.child({ component: "materialization" }),
    onEvent,
    pollIntervalMs,
    maxRowsPerSecond: deps.materializeMaxRowsPerSecond,
  });

  const server = createServer({
    name: "ingestion",
    services: [service(IngestionService, routes(ingestion, materializations))],
    dependencies: [postgresDependency(deps.pool), natsDependency(deps.nats), { name: "online-store", check: () => deps.online.ping() }],
    logger: deps.logger,
    healthIntervalMs: deps.healthIntervalMs,
    defaultMetrics: true,
  });

  return {
    ...server,
    ingestion,
    materializations,
    async listen(options: ListenOptions): Promise<RunningIngestion> {
      const running = await server.listen(options);
      const startedRelay = startOutboxRelay({
        pool: deps.pool,
        nats: deps.nats,
        logger: deps.logger.child({ component: "outbox-relay" }),
        stream: `${streamPrefix}_EVENTS`,
        subjectPrefix: events.subjectPrefix,
        pollIntervalMs,
      });
      relay = startedRelay;

      // Finish what a crash left undone, then keep retrying online writes an outage held up.
      const recover = () => writer.recover().catch((err) => (deps.logger.warn("recovery pass failed; will retry", { error: String(err) }), 0));
      let recovering = recover();
      const recoveryTimer = setInterval(() => {
        recovering = recovering.then(recover);
      }, Math.max(pollIntervalMs, 1_000) * 5);
      recoveryTimer.unref();

      const worker = materializations.startWorker();
      let consumer: StreamConsumer | undefined;
      if (deps.streamEnabled ?? true) {
        consumer = await startStreamConsumer({
          nats: deps.nats,
          pool: deps.pool,
          groups,
          ingestion,
          logger: deps.logger.child({ component: "stream-consumer" }),
          stream: `${streamPrefix}_INGEST`,
          subjectPrefix: `${subjectPrefix}.ingest`,
          deadLetterStream: `${streamPrefix}_DEADLETTER`,
          deadLetterPrefix: `${subjectPrefix}.deadletter.ingest`,
          durable: "ingestion",
          microBatchRows: deps.microBatchRows ?? 5_000,
          microBatchMs: deps.microBatchMs ?? 20,
          maxBatchRows,
          ackWaitMs: deps.streamAckWaitMs ?? 30_000,
          dedupRetentionHours: deps.streamDedupRetentionHours ?? 48,
        });
      }
      return {
        ...running,
        relay: startedRelay,
        recover: () => (recovering = recovering.then(recover)),
        async shutdown(graceMs?: number) {
          await running.shutdown(graceMs);
          await consumer?.stop();
          await worker.stop();
          clearInterval(recoveryTimer);
          await recovering;
          await startedRelay.stop();
        },
      };
    },
  };
}
