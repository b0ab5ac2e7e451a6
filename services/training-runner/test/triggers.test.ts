// Cron parsing and schedules, and event triggers: a burst of drift alerts
// inside the debounce window starts exactly one job.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { publishMessage } from "@fti/events";
import { JobState } from "@fti/proto/fti/common/v1/types_pb";
import { EventSchema } from "@fti/proto/fti/events/v1/events_pb";
import { Action, Alert_State as AlertState } from "@fti/proto/fti/monitoring/v1/monitoring_pb";
import { statusOf } from "../../registry/test/harness.js";
import { nextRun, parseCron } from "../src/cron.js";
import { jobSpec, startTraining, syntheticDataset, trpc, until, type SyntheticDataset, type TrainingHarness } from "./harness.js";

describe("cron", () => {
  const next = (expr: string, after: string, tz = "UTC") => nextRun(parseCron(expr), new Date(after), tz).toISOString();
  it("handles *, lists, ranges, steps and both day fields", () => {
    expect(next("0 3 * * *", "2024-05-01T03:00:00Z")).toBe("2024-05-02T03:00:00.000Z");
    expect(next("*/15 * * * *", "2024-05-01T10:07:30Z")).toBe("2024-05-01T10:15:00.000Z");
    expect(next("5,35 9-10 * * *", "2024-05-01T10:36:00Z")).toBe("2024-05-02T09:05:00.000Z");
    expect(next("0 0 * * 1-5", "2024-05-03T12:00:00Z")).toBe("2024-05-06T00:00:00.000Z"); // Fri → Mon
    expect(next("0 0 1 * 0", "2024-05-02T00:00:00Z")).toBe("2024-05-05T00:00:00.000Z"); // 1st of month OR Sunday
    expect(next("0 0 29 2 *", "2024-03-01T00:00:00Z")).toBe("2028-02-29T00:00:00.000Z");
  });
  it("reads the expression in a time zone", () => {
    expect(next("0 3 * * *", "2024-07-01T00:00:00Z", "Europe/Paris")).toBe("2024-07-01T01:00:00.000Z");
  });
  it("rejects malformed expressions", () => {
    for (const bad of ["* * * *", "60 * * * *", "*/0 * * * *", "a * * * *", "5-1 * * * *"]) expect(() => parseCron(bad)).toThrow(/cron/);
  });
});

let h: TrainingHarness;
let dataset: SyntheticDataset;

beforeAll(async () => {
  h = await startTraining();
  dataset = await syntheticDataset(h, { project: "trg", rows: 1000, features: 2, labelType: "double", label: "x0 + x1" });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe("triggers and schedules", () => {
  it("a burst of drift alerts inside the debounce window starts exactly one job", async () => {
    const monitor = "projects/trg/monitors/drift";
    const trigger = (await h.call(trpc.createTrigger, {
      parent: "projects/trg",
      triggerId: "on_drift",
      trigger: { event: { case: "driftAlert", value: { monitor } }, debounce: { seconds: 1n }, jobSpec: jobSpec({ trainingDataset: dataset.name, label: "label", linearRegression: {}, model: "projects/trg/models/retrained" }) },
    })).trigger!;
    const subject = `${h.registry.subjectPrefix}.monitoring.alert.raised.trg.drift`;
    const alert = (i: number, action: Action) => ({
      id: `alert-${i}`,
      time: timestampNow(),
      source: "monitoring",
      type: "monitoring.alert.raised",
      subject,
      resource: `${monitor}/alerts/a${i}`,
      payload: { case: "alertChanged" as const, value: { alert: { name: `${monitor}/alerts/a${i}`, monitor, state: AlertState.FIRING, action } } },
    });
    // Only alerts whose monitor action is TRIGGER_TRAINING count; the NOTIFY one is ignored.
    await publishMessage(h.registry.nats, subject, EventSchema, alert(0, Action.NOTIFY), { msgId: "alert-0" });
    for (let i = 1; i <= 5; i++) await publishMessage(h.registry.nats, subject, EventSchema, alert(i, Action.TRIGGER_TRAINING), { msgId: `alert-${i}` });

    let jobs: Awaited<ReturnType<typeof listTriggered>> = [];
    const listTriggered = async () => (await h.call(trpc.listJobs, { parent: "projects/trg", filter: `trigger = "${trigger.name}"` })).jobs;
    await until(async () => (jobs = await listTriggered()).length > 0, 15_000);
    const done = await h.waitForJob(jobs[0]!.name);
    expect(done.state).toBe(JobState.SUCCEEDED);
    // Well past the window: still one job.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await listTriggered()).toHaveLength(1);
    const after = (await h.call(trpc.getTrigger, { name: trigger.name })).trigger!;
    expect(after.lastJob).toBe(done.name);
  }, 60_000);

  it("schedules: CRUD with etags and validation", async () => {
    const spec = jobSpec({ trainingDataset: dataset.name, label: "label", linearRegression: {}, model: "projects/trg/models/nightly" });
    const created = (await h.call(trpc.createSchedule, { parent: "projects/trg", scheduleId: "nightly", schedule: { cron: "0 3 * * *", timeZone: "Europe/Paris", jobSpec: spec } })).schedule!;
    expect(created.nextRunTime).toBeDefined();
    const bad = await statusOf(h.call(trpc.createSchedule, { parent: "projects/trg", scheduleId: "bad", schedule: { cron: "0 25 * * *", jobSpec: spec } }));
    expect(bad.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(bad.details).toMatch(/schedule\.cron/);
    const paused = (await h.call(trpc.updateSchedule, { schedule: { name: created.name, paused: true, etag: created.etag }, updateMask: { paths: ["paused"] } })).schedule!;
    expect(paused.paused).toBe(true);
    const stale = await statusOf(h.call(trpc.updateSchedule, { schedule: { name: created.name, paused: false, etag: created.etag }, updateMask: { paths: ["paused"] } }));
    expect(stale.code).toBe(grpc.status.ABORTED);
    expect((await h.call(trpc.listSchedules, { parent: "projects/trg" })).schedules.map((s) => s.name)).toEqual([created.name]);
  });

  it("a due schedule submits one job", async () => {
    const spec = jobSpec({ trainingDataset: dataset.name, label: "label", linearRegression: {}, model: "projects/trg/models/minutely" });
    const schedule = (await h.call(trpc.createSchedule, { parent: "projects/trg", scheduleId: "minutely", schedule: { cron: "* * * * *", jobSpec: spec } })).schedule!;
    // Make it due now rather than waiting for the next minute.
    await h.pool.query("UPDATE schedules SET next_run_at = now() - interval '1 second' WHERE name = $1", [schedule.name]);
    // The job is committed (idempotently, by schedule and due time) before the schedule row records it: wait for both.
    await until(async () => (await h.call(trpc.getSchedule, { name: schedule.name })).schedule!.lastJob !== "", 10_000);
    expect((await h.call(trpc.listJobs, { parent: "projects/trg", filter: `schedule = "${schedule.name}"` })).jobs).toHaveLength(1);
    const after = (await h.call(trpc.getSchedule, { name: schedule.name })).schedule!;
    expect(after.lastJob).not.toBe("");
    expect(Number(after.nextRunTime!.seconds) * 1000).toBeGreaterThan(Date.now());
  }, 30_000);
});
