// Training datasets as long-running jobs: CreateTrainingDataset validates,
// registers the dataset (CREATING) and queues a job in Postgres; workers in
// any replica claim jobs, build them (training-dataset-builder) while
// reporting progress, and mark the registry record READY or FAILED. A cancel
// is seen by the worker at its next report (about once a second) and
// interrupts DuckDB.
import { randomUUID } from "node:crypto";
import { mkdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { clone, create } from "@bufbuild/protobuf";
import { parseName } from "@fti/aip";
import { CancelledError, DomainError, InvalidArgumentError } from "@fti/errors";
import type { Logger } from "@fti/logger";
import type { CreateTrainingDatasetRequest, ListTrainingDatasetJobsRequest, TrainingDatasetJob } from "@fti/proto/fti/offline/v1/offline_pb";
import { TrainingDataset_State as State, TrainingDatasetSchema, type TrainingDataset } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import type { RegistryClient } from "@fti/registry-client";
import { appendEntityRows, createEntityTable, decodeEntityRows } from "./entity-rows.js";
import type { OfflineQueryDeps } from "./historical-features.js";
import type { JobStore, StageName } from "./job-store.js";
import { names } from "./names.js";
import { quoteIdent, quoteString } from "./sql.js";
import { splitPlan } from "./splits.js";
import { rangeOf } from "./time-range.js";
import { buildTrainingDataset, entityRowsPath, newJobId } from "./training-dataset-builder.js";
import { loadViewPlan } from "./view-plan.js";

export interface TrainingDatasetsDeps extends OfflineQueryDeps {
  registry: RegistryClient;
  jobs: JobStore;
  offlineRoot: string;
  logger: Logger;
  /** Jobs this process runs at once; 0 runs none. */
  workers: number;
  pollIntervalMs?: number;
  heartbeatTimeoutMs?: number;
}

export interface TrainingDatasets {
  create(req: CreateTrainingDatasetRequest): Promise<TrainingDatasetJob>;
  getJob(name: string): Promise<TrainingDatasetJob>;
  listJobs(req: ListTrainingDatasetJobsRequest): Promise<{ jobs: TrainingDatasetJob[]; nextPageToken: string }>;
  cancelJob(name: string): Promise<TrainingDatasetJob>;
  /** Starts the workers; resolves `stop` once running jobs have wound down. */
  start(): { stop(): Promise<void> };
}

export function createTrainingDatasets(deps: TrainingDatasetsDeps): TrainingDatasets {
  const { jobs, registry, logger } = deps;
  const workerId = `${process.pid}-${randomUUID().slice(0, 8)}`;
  const running = new Map<string, AbortController>();
  let wake: (() => void) | undefined;

  async function create_(req: CreateTrainingDatasetRequest): Promise<TrainingDatasetJob> {
    const ids = parseName(names.featureView, req.parent, "parent", ["version"]);
    const plan = await loadViewPlan(deps.metadata, req.parent, "parent");
    const spec = clone(TrainingDatasetSchema, req.trainingDataset ?? create(TrainingDatasetSchema));
    splitPlan(spec.split);
    if (req.requestId) {
      const existing = await jobs.findByRequestId(ids.project, req.requestId);
      if (existing) return existing;
    }
    const jobId = newJobId();
    const jobName = names.job.format({ project: ids.project, job: jobId });
    if (req.entityRows) {
      if (spec.rows.case) throw InvalidArgumentError.field("entity_rows", `set either entity_rows or training_dataset.${spec.rows.case === "eventTimeRange" ? "event_time_range" : "entity_rows_uri"}, not both`);
      const path = join(deps.offlineRoot, "_training", "_entity_rows", ids.project, `${jobId}.parquet`);
      await writeEntityRows(deps, plan, req, path);
      spec.rows = { case: "entityRowsUri", value: pathToFileURL(path).href };
    } else if (spec.rows.case === "eventTimeRange") rangeOf(spec.rows.value, "training_dataset.event_time_range");
    else if (spec.rows.case === "entityRowsUri") {
      const path = entityRowsPath(deps.offlineRoot, spec.rows.value, "training_dataset.entity_rows_uri");
      if (!(await stat(path).catch(() => undefined))) throw InvalidArgumentError.field("training_dataset.entity_rows_uri", `no file or directory at ${spec.rows.value}`);
    } else throw InvalidArgumentError.field("training_dataset.rows", "set event_time_range, entity_rows_uri or entity_rows");

    spec.job = jobName;
    const registered = (await registry.createTrainingDataset({ parent: plan.view.name, trainingDataset: spec })).trainingDataset!;
    const job = await jobs.insert({ name: jobName, project: ids.project, trainingDataset: registered.name, featureView: plan.view.name, requestId: req.requestId });
    logger.info("training dataset job queued", { job: jobName, trainingDataset: registered.name });
    wake?.();
    return job;
  }

  async function markFailed(td: string, reason: string) {
    await registry
      .updateTrainingDataset({ trainingDataset: { name: td, state: State.FAILED, failureReason: reason }, updateMask: { paths: ["state", "failure_reason"] } })
      .catch((err: unknown) => logger.warn("could not mark the training dataset FAILED", { trainingDataset: td, error: (err as Error).message }));
  }

  async function run(job: { name: string; trainingDataset: string }) {
    const abort = new AbortController();
    running.set(job.name, abort);
    // Progress reports are heartbeats; a report refused means the job was cancelled (or taken over).
    const report = async (p: { stage?: StageName; rowsDone?: number; rowsTotal?: number; percent?: number }) => {
      if (!(await jobs.report(job.name, workerId, p))) abort.abort(new CancelledError("the job was cancelled"));
    };
    const heartbeat = setInterval(() => void report({}).catch(() => {}), 1_000);
    try {
      const td: TrainingDataset = (await registry.getTrainingDataset({ name: job.trainingDataset })).trainingDataset!;
      const built = await buildTrainingDataset(deps, td, report, abort.signal);
      if (abort.signal.aborted) throw abort.signal.reason;
      await report({ stage: "REGISTERING", percent: 95 });
      await registry.updateTrainingDataset({
        trainingDataset: { name: td.name, state: State.READY, location: built.location, splits: built.splits, asOf: built.asOf, fittedTransformations: built.fittedTransformations },
        updateMask: { paths: ["state", "location", "splits", "as_of", "fitted_transformations"] },
      });
      deps.metadata.invalidate(td.name);
      await jobs.finish(job.name, workerId, "SUCCEEDED");
      logger.info("training dataset ready", { job: job.name, trainingDataset: td.name, rows: built.splits.reduce((n, s) => n + Number(s.rowCount), 0) });
    } catch (err) {
      const cancelled = abort.signal.aborted;
      const reason = cancelled ? "cancelled" : err instanceof DomainError ? err.message : "internal error while building the dataset; see the offline-query logs";
      // A cancelled job's dataset was marked FAILED by the cancel; one stopped by a shutdown stays RUNNING for another worker to take over.
      if (!cancelled) {
        logger.error("training dataset job failed", { job: job.name, error: err instanceof Error ? err.stack : String(err) });
        await markFailed(job.trainingDataset, reason);
        await jobs.finish(job.name, workerId, "FAILED", reason);
      }
    } finally {
      clearInterval(heartbeat);
      running.delete(job.name);
    }
  }

  return {
    create: create_,
    async getJob(name) {
      parseName(names.job, name, "name");
      return jobs.get(name);
    },
    async listJobs(req) {
      const { project } = parseName(names.project, req.parent, "parent");
      return jobs.list(project, req);
    },
    async cancelJob(name) {
      parseName(names.job, name, "name");
      const { job, cancelled } = await jobs.cancel(name);
      if (cancelled) {
        running.get(name)?.abort(new CancelledError("the job was cancelled"));
        // A queued job never ran; a running one's worker marks it FAILED after stopping, but do it now too.
        await markFailed(job.trainingDataset, "cancelled");
      }
      return job;
    },
    start() {
      let stopped = false;
      const loops: Promise<void>[] = [];
      for (let i = 0; i < deps.workers; i++)
        loops.push(
          (async () => {
            while (!stopped) {
              const job = await jobs.claim(workerId, deps.heartbeatTimeoutMs ?? 60_000).catch((err: unknown) => {
                logger.warn("could not claim a training dataset job", { error: (err as Error).message });
                return undefined;
              });
              if (job) await run(job);
              else await new Promise<void>((resolve) => {
                const timer = setTimeout(resolve, deps.pollIntervalMs ?? 1_000);
                wake = () => {
                  clearTimeout(timer);
                  resolve();
                };
              });
            }
          })(),
        );
      return {
        async stop() {
          stopped = true;
          wake?.();
          for (const abort of running.values()) abort.abort(new CancelledError("the server is shutting down"));
          await Promise.all(loops);
        },
      };
    },
  };
}

/** Stores inline entity rows as one Parquet file under the offline root. */
async function writeEntityRows(deps: OfflineQueryDeps, plan: Awaited<ReturnType<typeof loadViewPlan>>, req: CreateTrainingDatasetRequest, path: string): Promise<void> {
  const decoded = decodeEntityRows(req.entityRows!, { servingKeys: plan.servingKeys, eventTime: plan.root.schema.eventTime, reserved: new Set(plan.outputs.map((c) => c.name)), field: "entity_rows" });
  await mkdir(dirname(path), { recursive: true });
  await deps.engine.withConnection(undefined, async (connection) => {
    const table = await createEntityTable(connection, decoded.columns);
    await appendEntityRows(connection, table, decoded.columns, decoded.batch);
    await connection.run(`COPY ${quoteIdent(table)} TO ${quoteString(path)} (FORMAT parquet)`);
    await connection.run(`DROP TABLE ${quoteIdent(table)}`);
  });
}

