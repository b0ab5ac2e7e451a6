// Offline → online materialization as a long-running job resource: Materialize
// queues a job; a worker plans it (which commits, how many rows), then copies
// the offline rows data file by data file, checkpointing after each, so a job
// interrupted by a kill continues with the next file on restart. Event-time
// last-write-wins online makes a replayed file harmless.
import { randomUUID } from "node:crypto";
import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { decodePageToken, pageSize, paginate, parseFilter, requestFingerprint } from "@fti/aip";
import type { Pool, PoolClient } from "@fti/db";
import { FailedPreconditionError, InvalidArgumentError, isUnavailable, NotFoundError, DomainError } from "@fti/errors";
import type { Logger } from "@fti/logger";
import type { ScanPlan, TimeRange } from "@fti/offline-store";
import type { OnlineStore } from "@fti/online-store";
import { JobState } from "@fti/proto/fti/common/v1/types_pb";
import type { MaterializationJob, MaterializeRequest } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import type { FeatureGroups, ResolvedGroup } from "./feature-groups.js";
import { jobName, parseFeatureGroupName, parseJobName } from "./names.js";
import { enqueueMaterializationEvent, type EventSettings } from "./outbox.js";

export interface Materializations {
  start(request: Pick<MaterializeRequest, "featureGroup" | "scope" | "requestId">): Promise<MaterializationJob>;
  get(name: string): Promise<MaterializationJob>;
  list(request: { parent: string; pageSize: number; pageToken: string; filter: string }): Promise<{ items: MaterializationJob[]; nextPageToken: string }>;
  cancel(name: string): Promise<MaterializationJob>;
  /** Runs queued and interrupted jobs until stopped. */
  startWorker(): { wake(): void; stop(): Promise<void> };
}

export interface MaterializationDeps {
  pool: Pool;
  groups: FeatureGroups;
  online: OnlineStore;
  events: EventSettings;
  logger: Logger;
  onEvent?: () => void;
  pollIntervalMs?: number;
  /** 0: unlimited. */
  maxRowsPerSecond?: number;
}

interface JobRow {
  seq: string;
  id: string;
  feature_group: string;
  incremental: boolean;
  range_start: Date | null;
  range_end: Date | null;
  from_commit_id: string | null;
  to_commit_id: string | null;
  state: number;
  rows_done: string;
  rows_total: string;
  files_done: number;
  failure_reason: string;
  create_time: Date;
  start_time: Date | null;
  end_time: Date | null;
}

const stateNames: Record<string, JobState> = { QUEUED: JobState.QUEUED, RUNNING: JobState.RUNNING, SUCCEEDED: JobState.SUCCEEDED, FAILED: JobState.FAILED, CANCELLED: JobState.CANCELLED };
const upsertChunkRows = 5_000;
const progressEventIntervalMs = 2_000;

function toJob(row: JobRow): MaterializationJob {
  const total = Number(row.rows_total);
  const done = Number(row.rows_done);
  const ts = (d: Date | null): Timestamp | undefined => (d ? timestampFromDate(d) : undefined);
  return {
    $typeName: "fti.ingestion.v1.MaterializationJob",
    name: jobName(row.feature_group, row.id),
    featureGroup: row.feature_group,
    eventTimeRange: row.incremental ? undefined : { $typeName: "fti.common.v1.TimeRange", startTime: ts(row.range_start), endTime: ts(row.range_end) },
    incremental: row.incremental,
    fromCommitId: BigInt(row.from_commit_id ?? -1),
    toCommitId: BigInt(row.to_commit_id ?? -1),
    state: row.state as JobState,
    rowsDone: BigInt(done),
    rowsTotal: BigInt(total),
    progressPercent: total > 0 ? Math.min(100, (done / total) * 100) : row.state === JobState.SUCCEEDED ? 100 : 0,
    failureReason: row.failure_reason,
    createTime: timestampFromDate(row.create_time),
    startTime: ts(row.start_time),
    endTime: ts(row.end_time),
  };
}

