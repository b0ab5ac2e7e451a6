// Event triggers: CRUD with etags; `onEvent`, fed by a durable NATS consumer
// of ingestion commits and raised monitoring alerts, opens or extends a
// trigger's debounce window in Postgres; `fireClosedWindows` submits one job
// per window whose time is up. The window lives in Postgres, so a restart
// neither loses a burst nor fires it twice (request id "<trigger>@<opened>").
import { clone, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { durationMs, timestampFromDate, timestampNow, type FieldMask } from "@bufbuild/protobuf/wkt";
import { applyMask, assertId, checkEtag, decodePageToken, formatEtag, maskPaths, pageSize, paginate, parseFilter, parseName, requestFingerprint } from "@fti/aip";
import { withTransaction, type Pool } from "@fti/db";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, type FieldViolation } from "@fti/errors";
import type { Logger } from "@fti/logger";
import type { Event } from "@fti/proto/fti/events/v1/events_pb";
import { Action, Alert_State as AlertState } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { TriggerSchema, type Trigger } from "@fti/proto/fti/training/v1/training_pb";
import { jobSpecViolations } from "./job-spec.js";
import type { Jobs } from "./jobs.js";
import { names } from "./names.js";

const updatable = ["description", "feature_group_commit", "drift_alert", "debounce", "job_spec", "paused"];
const DEFAULT_DEBOUNCE_MS = 60_000;

