// The monitoring service's inputs: durable JetStream consumers of ingestion
// commits and prediction logs. A message is acked only after its
// statistics are committed; a failure is retried and, after max deliveries,
// dead-lettered by @fti/events.
import { consumeMessages, type NatsConnection, type Subscription } from "@fti/events";
import type { Logger } from "@fti/logger";
import { EventSchema, type Event } from "@fti/proto/fti/events/v1/events_pb";
import type { Monitor } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { handleIngestionCommit, type CommitDeps } from "./consumers/ingestion-commit.js";
import { handlePredictionLog } from "./consumers/prediction-log.js";

export interface InputsOptions extends CommitDeps {
  nats: NatsConnection;
  stream: string;
  subjectPrefix: string;
  durable?: string;
  /** The monitors to feed (read per message, so a new monitor starts with the next event). */
  monitors(): Promise<Monitor[]>;
  logger: Logger;
}

export async function startInputs(options: InputsOptions): Promise<Subscription> {
  const { subjectPrefix } = options;
  const durable = options.durable ?? "monitoring-inputs";
  // One consumer per input subject: a consumer with several filter subjects needs NATS ≥ 2.10.
  const feeds = [
    ["commits", `${subjectPrefix}.ingestion.commit.>`],
    ["predictions", `${subjectPrefix}.serving.predictions.>`],
  ] as const;
  const subscriptions: Subscription[] = [];
  try {
    for (const [suffix, subject] of feeds) {
      subscriptions.push(
        await consumeMessages(options.nats, {
          stream: options.stream,
          durable: `${durable}_${suffix}`,
          filterSubjects: [subject],
          schema: EventSchema,
          deadLetterSubject: `${subjectPrefix}.dead_letter.monitoring`,
          logger: options.logger,
          handler: (event) => handle(options, event),
        }),
      );
    }
  } catch (err) {
    await Promise.all(subscriptions.map((s) => s.stop()));
    throw err;
  }
  return {
    done: Promise.all(subscriptions.map((s) => s.done)).then(() => undefined),
    async stop() {
      await Promise.all(subscriptions.map((s) => s.stop()));
    },
  };
}

async function handle(options: InputsOptions, event: Event): Promise<void> {
  const payload = event.payload;
  if (payload.case === "predictionLogBatch") {
    const monitors = (await options.monitors()).filter((m) => m.target.case === "deployment" && m.target.value === payload.value.deployment);
    if (monitors.length) await handlePredictionLog(options, event.id, payload.value, monitors);
  } else if (payload.case === "ingestionCommit" && payload.value.commit) {
    await handleIngestionCommit(options, payload.value.commit, await options.monitors());
  }
}
