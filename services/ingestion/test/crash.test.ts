// Nothing acknowledged is lost and nothing is written twice across a crash:
// a real ingestion process is killed with SIGKILL while gRPC batches and NATS
// messages stream in, then restarted; the pipeline retries every batch id.
// Also: an online store outage after the offline commit is completed later
// from the commit's rows.
import { afterEach, describe, expect, it } from "vitest";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { toBinary, create } from "@bufbuild/protobuf";
import { UnavailableError } from "@fti/errors";
import type { OnlineStore } from "@fti/online-store";
import { IngestMessageSchema } from "@fti/proto/fti/ingestion/v1/stream_pb";
import { Commit_OnlineState } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import { offlineKeyCounts, onlineTable, recordBatch, rpc, spawnService, startIngestion, statusOf, transactions, transactionsGroup, until, type Harness, type ServiceProcess } from "./harness.js";

let h: Harness | undefined;
let processes: ServiceProcess[] = [];
afterEach(async () => {
  for (const p of processes) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  processes = [];
  await h?.close();
  h = undefined;
});

const batchRows = 100;
const batchKeys = (i: number) => transactions(i * batchRows, (i + 1) * batchRows);

describe("crash safety", () => {
  it("keeps every acknowledged row exactly once offline and online after kill -9 and restart", { timeout: 180_000 }, async () => {
    h = await startIngestion({ inProcess: false });
    const group = await h.createGroup("crash_tx", transactionsGroup());
    const env = { FTI_INGEST_MICRO_BATCH_MS: "10", FTI_INGEST_STREAM_ACK_WAIT_MS: "3000" };
    const first = await spawnService(h, env);
    processes.push(first);
    h.connect(first.address);

    // gRPC: batches of 100 new keys, two in flight at a time.
    const acked = new Set<number>();
    let next = 0;
    let killed = false;
    const sender = async () => {
      while (!killed) {
        const i = next++;
        try {
          await h!.call(rpc.ingest, { featureGroup: group, batchId: `batch-${i}`, rows: recordBatch(batchKeys(i)) }, 10_000);
          if (!killed) acked.add(i);
        } catch (err) {
          // cut off by the kill: the pipeline retries below
          if (!killed) throw err;
        }
      }
    };
    // NATS: messages of 10 rows with stable ids, stored by JetStream before the publish returns.
    const js = jetstream(h.nats);
    const streamBase = 1_000_000;
    let published = 0;
    const publisher = async () => {
      while (!killed) {
        const rows = transactions(streamBase + published * 10, streamBase + published * 10 + 10);
        const hdrs = natsHeaders();
        hdrs.set("Nats-Msg-Id", `pipeline-0-${published}`);
        try {
          await js.publish(`${h!.subjectPrefix}.ingest.${h!.project}.crash_tx.1`, toBinary(IngestMessageSchema, create(IngestMessageSchema, { rows: recordBatch(rows) })), { headers: hdrs });
        } catch {
          // The service creates the ingest stream as it starts; until then (or
          // while it is being killed) a pipeline retries the same message.
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        published++;
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const running = [sender(), sender(), publisher()];
    await until(() => acked.size >= 15 && published >= 100, 60_000);
    first.child.kill("SIGKILL");
    killed = true;
    expect(await first.exited).toBe("SIGKILL");
    await Promise.all(running);
    const attempted = next;

    const second = await spawnService(h, env);
    processes.push(second);
    h.connect(second.address);
    // The pipeline retries every batch it sent, acknowledged or not, with the same ids.
    const retries = [];
    for (let i = 0; i < attempted; i++) retries.push(await h.call(rpc.ingest, { featureGroup: group, batchId: `batch-${i}`, rows: recordBatch(batchKeys(i)) }));
    for (const i of acked) expect(retries[i]!.duplicate, `acked batch ${i} is a duplicate on retry`).toBe(true);

    const expectedKeys = attempted * batchRows + published * 10;
    await until(async () => [...(await offlineKeyCounts(h!, group)).keys()].length >= expectedKeys, 60_000);
    await new Promise((r) => setTimeout(r, 500)); // a redelivery written twice would show up now
    const counts = await offlineKeyCounts(h, group);
    expect(counts.size).toBe(expectedKeys);
    expect([...counts.values()].every((n) => n === 1), "no row written twice offline").toBe(true);

    const keys = [...counts.keys()].map((account_id) => ({ account_id }));
    await until(async () => (await h!.online.read(onlineTable(group), keys)).every((e) => e.status === "PRESENT"), 30_000);
    const pending = await h.pool.query("SELECT count(*)::int AS n FROM commits WHERE commit_id IS NULL OR online_state = 2");
    expect(pending.rows[0].n).toBe(0);
  });
});

describe("online store outage", () => {
  it("completes the online write from the commit once the store is back", async () => {
    let down = false;
    h = await startIngestion({
      wrapOnline: (store: OnlineStore): OnlineStore => ({
        ...store,
        async upsert(table, rows) {
          if (down) throw new UnavailableError("online store is down (test)");
          return store.upsert(table, rows);
        },
      }),
    });
    const group = await h.createGroup("outage_tx", transactionsGroup());
    down = true;
    const failed = await statusOf(h.call(rpc.ingest, { featureGroup: group, batchId: "o-1", rows: recordBatch(transactions(0, 50)) }));
    expect(failed.code).toBe(14); // UNAVAILABLE: retry later
    // The offline commit happened and is recorded as waiting for the online write.
    const listed = await h.call(rpc.listCommits, { parent: group });
    expect(listed.commits.map((c) => [c.batchId, c.onlineState])).toEqual([["o-1", Commit_OnlineState.PENDING]]);
    expect((await h.online.read(onlineTable(group), [{ account_id: "a1" }]))[0]!.status).toBe("NOT_FOUND");

    down = false;
    await h.server!.recover();
    expect((await h.online.read(onlineTable(group), transactions(0, 50).map((r) => ({ account_id: r.account_id })))).every((e) => e.status === "PRESENT")).toBe(true);
    const retry = await h.call(rpc.ingest, { featureGroup: group, batchId: "o-1", rows: recordBatch(transactions(0, 50)) });
    expect(retry.duplicate).toBe(true);
    expect(retry.commit!.onlineState).toBe(Commit_OnlineState.WRITTEN);
    expect((await offlineKeyCounts(h, group)).size).toBe(50);
  });
});