export function createTriggers(deps: { pool: Pool; jobs: Jobs; logger: Logger }) {
  const { pool } = deps;
  const decode = (bytes: Uint8Array) => fromBinary(TriggerSchema, bytes);

  function validate(t: Trigger, project: string): void {
    const v: FieldViolation[] = jobSpecViolations(t.jobSpec, project, "trigger.job_spec");
    if (t.event.case === "featureGroupCommit") {
      const fg = t.event.value.featureGroup;
      if (!names.featureGroup.match(fg) && !names.featureGroupVersion.match(fg)) v.push({ field: "trigger.feature_group_commit.feature_group", description: `must be "${names.featureGroup.pattern}" or a version of it` });
    } else if (t.event.case === "driftAlert") {
      if (!names.monitor.match(t.event.value.monitor)) v.push({ field: "trigger.drift_alert.monitor", description: `must be "${names.monitor.pattern}"` });
    } else v.push({ field: "trigger.event", description: "set feature_group_commit or drift_alert" });
    if (t.debounce && durationMs(t.debounce) < 0) v.push({ field: "trigger.debounce", description: "must not be negative" });
    if (v.length) throw new InvalidArgumentError(v);
  }

  async function load(name: string): Promise<Trigger> {
    const { rows } = await pool.query<{ trigger: Uint8Array }>("SELECT trigger FROM triggers WHERE name = $1", [name]);
    if (!rows[0]) throw new NotFoundError("trigger", name);
    return decode(rows[0].trigger);
  }

  /** Does this event fire the trigger? */
  function matches(t: Trigger, event: Event): boolean {
    if (t.event.case === "featureGroupCommit" && event.payload.case === "ingestionCommit") {
      const commit = event.payload.value.commit;
      if (!commit) return false;
      const wanted = t.event.value.featureGroup;
      const group = commit.featureGroup;
      return (group === wanted || group.startsWith(`${wanted}/versions/`)) && commit.rowsWritten >= t.event.value.minRows;
    }
    if (t.event.case === "driftAlert" && event.payload.case === "alertChanged") {
      const alert = event.payload.value.alert;
      return !!alert && alert.monitor === t.event.value.monitor && alert.state === AlertState.FIRING && alert.action === Action.TRIGGER_TRAINING;
    }
    return false;
  }

  return {
    async createTrigger(parent: string, triggerId: string, trigger: Trigger | undefined): Promise<Trigger> {
      const { project } = parseName(names.project, parent, "parent");
      assertId(triggerId, "trigger_id");
      if (!trigger) throw InvalidArgumentError.field("trigger", "is required");
      const t = create(TriggerSchema, { description: trigger.description, event: trigger.event, debounce: trigger.debounce, jobSpec: trigger.jobSpec, paused: trigger.paused });
      validate(t, project);
      Object.assign(t, { name: names.trigger.format({ project, trigger: triggerId }), etag: formatEtag(1), createTime: timestampNow(), updateTime: timestampNow() });
      const inserted = await pool.query("INSERT INTO triggers (name, project, revision, paused, trigger) VALUES ($1, $2, 1, $3, $4) ON CONFLICT DO NOTHING", [t.name, project, t.paused, toBinary(TriggerSchema, t)]);
      if (inserted.rowCount === 0) throw new AlreadyExistsError("trigger", t.name);
      return t;
    },

    async getTrigger(name: string): Promise<Trigger> {
      parseName(names.trigger, name, "name");
      return load(name);
    },

    async listTriggers(request: { parent: string; pageSize: number; pageToken: string; filter: string }) {
      const { project } = parseName(names.project, request.parent, "parent");
      const size = pageSize(request.pageSize);
      const terms = parseFilter(request.filter, ["paused", "feature_group", "monitor"]);
      const fingerprint = requestFingerprint([request.parent, request.filter]);
      const cursor = decodePageToken(request.pageToken, fingerprint);
      const { rows } = await pool.query<{ created_seq: string; trigger: Uint8Array }>("SELECT created_seq, trigger FROM triggers WHERE project = $1 AND created_seq > $2 ORDER BY created_seq", [project, cursor?.[0] ?? 0]);
      const matching = rows.filter((r) => {
        const t = decode(r.trigger);
        return terms.every((term) =>
          term.field === "paused"
            ? String(t.paused) === term.value
            : term.field === "feature_group"
              ? t.event.case === "featureGroupCommit" && t.event.value.featureGroup === term.value
              : t.event.case === "driftAlert" && t.event.value.monitor === term.value,
        );
      });
      const page = paginate(matching.slice(0, size + 1), size, (r) => [Number(r.created_seq)], fingerprint);
      return { items: page.items.map((r) => decode(r.trigger)), nextPageToken: page.nextPageToken };
    },

    async updateTrigger(patch: Trigger | undefined, mask: FieldMask | undefined): Promise<Trigger> {
      if (!patch) throw InvalidArgumentError.field("trigger", "is required");
      const { project } = parseName(names.trigger, patch.name, "trigger.name");
      const paths = maskPaths(mask?.paths ?? [], updatable);
      return withTransaction(pool, async (db) => {
        const { rows } = await db.query<{ trigger: Uint8Array; revision: string }>("SELECT trigger, revision FROM triggers WHERE name = $1 FOR UPDATE", [patch.name]);
        if (!rows[0]) throw new NotFoundError("trigger", patch.name);
        const current = decode(rows[0].trigger);
        if (patch.etag) checkEtag(patch.etag, current.etag, current.name);
        const next = applyMask(clone(TriggerSchema, current), patch, paths);
        validate(next, project);
        const revision = Number(rows[0].revision) + 1;
        Object.assign(next, { etag: formatEtag(revision), updateTime: timestampNow() });
        await db.query("UPDATE triggers SET trigger = $2, revision = $3, paused = $4 WHERE name = $1", [next.name, toBinary(TriggerSchema, next), revision, next.paused]);
        return next;
      });
    },

    async deleteTrigger(name: string, etag: string): Promise<void> {
      parseName(names.trigger, name, "name");
      const current = await load(name);
      if (etag) checkEtag(etag, current.etag, name);
      await pool.query("DELETE FROM triggers WHERE name = $1", [name]);
    },

    /** Counts the event in the debounce window of every trigger it fires (opening one if needed). */
    async onEvent(event: Event): Promise<void> {
      const project = event.resource.startsWith("projects/") ? event.resource.split("/")[1] : undefined;
      const { rows } = await pool.query<{ trigger: Uint8Array }>("SELECT trigger FROM triggers WHERE NOT paused" + (project ? " AND project = $1" : ""), project ? [project] : []);
      for (const t of rows.map((r) => decode(r.trigger))) {
        if (!matches(t, event)) continue;
        const debounceMs = t.debounce ? durationMs(t.debounce) : DEFAULT_DEBOUNCE_MS;
        await pool.query(
          `INSERT INTO trigger_windows (trigger_name, opened_at, fire_at, events, event_ids)
           VALUES ($1, now(), now() + make_interval(secs => $2::float8 / 1000), 1, ARRAY[$3])
           ON CONFLICT (trigger_name) DO UPDATE SET events = trigger_windows.events + 1, event_ids = array_append(trigger_windows.event_ids, $3)
           WHERE NOT ($3 = ANY (trigger_windows.event_ids))`,
          [t.name, debounceMs, event.id],
        );
      }
    },

    /** Submits one job per window whose debounce time has passed; returns the jobs. */
    async fireClosedWindows(): Promise<string[]> {
      const submitted: string[] = [];
      const { rows } = await pool.query<{ trigger_name: string }>("SELECT trigger_name FROM trigger_windows WHERE fire_at <= now()");
      for (const { trigger_name: name } of rows) {
        await withTransaction(pool, async (db) => {
          const locked = await db.query<{ opened_at: Date; events: number; trigger: Uint8Array }>(
            "SELECT w.opened_at, w.events, t.trigger FROM trigger_windows w JOIN triggers t ON t.name = w.trigger_name WHERE w.trigger_name = $1 AND w.fire_at <= now() FOR UPDATE OF w SKIP LOCKED",
            [name],
          );
          const window = locked.rows[0];
          if (!window) return;
          const t = decode(window.trigger);
          try {
            const job = await deps.jobs.submitJob(`projects/${name.split("/")[1]}`, t.jobSpec, `${name}@${window.opened_at.toISOString()}`, { trigger: name });
            Object.assign(t, { lastJob: job.name, lastFiredTime: timestampFromDate(new Date()) });
            submitted.push(job.name);
            deps.logger.info("trigger fired", { trigger: name, job: job.name, events: window.events });
          } catch (err) {
            deps.logger.warn("triggered job not submitted", { trigger: name, error: (err as Error).message });
          }
          await db.query("DELETE FROM trigger_windows WHERE trigger_name = $1", [name]);
          await db.query("UPDATE triggers SET trigger = $2 WHERE name = $1", [name, toBinary(TriggerSchema, t)]);
        });
      }
      return submitted;
    },
  };
}

export type Triggers = ReturnType<typeof createTriggers>;
