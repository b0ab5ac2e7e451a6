// The job operations behind the RPCs: submit (check the spec, queue), get,
// list, cancel and watch.
import { randomBytes } from "node:crypto";
import { clone, create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { parseName } from "@fti/aip";
import { InvalidArgumentError, UnavailableError, type FieldViolation } from "@fti/errors";
import type { Logger } from "@fti/logger";
import { JobState } from "@fti/proto/fti/common/v1/types_pb";
import { TrainingDataset_State as DatasetState } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { JobSchema, JobSpecSchema, type Job, type JobSpec } from "@fti/proto/fti/training/v1/training_pb";
import type { RegistryClient } from "@fti/registry-client";
import type { JobEvents } from "./job-events.js";
import { jobSpecViolations } from "./job-spec.js";
import { isFinal, type JobStore } from "./job-store.js";
import { names } from "./names.js";

export interface JobsDeps {
  store: JobStore;
  registry: RegistryClient;
  events: JobEvents;
  logger: Logger;
  /** Told when a job is queued, so it starts without waiting for the next poll. */
  onQueued?: () => void;
  /** How often WatchJob looks for changes. */
  watchIntervalMs?: number;
}

export type Jobs = ReturnType<typeof createJobs>;

export function createJobs(deps: JobsDeps) {
  const { store, registry } = deps;

  /** References the spec makes that can be checked now: the dataset and the deployment exist. */
  async function referenceViolations(spec: JobSpec, prefix: string): Promise<FieldViolation[]> {
    const v: FieldViolation[] = [];
    const check = async (field: string, load: () => Promise<unknown>) => {
      try {
        return await load();
      } catch (err) {
        const e = ConnectError.from(err);
        if (e.code === Code.NotFound) v.push({ field: `${prefix}.${field}`, description: "does not exist" });
        else throw new UnavailableError(`cannot check ${prefix}.${field} with the registry: ${e.rawMessage}`, { cause: err });
        return undefined;
      }
    };
    if (spec.dataset.case === "trainingDataset") {
      const found = (await check("training_dataset", () => registry.getTrainingDataset({ name: spec.dataset.value as string }))) as { trainingDataset?: { state: DatasetState } } | undefined;
      if (found?.trainingDataset?.state === DatasetState.FAILED) v.push({ field: `${prefix}.training_dataset`, description: "is FAILED; train on a READY dataset" });
    }
    if (spec.deployment) await check("deployment", () => registry.getDeployment({ name: spec.deployment }));
    return v;
  }

  return {
    /** Checks and queues a job; `origin` names the schedule or trigger that submitted it. */
    async submitJob(parent: string, spec: JobSpec | undefined, requestId: string, origin: { schedule?: string; trigger?: string } = {}): Promise<Job> {
      const { project } = parseName(names.project, parent, "parent");
      const violations = jobSpecViolations(spec, project);
      if (violations.length) throw new InvalidArgumentError(violations);
      const references = await referenceViolations(spec!, "spec");
      if (references.length) throw new InvalidArgumentError(references);
      const id = `job_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
      const job = create(JobSchema, {
        name: names.job.format({ project, job: id }),
        spec: clone(JobSpecSchema, spec!),
        state: JobState.QUEUED,
        createTime: timestampNow(),
        schedule: origin.schedule ?? "",
        trigger: origin.trigger ?? "",
      });
      const { job: stored, created } = await store.insert(job, requestId);
      if (created) {
        deps.events.publish({ job: stored, previous: JobState.UNSPECIFIED });
        deps.onQueued?.();
      }
      return stored;
    },

    async getJob(name: string): Promise<Job> {
      parseName(names.job, name, "name");
      return store.get(name);
    },

    async listJobs(request: { parent: string; pageSize: number; pageToken: string; filter: string }) {
      parseName(names.project, request.parent, "parent");
      return store.list(request);
    },

    async cancelJob(name: string): Promise<Job> {
      parseName(names.job, name, "name");
      const { job, change } = await store.requestCancel(name);
      if (change) deps.events.publish(change);
      return job;
    },

    /** The job now (with its last log lines), then each change with only new log lines, until it ends. */
    async *watchJob(name: string, signal: AbortSignal): AsyncGenerator<Job> {
      parseName(names.job, name, "name");
      const changes: Job[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = store.onChange((changed) => {
        if (changed.name !== name) return;
        changes.push(changed);
        wake?.();
      });
      const onAbort = () => wake?.();
      signal.addEventListener("abort", onAbort);
      try {
        let job = await store.get(name);
        let { lastSeq } = await store.logsSince(name, 0);
        yield job;
        let seen = fingerprint(job);
        while (!isFinal(job.state) && !signal.aborted) {
          if (changes.length === 0) {
            // Woken by a change made here, or polling for one made by another replica.
            await new Promise<void>((resolve) => {
              wake = resolve;
              setTimeout(resolve, deps.watchIntervalMs ?? 200);
            });
            wake = undefined;
          }
          const snapshots = changes.length ? changes.splice(0) : [await store.get(name)];
          for (const snapshot of snapshots) {
            const logs = await store.logsSince(name, lastSeq);
            lastSeq = logs.lastSeq;
            const now = fingerprint(snapshot);
            if (now === seen && logs.lines.length === 0) continue;
            seen = now;
            job = snapshot;
            yield { ...snapshot, logLines: logs.lines };
            if (isFinal(job.state)) break;
          }
        }
      } finally {
        unsubscribe();
        signal.removeEventListener("abort", onAbort);
      }
    },
  };
}

const fingerprint = (job: Job) => `${job.state}/${job.progressPercent}/${job.model}/${job.trainingDataset}/${Object.keys(job.metrics).length}`;
