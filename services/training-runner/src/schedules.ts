// Cron schedules: CRUD with etags, and `fireDue`, which submits one job per
// due schedule. The job's request id is "<schedule>@<due time>", so two
// replicas firing the same schedule at once submit one job.
import { clone, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate, timestampNow, type FieldMask } from "@bufbuild/protobuf/wkt";
import { applyMask, assertId, checkEtag, decodePageToken, formatEtag, maskPaths, pageSize, paginate, parseFilter, parseName, requestFingerprint } from "@fti/aip";
import { withTransaction, type Pool } from "@fti/db";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from "@fti/errors";
import type { Logger } from "@fti/logger";
import { ScheduleSchema, type Schedule } from "@fti/proto/fti/training/v1/training_pb";
import { assertTimeZone, nextRun, parseCron } from "./cron.js";
import { jobSpecViolations } from "./job-spec.js";
import type { Jobs } from "./jobs.js";
import { names } from "./names.js";

const updatable = ["description", "cron", "time_zone", "job_spec", "paused"];

export function createSchedules(deps: { pool: Pool; jobs: Jobs; logger: Logger }) {
  const { pool } = deps;
  const decode = (bytes: Uint8Array) => fromBinary(ScheduleSchema, bytes);

  /** Checks the cron, zone and job spec; returns the next run time. */
  function validate(s: Schedule, project: string): Date {
    const cron = parseCron(s.cron, "schedule.cron");
    assertTimeZone(s.timeZone || "UTC", "schedule.time_zone");
    const violations = jobSpecViolations(s.jobSpec, project, "schedule.job_spec");
    if (violations.length) throw new InvalidArgumentError(violations);
    try {
      return nextRun(cron, new Date(), s.timeZone || "UTC");
    } catch {
      throw InvalidArgumentError.field("schedule.cron", `"${s.cron}" never matches a date`);
    }
  }

  async function load(name: string): Promise<Schedule> {
    const { rows } = await pool.query<{ schedule: Uint8Array }>("SELECT schedule FROM schedules WHERE name = $1", [name]);
    if (!rows[0]) throw new NotFoundError("schedule", name);
    return decode(rows[0].schedule);
  }

  return {
    async createSchedule(parent: string, scheduleId: string, schedule: Schedule | undefined): Promise<Schedule> {
      const { project } = parseName(names.project, parent, "parent");
      assertId(scheduleId, "schedule_id");
      if (!schedule) throw InvalidArgumentError.field("schedule", "is required");
      const s = create(ScheduleSchema, { description: schedule.description, cron: schedule.cron, timeZone: schedule.timeZone, jobSpec: schedule.jobSpec, paused: schedule.paused });
      const next = validate(s, project);
      Object.assign(s, { name: names.schedule.format({ project, schedule: scheduleId }), etag: formatEtag(1), createTime: timestampNow(), updateTime: timestampNow(), nextRunTime: s.paused ? undefined : timestampFromDate(next) });
      const inserted = await pool.query("INSERT INTO schedules (name, project, revision, paused, next_run_at, schedule) VALUES ($1, $2, 1, $3, $4, $5) ON CONFLICT DO NOTHING", [s.name, project, s.paused, s.paused ? null : next, toBinary(ScheduleSchema, s)]);
      if (inserted.rowCount === 0) throw new AlreadyExistsError("schedule", s.name);
      return s;
    },

    async getSchedule(name: string): Promise<Schedule> {
      parseName(names.schedule, name, "name");
      return load(name);
    },

    async listSchedules(request: { parent: string; pageSize: number; pageToken: string; filter: string }) {
      const { project } = parseName(names.project, request.parent, "parent");
      const size = pageSize(request.pageSize);
      const terms = parseFilter(request.filter, ["paused", "model"]);
      const fingerprint = requestFingerprint([request.parent, request.filter]);
      const cursor = decodePageToken(request.pageToken, fingerprint);
      const { rows } = await pool.query<{ created_seq: string; schedule: Uint8Array }>(
        "SELECT created_seq, schedule FROM schedules WHERE project = $1 AND created_seq > $2 ORDER BY created_seq",
        [project, cursor?.[0] ?? 0],
      );
      const matching = rows.filter((r) => {
        const s = decode(r.schedule);
        return terms.every((t) => (t.field === "paused" ? String(s.paused) === t.value : s.jobSpec?.model === t.value));
      });
      const page = paginate(matching.slice(0, size + 1), size, (r) => [Number(r.created_seq)], fingerprint);
      return { items: page.items.map((r) => decode(r.schedule)), nextPageToken: page.nextPageToken };
    },

    async updateSchedule(patch: Schedule | undefined, mask: FieldMask | undefined): Promise<Schedule> {
      if (!patch) throw InvalidArgumentError.field("schedule", "is required");
      const { project } = parseName(names.schedule, patch.name, "schedule.name");
      const paths = maskPaths(mask?.paths ?? [], updatable);
      return withTransaction(pool, async (db) => {
        const { rows } = await db.query<{ schedule: Uint8Array; revision: string }>("SELECT schedule, revision FROM schedules WHERE name = $1 FOR UPDATE", [patch.name]);
        if (!rows[0]) throw new NotFoundError("schedule", patch.name);
        const current = decode(rows[0].schedule);
        if (patch.etag) checkEtag(patch.etag, current.etag, current.name);
        const next = applyMask(clone(ScheduleSchema, current), patch, paths);
        const nextRunAt = validate(next, project);
        const revision = Number(rows[0].revision) + 1;
        Object.assign(next, { etag: formatEtag(revision), updateTime: timestampNow(), nextRunTime: next.paused ? undefined : timestampFromDate(nextRunAt) });
        await db.query("UPDATE schedules SET schedule = $2, revision = $3, paused = $4, next_run_at = $5 WHERE name = $1", [next.name, toBinary(ScheduleSchema, next), revision, next.paused, next.paused ? null : nextRunAt]);
        return next;
      });
    },

    async deleteSchedule(name: string, etag: string): Promise<void> {
      parseName(names.schedule, name, "name");
      const current = await load(name);
      if (etag) checkEtag(etag, current.etag, name);
      await pool.query("DELETE FROM schedules WHERE name = $1", [name]);
    },

    /** Submits a job for every due schedule and moves it to its next run. */
    async fireDue(now = new Date()): Promise<string[]> {
      const submitted: string[] = [];
      const { rows } = await pool.query<{ name: string }>("SELECT name FROM schedules WHERE NOT paused AND next_run_at <= $1", [now]);
      for (const { name } of rows) {
        await withTransaction(pool, async (db) => {
          const locked = await db.query<{ schedule: Uint8Array; next_run_at: Date }>("SELECT schedule, next_run_at FROM schedules WHERE name = $1 AND NOT paused AND next_run_at <= $2 FOR UPDATE SKIP LOCKED", [name, now]);
          if (!locked.rows[0]) return;
          const s = decode(locked.rows[0].schedule);
          const due = locked.rows[0].next_run_at;
          try {
            const job = await deps.jobs.submitJob(`projects/${name.split("/")[1]}`, s.jobSpec, `${name}@${due.toISOString()}`, { schedule: name });
            s.lastJob = job.name;
            submitted.push(job.name);
          } catch (err) {
            deps.logger.warn("scheduled job not submitted", { schedule: name, error: (err as Error).message });
          }
          const next = nextRun(parseCron(s.cron), now, s.timeZone || "UTC");
          s.nextRunTime = timestampFromDate(next);
          await db.query("UPDATE schedules SET schedule = $2, next_run_at = $3 WHERE name = $1", [name, toBinary(ScheduleSchema, s), next]);
        });
      }
      return submitted;
    },
  };
}

export type Schedules = ReturnType<typeof createSchedules>;
