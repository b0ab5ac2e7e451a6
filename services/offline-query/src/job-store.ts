// Training dataset jobs in Postgres: insert (idempotent by request id), claim
// (a work queue shared by every replica), progress reports that double as
// heartbeats and notice cancellation, final states, and listing.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { decodePageToken, encodePageToken, pageSize, requestFingerprint } from "@fti/aip";
import { asUnavailable, type Pool } from "@fti/db";
import { InvalidArgumentError, NotFoundError } from "@fti/errors";
import { JobState } from "@fti/proto/fti/common/v1/types_pb";
import { TrainingDatasetJob_Stage as Stage, TrainingDatasetJobSchema, type TrainingDatasetJob } from "@fti/proto/fti/offline/v1/offline_pb";

export type JobStateName = "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILED" | "CANCELLED";
export type StageName = "JOINING" | "STATISTICS" | "FITTING" | "REGISTERING";

interface JobRow {
  name: string;
  project: string;
  training_dataset: string;
  feature_view: string;
  state: JobStateName;
  stage: StageName | "";
  rows_done: string;
  rows_total: string;
  progress_percent: number;
  failure_reason: string;
  create_time: Date;
  start_time: Date | null;
  end_time: Date | null;
}

const stateEnum: Record<JobStateName, JobState> = { QUEUED: JobState.QUEUED, RUNNING: JobState.RUNNING, SUCCEEDED: JobState.SUCCEEDED, FAILED: JobState.FAILED, CANCELLED: JobState.CANCELLED };
const stageEnum: Record<StageName | "", Stage> = { "": Stage.UNSPECIFIED, JOINING: Stage.JOINING, STATISTICS: Stage.STATISTICS, FITTING: Stage.FITTING, REGISTERING: Stage.REGISTERING };

export function jobMessage(row: JobRow): TrainingDatasetJob {
  return create(TrainingDatasetJobSchema, {
    name: row.name,
    trainingDataset: row.training_dataset,
    state: stateEnum[row.state],
    stage: stageEnum[row.stage],
    rowsDone: BigInt(row.rows_done),
    rowsTotal: BigInt(row.rows_total),
    progressPercent: row.progress_percent,
    failureReason: row.failure_reason,
    createTime: timestampFromDate(row.create_time),
    ...(row.start_time ? { startTime: timestampFromDate(row.start_time) } : {}),
    ...(row.end_time ? { endTime: timestampFromDate(row.end_time) } : {}),
  });
}

export interface ClaimedJob {
  name: string;
  trainingDataset: string;
  featureView: string;
}

async function query<R extends object>(pool: Pool, sql: string, params: unknown[] = []): Promise<R[]> {
  try {
    return (await pool.query<R>(sql, params)).rows;
  } catch (err) {
    throw asUnavailable(err);
  }
}

