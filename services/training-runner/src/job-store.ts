// Jobs in Postgres: the Job message stored whole, log lines beside it, and the
// claim / heartbeat / stale-job queries the runner coordinates through, so
// several runner replicas share one queue and a crashed one's jobs are failed.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { decodePageToken, pageSize, paginate, parseFilter, requestFingerprint } from "@fti/aip";
import { withTransaction, type Pool } from "@fti/db";
import { InvalidArgumentError, NotFoundError } from "@fti/errors";
import { JobState } from "@fti/proto/fti/common/v1/types_pb";
import { JobSchema, LogLineSchema, type Job } from "@fti/proto/fti/training/v1/training_pb";

export const stateNames: Record<JobState, string> = {
  [JobState.UNSPECIFIED]: "UNSPECIFIED",
  [JobState.QUEUED]: "QUEUED",
  [JobState.RUNNING]: "RUNNING",
  [JobState.SUCCEEDED]: "SUCCEEDED",
  [JobState.FAILED]: "FAILED",
  [JobState.CANCELLED]: "CANCELLED",
};

export const isFinal = (state: JobState) => state === JobState.SUCCEEDED || state === JobState.FAILED || state === JobState.CANCELLED;

const LOG_LINES_IN_GET = 200;

export interface StateChange {
  job: Job;
  previous: JobState;
}

export interface JobStore {
  /** Inserts a queued job; with a request id already used in the project, returns that job instead. */
  insert(job: Job, requestId: string): Promise<{ job: Job; created: boolean }>;
  /** The job with its last 200 log lines. */
  get(name: string): Promise<Job>;
  /** Log lines after `afterSeq`, oldest first, with the last seq seen. */
  logsSince(name: string, afterSeq: number): Promise<{ lines: Job["logLines"]; lastSeq: number }>;
  list(request: { parent: string; pageSize: number; pageToken: string; filter: string }): Promise<{ items: Job[]; nextPageToken: string }>;
  /** Moves the oldest QUEUED job to RUNNING for this runner, or returns undefined. */
  claimNext(runnerId: string): Promise<StateChange | undefined>;
  /** Changes a job that is not final yet; returns undefined when it already is. */
  update(name: string, change: (job: Job) => void): Promise<StateChange | undefined>;
  appendLog(name: string, text: string): Promise<void>;
  /** Marks a queued job CANCELLED at once, or flags a running one for its runner; returns the job now. */
  requestCancel(name: string): Promise<{ job: Job; change?: StateChange }>;
  isCancelRequested(name: string): Promise<boolean>;
  heartbeat(runnerId: string, jobNames: string[]): Promise<void>;
  /** Fails RUNNING jobs whose runner stopped reporting; returns them. */
  failStale(staleAfterMs: number, reason: string): Promise<StateChange[]>;
  /** Calls `listener` with every change this process commits (for WatchJob); returns the unsubscribe. */
  onChange(listener: (job: Job) => void): () => void;
}

