// Builds the training-runner server from its dependencies; main.ts listens.
// While listening it also runs the job runner (queued jobs, heartbeats, stale
// jobs), the schedule and trigger-window ticker, and the durable NATS consumer
// that feeds event triggers. Tests call build() with their own schema and
// NATS names, on port 0.
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { postgresDependency, type Pool } from "@fti/db";
import { consumeMessages, ensureStream, natsDependency, type NatsConnection, type Subscription } from "@fti/events";
import type { Logger } from "@fti/logger";
import { EventSchema } from "@fti/proto/fti/events/v1/events_pb";
import { OfflineQueryService } from "@fti/proto/fti/offline/v1/offline_pb";
import { TrainingService } from "@fti/proto/fti/training/v1/training_pb";
import { createRegistryClient } from "@fti/registry-client";
import { createServer, service, type ListenOptions, type RunningServer } from "@fti/server";
import { createJobEvents } from "./job-events.js";
import { createJobStore } from "./job-store.js";
import { createJobs } from "./jobs.js";
import routes from "./routes.js";
import { startRunner, type Runner } from "./runner.js";
import { createSchedules } from "./schedules.js";
import { runTrainingJob } from "./training-job.js";
import { createTriggers } from "./triggers.js";

export interface TrainingRunnerDependencies {
  pool: Pool;
  nats: NatsConnection;
  logger: Logger;
  registryAddress: string;
  /** offline-query's gRPC address, for jobs that create their dataset. */
  offlineQueryAddress?: string;
  offlineRoot: string;
  workDir: string;
  maxConcurrentJobs?: number;
  pollIntervalMs?: number;
  staleJobAfterMs?: number;
  healthIntervalMs?: number;
  /** The JetStream stream events are stored in. Default FTI_EVENTS. */
  eventStream?: string;
  /** Default "fti.events". */
  eventSubjectPrefix?: string;
  /** Durable consumer name of the trigger feed (one per installation). */
  triggerConsumer?: string;
}

export interface RunningTrainingRunner extends RunningServer {
  runner: Runner;
}

export function build(deps: TrainingRunnerDependencies) {
  const subjectPrefix = deps.eventSubjectPrefix ?? "fti.events";
  const registry = createRegistryClient(deps.registryAddress, { timeoutMs: 30_000 });
  const offlineQuery = deps.offlineQueryAddress ? createClient(OfflineQueryService, createGrpcTransport({ baseUrl: `http://${deps.offlineQueryAddress}`, defaultTimeoutMs: 30_000 })) : undefined;
  const store = createJobStore(deps.pool);
  const events = createJobEvents({ nats: deps.nats, subjectPrefix, logger: deps.logger });
  let runner: Runner | undefined;
  const jobs = createJobs({ store, registry, events, logger: deps.logger, onQueued: () => runner?.notify() });
  const schedules = createSchedules({ pool: deps.pool, jobs, logger: deps.logger.child({ component: "schedules" }) });
  const triggers = createTriggers({ pool: deps.pool, jobs, logger: deps.logger.child({ component: "triggers" }) });
  const server = createServer({
    name: "training-runner",
    services: [service(TrainingService, routes(jobs, schedules, triggers))],
    dependencies: [postgresDependency(deps.pool), natsDependency(deps.nats)],
    logger: deps.logger,
    healthIntervalMs: deps.healthIntervalMs,
    defaultMetrics: true,
  });
  const pollIntervalMs = deps.pollIntervalMs ?? 1_000;

  return {
    ...server,
    jobs,
    schedules,
    triggers,
    async listen(options: ListenOptions): Promise<RunningTrainingRunner> {
      const running = await server.listen(options);
      runner = startRunner({
        store,
        events,
        logger: deps.logger.child({ component: "runner" }),
        maxConcurrent: deps.maxConcurrentJobs ?? 2,
        pollIntervalMs,
        staleAfterMs: deps.staleJobAfterMs ?? 60_000,
        execute: (ctx) => runTrainingJob({ registry, offlineQuery, offlineRoot: deps.offlineRoot, workDir: deps.workDir }, ctx),
      });
      const stream = deps.eventStream ?? "FTI_EVENTS";
      await ensureStream(deps.nats, { name: stream, subjects: [`${subjectPrefix}.>`] });
      // One durable consumer per event type (NATS before 2.10 takes one filter subject per consumer).
      const durable = deps.triggerConsumer ?? "training-runner-triggers";
      const feeds: Subscription[] = [];
      for (const [suffix, subject] of [["commits", `${subjectPrefix}.ingestion.commit.>`], ["alerts", `${subjectPrefix}.monitoring.alert.raised.>`]] as const) {
        feeds.push(
          await consumeMessages(deps.nats, {
            stream,
            durable: `${durable}_${suffix}`,
            filterSubjects: [subject],
            newOnly: true,
            schema: EventSchema,
            deadLetterSubject: `${subjectPrefix}.dead_letter.training_runner`,
            logger: deps.logger.child({ component: "trigger-feed" }),
            handler: (event) => triggers.onEvent(event),
          }),
        );
      }
      let stopped = false;
      const ticker = (async () => {
        while (!stopped) {
          try {
            await schedules.fireDue();
            await triggers.fireClosedWindows();
          } catch (err) {
            deps.logger.warn("schedule/trigger tick failed; retrying", { error: (err as Error).message });
          }
          await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
        }
      })();
      const started = runner;
      return {
        ...running,
        runner: started,
        async shutdown(graceMs?: number) {
          await running.shutdown(graceMs);
          stopped = true;
          await Promise.all(feeds.map((f) => f.stop()));
          await ticker;
          await started.stop();
        },
      };
    },
  };
}