export function createJobStore(pool: Pool) {
  return {
    async findByRequestId(project: string, requestId: string): Promise<TrainingDatasetJob | undefined> {
      const [row] = await query<JobRow>(pool, "SELECT * FROM training_dataset_jobs WHERE project = $1 AND request_id = $2", [project, requestId]);
      return row && jobMessage(row);
    },

    async insert(job: { name: string; project: string; trainingDataset: string; featureView: string; requestId?: string }): Promise<TrainingDatasetJob> {
      const [row] = await query<JobRow>(
        pool,
        "INSERT INTO training_dataset_jobs (name, project, training_dataset, feature_view, state, request_id) VALUES ($1, $2, $3, $4, 'QUEUED', $5) RETURNING *",
        [job.name, job.project, job.trainingDataset, job.featureView, job.requestId || null],
      );
      return jobMessage(row!);
    },

    async get(name: string): Promise<TrainingDatasetJob> {
      const [row] = await query<JobRow>(pool, "SELECT * FROM training_dataset_jobs WHERE name = $1", [name]);
      if (!row) throw new NotFoundError("training dataset job", name);
      return jobMessage(row);
    },

    async list(project: string, request: { pageSize: number; pageToken: string; filter: string }): Promise<{ jobs: TrainingDatasetJob[]; nextPageToken: string }> {
      const size = pageSize(request.pageSize);
      const filter = parseJobFilter(request.filter);
      const fingerprint = requestFingerprint([project, request.filter]);
      const cursor = decodePageToken(request.pageToken, fingerprint);
      const params: unknown[] = [project];
      const where = ["project = $1"];
      if (filter.state) where.push(`state = $${params.push(filter.state)}`);
      if (filter.featureView) where.push(`feature_view = $${params.push(filter.featureView)}`);
      if (cursor) where.push(`(create_time, name) < ($${params.push(new Date(Number(cursor[0])).toISOString())}::timestamptz, $${params.push(cursor[1])})`);
      const rows = await query<JobRow & { create_us: string }>(pool, `SELECT *, (extract(epoch from create_time) * 1000)::bigint AS create_us FROM training_dataset_jobs WHERE ${where.join(" AND ")} ORDER BY create_time DESC, name DESC LIMIT ${size + 1}`, params);
      const page = rows.slice(0, size);
      const last = page.at(-1);
      return { jobs: page.map(jobMessage), nextPageToken: rows.length > size && last ? encodePageToken([Number(last.create_time.getTime()), last.name], fingerprint) : "" };
    },

    /** Takes the oldest queued job, or a running one whose worker went silent. */
    async claim(worker: string, staleAfterMs: number): Promise<ClaimedJob | undefined> {
      const [row] = await query<JobRow>(
        pool,
        `UPDATE training_dataset_jobs SET state = 'RUNNING', worker = $1, heartbeat_time = now(), start_time = coalesce(start_time, now()), stage = 'JOINING'
         WHERE name = (SELECT name FROM training_dataset_jobs
                       WHERE state = 'QUEUED' OR (state = 'RUNNING' AND heartbeat_time < now() - make_interval(secs => $2 / 1000.0))
                       ORDER BY create_time FOR UPDATE SKIP LOCKED LIMIT 1)
         RETURNING *`,
        [worker, staleAfterMs],
      );
      return row && { name: row.name, trainingDataset: row.training_dataset, featureView: row.feature_view };
    },

    /** Records progress; false when the job is no longer this worker's to run (cancelled or taken over). */
    async report(name: string, worker: string, progress: { stage?: StageName; rowsDone?: number; rowsTotal?: number; percent?: number }): Promise<boolean> {
      const rows = await query(
        pool,
        `UPDATE training_dataset_jobs SET heartbeat_time = now(), stage = coalesce($3, stage), rows_done = coalesce($4, rows_done), rows_total = coalesce($5, rows_total), progress_percent = coalesce($6, progress_percent)
         WHERE name = $1 AND worker = $2 AND state = 'RUNNING' RETURNING name`,
        [name, worker, progress.stage ?? null, progress.rowsDone ?? null, progress.rowsTotal ?? null, progress.percent ?? null],
      );
      return rows.length > 0;
    },

    async finish(name: string, worker: string, state: "SUCCEEDED" | "FAILED", failureReason = ""): Promise<void> {
      await query(
        pool,
        `UPDATE training_dataset_jobs SET state = $3, failure_reason = $4, stage = '', end_time = now(), progress_percent = CASE WHEN $3 = 'SUCCEEDED' THEN 100 ELSE progress_percent END
         WHERE name = $1 AND worker = $2 AND state = 'RUNNING'`,
        [name, worker, state, failureReason],
      );
    },

    /** Cancels a queued or running job; a job already final is returned as it is. */
    async cancel(name: string): Promise<{ job: TrainingDatasetJob; cancelled: boolean }> {
      const rows = await query<JobRow>(pool, "UPDATE training_dataset_jobs SET state = 'CANCELLED', stage = '', end_time = now() WHERE name = $1 AND state IN ('QUEUED', 'RUNNING') RETURNING *", [name]);
      if (rows[0]) return { job: jobMessage(rows[0]), cancelled: true };
      return { job: await this.get(name), cancelled: false };
    },
  };
}

export type JobStore = ReturnType<typeof createJobStore>;

const states = new Set(["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]);

/** `state = "RUNNING" AND feature_view = "projects/..."`: the filters ListTrainingDatasetJobs supports. */
function parseJobFilter(filter: string): { state?: string; featureView?: string } {
  const out: { state?: string; featureView?: string } = {};
  if (filter.trim() === "") return out;
  for (const term of filter.split(/\s+AND\s+/i)) {
    const m = term.trim().match(/^(state|feature_view)\s*=\s*"([^"]*)"$/);
    if (!m) throw InvalidArgumentError.field("filter", `cannot parse "${term.trim()}"; use state = "RUNNING" and/or feature_view = "projects/…"`);
    if (m[1] === "state") {
      if (!states.has(m[2]!)) throw InvalidArgumentError.field("filter", `state must be one of ${[...states].join(", ")}`);
      out.state = m[2];
    } else out.featureView = m[2];
  }
  return out;
}
