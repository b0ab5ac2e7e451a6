// Materialization as an operator sees it: a job resource that copies offline
// rows online (incrementally since the last job, or an event-time range),
// reports progress, is idempotent by request id, can be cancelled, and
// resumes after its process is killed.
import { afterEach, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { JobState } from "@fti/proto/fti/common/v1/types_pb";
import { onlineTable, rpc, spawnService, startIngestion, statusOf, transactions, transactionsGroup, transactionsSchema, until, type Harness, type ServiceProcess } from "./harness.js";

let h: Harness | undefined;
let processes: ServiceProcess[] = [];
afterEach(async () => {
  for (const p of processes) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  processes = [];
  await h?.close();
  h = undefined;
});

/** Writes rows offline only (as a batch backfill outside ingestion would), one commit per batch. */
async function writeOffline(h: Harness, name: string, batches: number, rowsPerBatch: number, from = 0) {
  const t = onlineTable(name);
  const table = h.offline.table({ project: t.project, featureGroup: t.featureGroup, version: t.version });
  if (!(await table.exists())) await h.offline.createTable(table.id, transactionsSchema);
  for (let b = 0; b < batches; b++) await table.append(transactions(from + b * rowsPerBatch, from + (b + 1) * rowsPerBatch));
}

const statuses = async (h: Harness, name: string, keys: number[]) => (await h.online.read(onlineTable(name), keys.map((i) => ({ account_id: `a${i}` })))).map((e) => e.status);

async function finished(h: Harness, name: string) {
  let job;
  await until(async () => {
    job = (await h.call(rpc.getMaterializationJob, { name })).job!;
    return job.state === JobState.SUCCEEDED || job.state === JobState.FAILED;
  }, 60_000);
  return job!;
}

describe("Materialize", () => {
  it("copies every offline row the first time, then only newer commits", async () => {
    h = await startIngestion();
    const group = await h.createGroup("backfill", transactionsGroup());
    await writeOffline(h, group, 3, 40);
    const { job } = await h.call(rpc.materialize, { featureGroup: group, scope: { case: "incremental", value: true }, requestId: "r-1" });
    expect(job!.name).toMatch(new RegExp(`^${group}/materializationJobs/m[0-9a-f]+$`));
    const done = await finished(h, job!.name);
    expect(done).toMatchObject({ state: JobState.SUCCEEDED, rowsDone: 120n, rowsTotal: 120n, progressPercent: 100, fromCommitId: -1n, incremental: true });
    expect(await statuses(h, group, [0, 60, 119])).toEqual(["PRESENT", "PRESENT", "PRESENT"]);

    // The same request id is the same job.
    expect((await h.call(rpc.materialize, { featureGroup: group, scope: { case: "incremental", value: true }, requestId: "r-1" })).job!.name).toBe(job!.name);

    await writeOffline(h, group, 1, 25, 1000);
    const second = await finished(h, (await h.call(rpc.materialize, { featureGroup: group, scope: { case: "incremental", value: true } })).job!.name);
    expect(second).toMatchObject({ state: JobState.SUCCEEDED, rowsTotal: 25n, fromCommitId: done.toCommitId });
    expect(await statuses(h, group, [1000, 1024])).toEqual(["PRESENT", "PRESENT"]);

    const listed = await h.call(rpc.listMaterializationJobs, { parent: group, filter: 'state = "SUCCEEDED"' });
    expect(listed.jobs.map((j) => j.name)).toEqual([second.name, done.name]);
  });

  it("copies only the rows of an event-time range", async () => {
    h = await startIngestion();
    const group = await h.createGroup("ranged", transactionsGroup());
    await writeOffline(h, group, 2, 50); // a0..a99 at t0 + i seconds
    const t0 = Date.UTC(2024, 4, 1);
    const { job } = await h.call(rpc.materialize, {
      featureGroup: group,
      scope: { case: "eventTimeRange", value: { startTime: timestampFromDate(new Date(t0 + 10_000)), endTime: timestampFromDate(new Date(t0 + 20_000)) } },
    });
    const done = await finished(h, job!.name);
    expect(done).toMatchObject({ state: JobState.SUCCEEDED, rowsDone: 10n, rowsTotal: 10n, incremental: false });
    expect(await statuses(h, group, [9, 10, 19, 20])).toEqual(["NOT_FOUND", "PRESENT", "PRESENT", "NOT_FOUND"]);
  });

  it("rejects a group that is not online-enabled and a request without scope", async () => {
    h = await startIngestion();
    const offlineOnly = await h.createGroup("offline_only", transactionsGroup({ onlineEnabled: false }));
    expect((await statusOf(h.call(rpc.materialize, { featureGroup: offlineOnly, scope: { case: "incremental", value: true } }))).code).toBe(grpc.status.FAILED_PRECONDITION);
    expect((await statusOf(h.call(rpc.materialize, { featureGroup: offlineOnly }))).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((await statusOf(h.call(rpc.getMaterializationJob, { name: `${offlineOnly}/materializationJobs/nope` }))).code).toBe(grpc.status.NOT_FOUND);
  });

  it("cancels a running job; rows already written stay", async () => {
    h = await startIngestion({ materializeMaxRowsPerSecond: 200 });
    const group = await h.createGroup("cancelled", transactionsGroup());
    await writeOffline(h, group, 10, 50);
    const { job } = await h.call(rpc.materialize, { featureGroup: group, scope: { case: "incremental", value: true } });
    await until(async () => (await h!.call(rpc.getMaterializationJob, { name: job!.name })).job!.rowsDone > 0n, 20_000);
    const cancelled = (await h.call(rpc.cancelMaterializationJob, { name: job!.name })).job!;
    expect(cancelled.state).toBe(JobState.CANCELLED);
    await new Promise((r) => setTimeout(r, 800));
    const after = (await h.call(rpc.getMaterializationJob, { name: job!.name })).job!;
    expect(after.state).toBe(JobState.CANCELLED);
    expect(after.rowsDone).toBeLessThan(500n);
    expect((await statuses(h, group, [0]))[0]).toBe("PRESENT");
  });

  it("resumes where it stopped after the process is killed", { timeout: 120_000 }, async () => {
    h = await startIngestion({ inProcess: false });
    const group = await h.createGroup("resumed", transactionsGroup());
    await writeOffline(h, group, 12, 100);
    const env = { FTI_MATERIALIZE_MAX_ROWS_PER_SECOND: "300" };
    const first = await spawnService(h, env);
    processes.push(first);
    h.connect(first.address);
    const { job } = await h.call(rpc.materialize, { featureGroup: group, scope: { case: "incremental", value: true } });
    await until(async () => (await h!.call(rpc.getMaterializationJob, { name: job!.name })).job!.rowsDone >= 300n, 30_000);
    first.child.kill("SIGKILL");
    await first.exited;
    const atKill = (await h.pool.query("SELECT rows_done::int, files_done, state, start_time FROM materialization_jobs")).rows[0];
    expect(atKill.state).toBe(JobState.RUNNING);
    expect(atKill.rows_done).toBeLessThan(1200);

    const second = await spawnService(h, env);
    processes.push(second);
    h.connect(second.address);
    // It continues from the checkpoint: progress never goes back.
    const progress: number[] = [];
    let job2;
    await until(async () => {
      job2 = (await h!.call(rpc.getMaterializationJob, { name: job!.name })).job!;
      progress.push(Number(job2.rowsDone));
      return job2.state === JobState.SUCCEEDED;
    }, 60_000);
    expect(progress.every((p) => p >= atKill.rows_done)).toBe(true);
    expect(job2!).toMatchObject({ rowsDone: 1200n, rowsTotal: 1200n, progressPercent: 100 });
    const stored = (await h.pool.query("SELECT start_time FROM materialization_jobs")).rows[0];
    expect(stored.start_time).toEqual(atKill.start_time);
    expect((await statuses(h, group, Array.from({ length: 1200 }, (_, i) => i))).every((s) => s === "PRESENT")).toBe(true);
  });
});