export function createMaterializations(deps: MaterializationDeps): Materializations {
  const { pool, logger } = deps;
  let wakeWorker: (() => void) | undefined;

  async function load(db: Pick<Pool, "query">, featureGroup: string, id: string): Promise<JobRow | undefined> {
    return (await db.query<JobRow>("SELECT * FROM materialization_jobs WHERE feature_group = $1 AND id = $2", [featureGroup, id])).rows[0];
  }

  async function announce(row: JobRow) {
    await enqueueMaterializationEvent(pool, deps.events, toJob(row));
    deps.onEvent?.();
  }

  async function update(id: string, set: string, values: unknown[] = []): Promise<JobRow> {
    const { rows } = await pool.query<JobRow>(`UPDATE materialization_jobs SET ${set} WHERE id = $1 RETURNING *`, [id, ...values]);
    return rows[0]!;
  }

  /** Fixes the snapshot a job reads and its row total, once. */
  async function plan(group: ResolvedGroup, row: JobRow): Promise<JobRow> {
    if (row.to_commit_id !== null) return row;
    const to = (await group.offline.snapshot()).version;
    let from = -1;
    if (row.incremental) {
      const last = await pool.query<{ to: string | null }>(
        "SELECT max(to_commit_id) AS to FROM materialization_jobs WHERE feature_group = $1 AND incremental AND state = $2",
        [row.feature_group, JobState.SUCCEEDED],
      );
      from = Math.min(Number(last.rows[0]?.to ?? -1), to);
    }
    const files = await filesOf(group, { ...row, from_commit_id: String(from), to_commit_id: String(to) });
    let total = 0;
    if (row.incremental) total = files.files.reduce((n, f) => n + (f.numRecords ?? 0), 0);
    else for (const file of files.files) total += (await group.offline.readPlan({ ...files, files: [file] }, { columns: [group.schema.eventTime], eventTime: rangeOf(row) })).length;
    return update(row.id, "from_commit_id = $2, to_commit_id = $3, rows_total = $4", [from, to, total]);
  }

  async function filesOf(group: ResolvedGroup, row: JobRow): Promise<ScanPlan> {
    const to = Number(row.to_commit_id);
    if (row.incremental) return group.offline.scanChangesSince(Number(row.from_commit_id), { untilVersion: to });
    return group.offline.scan({ asOf: { version: to }, eventTime: rangeOf(row) });
  }

  async function run(row: JobRow, stopping: () => boolean): Promise<void> {
    const group = await deps.groups.resolve(row.feature_group);
    if (row.state === JobState.QUEUED) {
      row = await update(row.id, "state = $2, start_time = now()", [JobState.RUNNING]);
      await announce(row);
    }
    row = await plan(group, row);
    const scan = await filesOf(group, row);
    const limit = deps.maxRowsPerSecond ?? 0;
    let lastEvent = Date.now();
    for (let i = row.files_done; i < scan.files.length; i++) {
      if (stopping()) return; // stays RUNNING; a worker resumes it at file i
      const rows = await group.offline.readPlan({ ...scan, files: [scan.files[i]!] }, { eventTime: row.incremental ? undefined : rangeOf(row) });
      for (let start = 0; start < rows.length; start += upsertChunkRows) {
        const chunk = rows.slice(start, start + upsertChunkRows);
        const began = Date.now();
        await deps.online.upsert(group.online, chunk);
        if (limit > 0) await sleep(Math.max(0, (chunk.length / limit) * 1000 - (Date.now() - began)));
      }
      row = await update(row.id, "files_done = $2, rows_done = rows_done + $3", [i + 1, rows.length]);
      const current = (await load(pool, row.feature_group, row.id))!;
      if (current.state === JobState.CANCELLED) {
        logger.info("materialization cancelled", { job: row.id, rowsDone: current.rows_done });
        return;
      }
      if (Date.now() - lastEvent >= progressEventIntervalMs) {
        lastEvent = Date.now();
        await announce(row);
      }
    }
    row = await update(row.id, "state = $2, end_time = now()", [JobState.SUCCEEDED]);
    await announce(row);
    logger.info("materialization succeeded", { job: row.id, featureGroup: row.feature_group, rows: row.rows_done });
  }

  /** Takes the oldest active job no other worker holds; its advisory lock lives as long as `client`. */
  async function claim(client: PoolClient): Promise<JobRow | undefined> {
    const { rows } = await client.query<JobRow>("SELECT * FROM materialization_jobs WHERE state IN ($1, $2) ORDER BY seq LIMIT 50", [JobState.QUEUED, JobState.RUNNING]);
    for (const row of rows) {
      const locked = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtext('fti.materialization'), hashtext($1)) AS ok", [row.id]);
      if (!locked.rows[0]!.ok) continue;
      // Re-read under the lock: it may have finished between the select and the lock.
      const fresh = await load(client, row.feature_group, row.id);
      if (fresh && (fresh.state === JobState.QUEUED || fresh.state === JobState.RUNNING)) return fresh;
      await client.query("SELECT pg_advisory_unlock(hashtext('fti.materialization'), hashtext($1))", [row.id]);
    }
    return undefined;
  }

  async function workOnce(stopping: () => boolean): Promise<boolean> {
    const client = await pool.connect();
    let row: JobRow | undefined;
    try {
      row = await claim(client);
      if (!row) return false;
      try {
        await run(row, stopping);
      } catch (err) {
        if (isUnavailable(err)) {
          logger.warn("materialization paused: a store is unavailable; will resume", { job: row.id, error: String(err) });
          return false;
        }
        const reason = err instanceof DomainError ? err.message : "internal error; see the ingestion service's log";
        logger.error("materialization failed", { job: row.id, error: err instanceof Error ? err.stack : String(err) });
        await announce(await update(row.id, "state = $2, end_time = now(), failure_reason = $3", [JobState.FAILED, reason]));
      }
      return true;
    } finally {
      if (row) await client.query("SELECT pg_advisory_unlock(hashtext('fti.materialization'), hashtext($1))", [row.id]).catch(() => {});
      client.release();
    }
  }

  return {
    async start(request) {
      parseFeatureGroupName(request.featureGroup, "feature_group");
      const scope = request.scope;
      if (scope.case === undefined) throw InvalidArgumentError.field("scope", "set incremental = true or an event_time_range");
      if (scope.case === "incremental" && !scope.value) throw InvalidArgumentError.field("incremental", "must be true when set");
      const range = scope.case === "eventTimeRange" ? scope.value : undefined;
      const rangeStart = range?.startTime ? timestampDate(range.startTime) : null;
      const rangeEnd = range?.endTime ? timestampDate(range.endTime) : null;
      if (rangeStart && rangeEnd && rangeStart >= rangeEnd) throw InvalidArgumentError.field("event_time_range", "start_time must be before end_time");
      const group = await deps.groups.resolve(request.featureGroup);
      if (!group.onlineEnabled) throw new FailedPreconditionError(`${group.name} is not online-enabled; enable it in the registry first`);
      if (request.requestId) {
        const { rows } = await pool.query<JobRow>("SELECT * FROM materialization_jobs WHERE feature_group = $1 AND request_id = $2", [group.name, request.requestId]);
        if (rows[0]) return toJob(rows[0]);
      }
      const id = `m${randomUUID().replaceAll("-", "").slice(0, 24)}`;
      const { rows } = await pool.query<JobRow>(
        `INSERT INTO materialization_jobs (id, feature_group, request_id, incremental, range_start, range_end, state) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (feature_group, request_id) WHERE request_id <> '' DO UPDATE SET request_id = excluded.request_id RETURNING *`,
        [id, group.name, request.requestId, scope.case === "incremental", rangeStart, rangeEnd, JobState.QUEUED],
      );
      await announce(rows[0]!);
      wakeWorker?.();
      return toJob(rows[0]!);
    },

    async get(name) {
      const { featureGroup, jobId } = parseJobName(name);
      const row = await load(pool, featureGroup, jobId);
      if (!row) throw new NotFoundError("materialization job", name);
      return toJob(row);
    },

    async list(request) {
      parseFeatureGroupName(request.parent, "parent");
      const group = await deps.groups.resolve(request.parent);
      const size = pageSize(request.pageSize);
      const fingerprint = requestFingerprint([group.name, request.filter]);
      const cursor = decodePageToken(request.pageToken, fingerprint);
      const values: unknown[] = [group.name];
      const conditions = ["feature_group = $1"];
      for (const term of parseFilter(request.filter, ["state"])) {
        const state = stateNames[term.value.replace(/^JOB_STATE_/, "")];
        if (state === undefined) throw InvalidArgumentError.field("filter", `state must be one of ${Object.keys(stateNames).join(", ")}`);
        values.push(state);
        conditions.push(`state = $${values.length}`);
      }
      if (cursor) {
        values.push(Number(cursor[0]));
        conditions.push(`seq < $${values.length}`);
      }
      values.push(size + 1);
      const { rows } = await pool.query<JobRow>(`SELECT * FROM materialization_jobs WHERE ${conditions.join(" AND ")} ORDER BY seq DESC LIMIT $${values.length}`, values);
      const page = paginate(rows, size, (r) => [Number(r.seq)], fingerprint);
      return { items: page.items.map(toJob), nextPageToken: page.nextPageToken };
    },

    async cancel(name) {
      const { featureGroup, jobId } = parseJobName(name);
      const { rows } = await pool.query<JobRow>("UPDATE materialization_jobs SET state = $3, end_time = now() WHERE feature_group = $1 AND id = $2 AND state IN (1, 2) RETURNING *", [featureGroup, jobId, JobState.CANCELLED]);
      if (rows[0]) {
        await announce(rows[0]);
        return toJob(rows[0]);
      }
      return this.get(name);
    },

    startWorker() {
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      let wakeUp: (() => void) | undefined;
      const loop = (async () => {
        while (!stopped) {
          let worked = false;
          try {
            worked = await workOnce(() => stopped);
          } catch (err) {
            logger.warn("materialization worker cannot reach Postgres; will retry", { error: String(err) });
          }
          if (stopped || worked) continue;
          await new Promise<void>((resolve) => {
            wakeUp = resolve;
            timer = setTimeout(resolve, deps.pollIntervalMs ?? 1_000);
          });
        }
      })();
      wakeWorker = () => {
        if (timer) clearTimeout(timer);
        wakeUp?.();
      };
      return {
        wake: () => wakeWorker?.(),
        async stop() {
          stopped = true;
          wakeWorker?.();
          await loop;
        },
      };
    },
  };
}

/** The job's half-open range as the offline store's inclusive one (times are kept to the millisecond). */
function rangeOf(row: JobRow): TimeRange {
  return { ...(row.range_start ? { from: row.range_start } : {}), ...(row.range_end ? { to: new Date(row.range_end.getTime() - 1) } : {}) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
