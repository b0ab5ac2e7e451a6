// Alerts: a streak of consecutive judged windows beyond a threshold, per
// monitor, kind, feature (or performance metric) and model version. When the
// streak reaches the monitor's consecutive_windows an alert is raised — once:
// a unique index allows one FIRING alert per key — and it is resolved by the
// first judged window back within the threshold. Both changes publish an
// AlertChanged event through the outbox, in the same transaction.
import { randomBytes } from "node:crypto";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { decodePageToken, pageSize, paginate, parseFilter, parseName, requestFingerprint } from "@fti/aip";
import type { Pool, Queryable } from "@fti/db";
import { InvalidArgumentError } from "@fti/errors";
import { Alert_Kind as Kind, Alert_State as State, AlertEvidenceSchema, AlertSchema, DriftMetric, type Alert, type Monitor } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { consecutiveWindowsOf } from "./monitors.js";
import { names, projectIdOf } from "./names.js";
import { enqueueEvent } from "./outbox.js";

export type Evidence = MessageInitShape<typeof AlertEvidenceSchema>;

export interface Observation {
  kind: Kind;
  /** The feature (drift) or "" (performance). */
  feature: string;
  /** DriftMetric name or performance metric, e.g. "PSI" or "auc". */
  metric: string;
  model: string;
  exceeded: boolean;
  evidence: Evidence;
}

const kindName = (k: Kind) => Kind[k];

/** Applies one judged window's observation; returns the alert it raised or resolved, if any. Call inside the window's transaction. */
export async function observe(db: Queryable, monitor: Monitor, o: Observation, subjectPrefix: string, now = new Date()): Promise<Alert | undefined> {
  const key = [monitor.name, kindName(o.kind), o.feature, o.metric, o.model];
  await db.query("INSERT INTO alert_streaks (monitor, kind, subject, metric, model, streak, evidence) VALUES ($1, $2, $3, $4, $5, 0, '[]') ON CONFLICT DO NOTHING", key);
  const { rows } = await db.query<{ streak: number; evidence: string[] }>("SELECT streak, evidence FROM alert_streaks WHERE monitor = $1 AND kind = $2 AND subject = $3 AND metric = $4 AND model = $5 FOR UPDATE", key);
  const needed = consecutiveWindowsOf(monitor);
  const firing = await db.query<{ name: string; alert: Uint8Array }>("SELECT name, alert FROM alerts WHERE monitor = $1 AND kind = $2 AND subject = $3 AND metric = $4 AND model = $5 AND state = 'FIRING'", key);

  if (!o.exceeded) {
    await db.query("UPDATE alert_streaks SET streak = 0, evidence = '[]' WHERE monitor = $1 AND kind = $2 AND subject = $3 AND metric = $4 AND model = $5", key);
    const current = firing.rows[0];
    if (!current) return undefined;
    const alert = fromBinary(AlertSchema, current.alert);
    alert.state = State.RESOLVED;
    alert.resolveTime = timestampFromDate(now);
    await db.query("UPDATE alerts SET state = 'RESOLVED', alert = $2 WHERE name = $1", [alert.name, toBinary(AlertSchema, alert)]);
    await publish(db, alert, "resolved", subjectPrefix, now);
    return alert;
  }

  // Evidence is stored as binary protobuf (base64) so it round-trips exactly.
  const evidence = [...rows[0]!.evidence, Buffer.from(toBinary(AlertEvidenceSchema, create(AlertEvidenceSchema, o.evidence))).toString("base64")].slice(-needed);
  const streak = rows[0]!.streak + 1;
  await db.query("UPDATE alert_streaks SET streak = $6, evidence = $7 WHERE monitor = $1 AND kind = $2 AND subject = $3 AND metric = $4 AND model = $5", [...key, streak, JSON.stringify(evidence)]);
  if (streak < needed || firing.rows.length) return undefined; // not yet, or already raised (de-duplicated)

  const { project, monitor: monitorId } = names.monitor.match(monitor.name)!;
  const alert = create(AlertSchema, {
    name: names.alert.format({ project, monitor: monitorId, alert: `a${now.getTime().toString(36)}${randomBytes(4).toString("hex")}` }),
    monitor: monitor.name,
    kind: o.kind,
    state: State.FIRING,
    feature: o.feature,
    model: o.model,
    evidence: evidence.map((e) => fromBinary(AlertEvidenceSchema, Buffer.from(e, "base64"))),
    action: monitor.action,
    raiseTime: timestampFromDate(now),
  });
  await db.query("INSERT INTO alerts (name, monitor, project, kind, subject, metric, model, state, alert) VALUES ($1, $2, $3, $4, $5, $6, $7, 'FIRING', $8)", [alert.name, monitor.name, project, kindName(o.kind), o.feature, o.metric, o.model, toBinary(AlertSchema, alert)]);
  await publish(db, alert, "raised", subjectPrefix, now);
  return alert;
}

