// Publishes training.job.<state> events. Published after the state change is
// committed, with "<job>/<state>" as message id so a retry is stored once; a
// NATS outage loses the event (logged) but never blocks or fails a job.
import { publishMessage, type NatsConnection } from "@fti/events";
import type { Logger } from "@fti/logger";
import { EventSchema } from "@fti/proto/fti/events/v1/events_pb";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { randomUUID } from "node:crypto";
import { stateNames, type StateChange } from "./job-store.js";
import { projectIdOf } from "./names.js";

export interface JobEvents {
  publish(change: StateChange): void;
  /** Resolves when every publish started so far has finished. */
  flush(): Promise<void>;
}

export function createJobEvents(options: { nats?: NatsConnection; subjectPrefix: string; logger: Logger }): JobEvents {
  const pending = new Set<Promise<void>>();
  return {
    publish({ job, previous }) {
      if (!options.nats) return;
      const state = stateNames[job.state].toLowerCase();
      const type = `training.job.${state}`;
      const subject = `${options.subjectPrefix}.${type}.${projectIdOf(job.name)}`;
      const id = randomUUID();
      const sent = publishMessage(
        options.nats,
        subject,
        EventSchema,
        {
          id,
          time: timestampNow(),
          source: "training-runner",
          type,
          subject,
          resource: job.name,
          payload: { case: "trainingJobStateChanged", value: { job: job.name, state: job.state, previousState: previous, model: job.model, failureReason: job.failureReason, schedule: job.schedule, trigger: job.trigger } },
        },
        { msgId: `${job.name}/${state}` },
      )
        .then(() => undefined)
        .catch((err) => options.logger.warn("training job event not published", { job: job.name, state, error: (err as Error).message }))
        .finally(() => pending.delete(sent));
      pending.add(sent);
    },
    async flush() {
      await Promise.all([...pending]);
    },
  };
}
