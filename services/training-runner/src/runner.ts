// Runs queued jobs, at most `maxConcurrent` at once per process. Jobs are
// claimed from Postgres (FOR UPDATE SKIP LOCKED), so replicas share the queue.
// Each running job has a heartbeat; a RUNNING job whose heartbeat goes stale
// (its runner crashed or was killed) is marked FAILED by any runner, so no job
// stays RUNNING forever. A cancel request is seen through the same loop and
// aborts the job's signal, which the trainers check between iterations and
// which kills an external trainer's process.
import { randomUUID } from "node:crypto";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import type { Logger } from "@fti/logger";
import { JobState } from "@fti/proto/fti/common/v1/types_pb";
import type { Job } from "@fti/proto/fti/training/v1/training_pb";
import { JobFailure } from "./dataset.js";
import type { JobEvents } from "./job-events.js";
import { timeoutMsOf } from "./job-spec.js";
import type { JobStore, StateChange } from "./job-store.js";
import type { JobContext } from "./training-job.js";

export interface RunnerOptions {
  store: JobStore;
  events: JobEvents;
  logger: Logger;
  maxConcurrent: number;
  pollIntervalMs: number;
  staleAfterMs: number;
  execute(ctx: JobContext): Promise<Partial<Job>>;
}

export interface Runner {
  /** Look for queued jobs now (a job was just submitted). */
  notify(): void;
  /** Names of the jobs running in this process. */
  running(): string[];
  /** Stops claiming; running jobs are stopped and marked FAILED (they can be submitted again). */
  stop(): Promise<void>;
}

class Stop extends Error {
  constructor(readonly state: JobState, message: string) {
    super(message);
  }
}

export function startRunner(options: RunnerOptions): Runner {
  const { store, events, logger } = options;
  const runnerId = randomUUID();
  const active = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let stopped = false;
  let wake: (() => void) | undefined;
  const heartbeatEveryMs = Math.max(50, Math.floor(options.staleAfterMs / 4));
  let lastHeartbeat = 0;

  const publish = (change: StateChange | undefined) => change && events.publish(change);

  async function runOne(claimed: Job, controller: AbortController): Promise<void> {
    const name = claimed.name;
    const log = logger.child({ job: name });
    let pendingWrites = Promise.resolve();
    let lastProgress = -1;
    let lastProgressAt = 0;
    // Progress and log lines are written in order, without making trainers wait.
    const enqueue = (write: () => Promise<unknown>) => {
      pendingWrites = pendingWrites.then(write).then(
        () => undefined,
        (err) => log.warn("job progress not saved", { error: (err as Error).message }),
      );
    };
    const timeout = setTimeout(() => controller.abort(new Stop(JobState.FAILED, `the job exceeded its timeout of ${Math.round(timeoutMsOf(claimed.spec!) / 1000)} s`)), timeoutMsOf(claimed.spec!));
    const ctx: JobContext = {
      job: claimed,
      signal: controller.signal,
      progress(percent) {
        const rounded = Math.round(percent * 10) / 10;
        if (rounded === lastProgress || (Date.now() - lastProgressAt < 200 && rounded < 100)) return;
        lastProgress = rounded;
        lastProgressAt = Date.now();
        enqueue(() => store.update(name, (job) => void (job.progressPercent = rounded)));
      },
      log(text) {
        enqueue(() => store.appendLog(name, text.slice(0, 4000)));
      },
      async save(patch) {
        await pendingWrites;
        await store.update(name, (job) => Object.assign(job, patch));
      },
    };
    ctx.log(`started on runner ${runnerId}`);
    let outcome: (job: Job) => void;
    try {
      const result = await options.execute(ctx);
      outcome = (job) => Object.assign(job, result, { state: JobState.SUCCEEDED, progressPercent: 100 });
      log.info("training job succeeded", { model: result.model });
    } catch (err) {
      const reason = controller.signal.aborted ? controller.signal.reason : err;
      if (reason instanceof Stop) {
        outcome = (job) => Object.assign(job, { state: reason.state, failureReason: reason.state === JobState.FAILED ? reason.message : "" });
        ctx.log(reason.message);
      } else if (err instanceof JobFailure) {
        outcome = (job) => Object.assign(job, { state: JobState.FAILED, failureReason: err.message });
        ctx.log(`failed: ${err.message}`);
        log.info("training job failed", { reason: err.message });
      } else {
        // Not an expected problem: log the details, tell the user only that it was internal.
        log.error("training job crashed", { error: err instanceof Error ? err.stack : String(err) });
        outcome = (job) => Object.assign(job, { state: JobState.FAILED, failureReason: `internal error in the training runner: ${err instanceof Error ? err.message : String(err)}` });
      }
    } finally {
      clearTimeout(timeout);
    }
    await pendingWrites;
    publish(await store.update(name, (job) => {
      outcome(job);
      job.endTime = timestampNow();
    }));
  }

  async function tick(): Promise<void> {
    // Heartbeats and cancel requests of our jobs.
    if (Date.now() - lastHeartbeat >= heartbeatEveryMs) {
      lastHeartbeat = Date.now();
      await store.heartbeat(runnerId, [...active.keys()]);
    }
    for (const [name, { controller }] of active) {
      if (!controller.signal.aborted && (await store.isCancelRequested(name))) controller.abort(new Stop(JobState.CANCELLED, "cancelled on request"));
    }
    for (const change of await store.failStale(options.staleAfterMs, "the training runner running this job stopped (crashed or restarted) before it finished; submit it again")) {
      logger.warn("training job failed: its runner stopped", { job: change.job.name });
      publish(change);
    }
    while (!stopped && active.size < options.maxConcurrent) {
      const claimed = await store.claimNext(runnerId);
      if (!claimed) break;
      publish(claimed);
      const controller = new AbortController();
      const entry = { controller, done: Promise.resolve() };
      active.set(claimed.job.name, entry);
      entry.done = runOne(claimed.job, controller)
        .catch((err) => logger.error("training job bookkeeping failed", { job: claimed.job.name, error: (err as Error).message }))
        .finally(() => {
          active.delete(claimed.job.name);
          wake?.();
        });
    }
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        await tick();
      } catch (err) {
        logger.warn("training runner loop failed; retrying", { error: (err as Error).message });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(options.pollIntervalMs, heartbeatEveryMs));
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    }
  })();

  return {
    notify: () => wake?.(),
    running: () => [...active.keys()],
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      for (const { controller } of active.values()) controller.abort(new Stop(JobState.FAILED, "the training runner shut down while the job was running; submit it again"));
      await Promise.all([...active.values()].map((a) => a.done));
      await events.flush();
    },
  };
}