export function createJobStore(pool: Pool): JobStore {
  const store = createStore(pool);
  // Committed changes are also announced in-process, so a watcher sees every
  // state a job passes through here, however short; changes made by another
  // replica reach it by polling.
  const listeners = new Set<(job: Job) => void>();
  const announce = (job: Job | undefined) => {
    if (job) for (const l of listeners) l(job);
  };
  return {
    ...store,
    async claimNext(runnerId) {
      const change = await store.claimNext(runnerId);
      announce(change?.job);
      return change;
    },
    async update(name, change) {
      const result = await store.update(name, change);
      announce(result?.job);
      return result;
    },
    async requestCancel(name) {
      const result = await store.requestCancel(name);
      announce(result.job);
      return result;
    },
    async failStale(staleAfterMs, reason) {
      const changes = await store.failStale(staleAfterMs, reason);
      for (const c of changes) announce(c.job);
      return changes;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function createStore(pool: Pool): Omit<JobStore, "onChange"> {
  const decode = (bytes: Uint8Array) => fromBinary(JobSchema, bytes);

  async function write(db: Pick<Pool, "query">, job: Job, extra = ""): Promise<void> {
    await db.query(`UPDATE jobs SET job = $2, state = $3, updated_at = now()${extra} WHERE name = $1`, [job.name, toBinary(JobSchema, job), stateNames[job.state]]);
  }

  function finish(job: Job, state: JobState, reason = ""): void {
    job.state = state;
    job.endTime = timestampNow();
    if (reason) job.failureReason = reason;
  }

  return {
    async insert(job, requestId) {
      const { rows } = await pool.query<{ job: Uint8Array }>(
        `INSERT INTO jobs (name, project, request_id, state, model, schedule, trigger_name, job)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (project, request_id) DO NOTHING RETURNING job`,
        [job.name, job.name.split("/")[1], requestId || null, stateNames[job.state], job.spec?.model ?? "", job.schedule, job.trigger, toBinary(JobSchema, job)],
      );
      if (rows[0]) return { job: decode(rows[0].job), created: true };
      const existing = await pool.query<{ name: string }>("SELECT name FROM jobs WHERE project = $1 AND request_id = $2", [job.name.split("/")[1], requestId]);
      return { job: await this.get(existing.rows[0]!.name), created: false };
    },

    async get(name) {
      const { rows } = await pool.query<{ job: Uint8Array }>("SELECT job FROM jobs WHERE name = $1", [name]);
      if (!rows[0]) throw new NotFoundError("training job", name);
      const job = decode(rows[0].job);
      const logs = await pool.query<{ time: Date; text: string }>(
        "SELECT time, text FROM (SELECT seq, time, text FROM job_logs WHERE job = $1 ORDER BY seq DESC LIMIT $2) l ORDER BY seq",
        [name, LOG_LINES_IN_GET],
      );
      job.logLines = logs.rows.map((r) => create(LogLineSchema, { time: { seconds: BigInt(Math.floor(r.time.getTime() / 1000)), nanos: (r.time.getTime() % 1000) * 1e6 }, text: r.text }));
      return job;
    },

    async logsSince(name, afterSeq) {
      const { rows } = await pool.query<{ seq: string; time: Date; text: string }>("SELECT seq, time, text FROM job_logs WHERE job = $1 AND seq > $2 ORDER BY seq", [name, afterSeq]);
      return {
        lines: rows.map((r) => create(LogLineSchema, { time: { seconds: BigInt(Math.floor(r.time.getTime() / 1000)), nanos: (r.time.getTime() % 1000) * 1e6 }, text: r.text })),
        lastSeq: rows.length ? Number(rows[rows.length - 1]!.seq) : afterSeq,
      };
    },

    async list(request) {
      const size = pageSize(request.pageSize);
      const terms = parseFilter(request.filter, ["state", "model", "schedule", "trigger"]);
      const fingerprint = requestFingerprint([request.parent, request.filter]);
      const cursor = decodePageToken(request.pageToken, fingerprint);
      const params: unknown[] = [request.parent.split("/")[1]];
      const where = ["project = $1"];
      const columns: Record<string, string> = { state: "state", model: "model", schedule: "schedule", trigger: "trigger_name" };
      for (const term of terms) {
        if (term.field === "state" && !Object.values(stateNames).includes(term.value)) throw InvalidArgumentError.field("filter", `state must be one of QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED`);
        params.push(term.value);
        where.push(`${columns[term.field]} = $${params.length}`);
      }
      if (cursor) {
        params.push(cursor[0]);
        where.push(`seq < $${params.length}`);
      }
      params.push(size + 1);
      const { rows } = await pool.query<{ seq: string; job: Uint8Array }>(`SELECT seq, job FROM jobs WHERE ${where.join(" AND ")} ORDER BY seq DESC LIMIT $${params.length}`, params);
      const page = paginate(rows, size, (r) => [Number(r.seq)], fingerprint);
      return { items: page.items.map((r) => decode(r.job)), nextPageToken: page.nextPageToken };
    },

    async claimNext(runnerId) {
      return withTransaction(pool, async (db) => {
        const { rows } = await db.query<{ job: Uint8Array }>("SELECT job FROM jobs WHERE state = 'QUEUED' ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED");
        if (!rows[0]) return undefined;
        const job = decode(rows[0].job);
        const previous = job.state;
        job.state = JobState.RUNNING;
        job.startTime = timestampNow();
        await db.query("UPDATE jobs SET job = $2, state = 'RUNNING', runner_id = $3, heartbeat_at = now(), updated_at = now() WHERE name = $1", [job.name, toBinary(JobSchema, job), runnerId]);
        return { job, previous };
      });
    },

    async update(name, change) {
      return withTransaction(pool, async (db) => {
        const { rows } = await db.query<{ job: Uint8Array }>("SELECT job FROM jobs WHERE name = $1 FOR UPDATE", [name]);
        if (!rows[0]) throw new NotFoundError("training job", name);
        const job = decode(rows[0].job);
        if (isFinal(job.state)) return undefined;
        const previous = job.state;
        change(job);
        if (isFinal(job.state) && !job.endTime) job.endTime = timestampNow();
        await write(db, job);
        return { job, previous };
      });
    },

    async appendLog(name, text) {
      await pool.query("INSERT INTO job_logs (job, text) VALUES ($1, $2)", [name, text]);
    },

    async requestCancel(name) {
      const change = await withTransaction(pool, async (db) => {
        const { rows } = await db.query<{ job: Uint8Array }>("SELECT job FROM jobs WHERE name = $1 FOR UPDATE", [name]);
        if (!rows[0]) throw new NotFoundError("training job", name);
        const job = decode(rows[0].job);
        if (job.state === JobState.QUEUED) {
          finish(job, JobState.CANCELLED);
          await write(db, job);
          return { job, previous: JobState.QUEUED };
        }
        // A running job is stopped by its runner, which polls this flag.
        if (job.state === JobState.RUNNING) await db.query("UPDATE jobs SET cancel_requested = true WHERE name = $1", [name]);
        return undefined;
      });
      return { job: change?.job ?? (await this.get(name)), change };
    },

    async isCancelRequested(name) {
      const { rows } = await pool.query<{ cancel_requested: boolean }>("SELECT cancel_requested FROM jobs WHERE name = $1", [name]);
      return rows[0]?.cancel_requested ?? false;
    },

    async heartbeat(runnerId, jobNames) {
      if (jobNames.length) await pool.query("UPDATE jobs SET heartbeat_at = now() WHERE runner_id = $1 AND name = ANY($2) AND state = 'RUNNING'", [runnerId, jobNames]);
    },

    async failStale(staleAfterMs, reason) {
      const { rows } = await pool.query<{ name: string }>("SELECT name FROM jobs WHERE state = 'RUNNING' AND heartbeat_at < now() - make_interval(secs => $1::float8 / 1000)", [staleAfterMs]);
      const changes: StateChange[] = [];
      for (const { name } of rows) {
        const change = await withTransaction(pool, async (db) => {
          const locked = await db.query<{ job: Uint8Array }>(
            "SELECT job FROM jobs WHERE name = $1 AND state = 'RUNNING' AND heartbeat_at < now() - make_interval(secs => $2::float8 / 1000) FOR UPDATE",
            [name, staleAfterMs],
          );
          if (!locked.rows[0]) return undefined;
          const job = decode(locked.rows[0].job);
          finish(job, JobState.FAILED, reason);
          await write(db, job);
          return { job, previous: JobState.RUNNING };
        });
        if (change) changes.push(change);
      }
      return changes;
    },
  };
}