async function publish(db: Queryable, alert: Alert, change: "raised" | "resolved", subjectPrefix: string, now: Date) {
  const monitorId = names.monitor.match(alert.monitor)!.monitor;
  await enqueueEvent(db, subjectPrefix, {
    type: `monitoring.alert.${change}`,
    subjectTokens: [projectIdOf(alert.name), monitorId],
    resource: alert.name,
    time: now,
    payload: { case: "alertChanged", value: { alert } },
  });
}

export const driftMetricKey = (m: DriftMetric) => DriftMetric[m];

/** ListAlerts: newest first, for a project or one monitor, filtered by state, kind, feature and model. */
export async function listAlerts(pool: Pool, request: { parent: string; pageSize: number; pageToken: string; filter: string }) {
  let project: string;
  let monitor: string | undefined;
  const asMonitor = names.monitor.match(request.parent);
  if (asMonitor) {
    parseName(names.monitor, request.parent, "parent");
    project = asMonitor.project;
    monitor = request.parent;
  } else project = parseName(names.project, request.parent, "parent").project;
  const size = pageSize(request.pageSize);
  const terms = parseFilter(request.filter, ["state", "kind", "feature", "model"]);
  const where = ["project = $1"];
  const args: unknown[] = [project];
  if (monitor) where.push(`monitor = $${args.push(monitor)}`);
  for (const term of terms) {
    if (term.field === "state") {
      const value = term.value.replace(/^STATE_/, "");
      if (!(value in State) || value === "UNSPECIFIED") throw InvalidArgumentError.field("filter", `state must be FIRING or RESOLVED, got "${term.value}"`);
      where.push(`state = $${args.push(value)}`);
    } else if (term.field === "kind") {
      const value = term.value.replace(/^KIND_/, "");
      if (!(value in Kind) || value === "UNSPECIFIED") throw InvalidArgumentError.field("filter", `kind must be FEATURE_DRIFT or MODEL_PERFORMANCE, got "${term.value}"`);
      where.push(`kind = $${args.push(value)}`);
    } else if (term.field === "feature") where.push(`subject = $${args.push(term.value)}`);
    else where.push(`model = $${args.push(term.value)}`);
  }
  const fingerprint = requestFingerprint([request.parent, request.filter]);
  const cursor = decodePageToken(request.pageToken, fingerprint);
  if (cursor) where.push(`seq < $${args.push(cursor[0])}`);
  const { rows } = await pool.query<{ seq: string; alert: Uint8Array }>(`SELECT seq, alert FROM alerts WHERE ${where.join(" AND ")} ORDER BY seq DESC LIMIT ${size + 1}`, args);
  const page = paginate(rows, size, (r) => [Number(r.seq)], fingerprint);
  return { items: page.items.map((r) => fromBinary(AlertSchema, r.alert)), nextPageToken: page.nextPageToken };
}
