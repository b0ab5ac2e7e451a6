// Streaming feature pipelines over NATS as a publisher sees them: rows
// published on fti.ingest.<project>.<group>.<version> become readable online
// and offline in micro-batch commits; poison messages go to the dead-letter
// subject with their reason without holding up the rest; the newest event
// wins online; a message id is written once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Commit_Source } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import { DeadLetterSchema, IngestMessageSchema } from "@fti/proto/fti/ingestion/v1/stream_pb";
import { ExpectationPolicy } from "@fti/proto/fti/registry/v1/feature_group_pb";
import type { Row } from "@fti/schema";
import { offlineKeyCounts, onlineTable, recordBatch, rpc, startIngestion, transaction, transactions, transactionsGroup, until, type Harness } from "./harness.js";

let h: Harness;
let group: string;
let counter = 0;

beforeAll(async () => {
  h = await startIngestion({ microBatchRows: 50, microBatchMs: 30 });
  group = await h.createGroup("clicks", transactionsGroup({
    expectations: [{ name: "amount_in_range", feature: "amount", kind: { case: "range", value: { min: 0, max: 1000 } } }],
    expectationPolicy: ExpectationPolicy.STRICT,
  }));
});
afterAll(async () => {
  await h?.close();
});

const subject = (groupId = "clicks", version = 1) => `${h.subjectPrefix}.ingest.${h.project}.${groupId}.${version}`;

async function publish(rows: Row[] | Uint8Array, options: { msgId?: string; subject?: string } = {}) {
  const hdrs = natsHeaders();
  hdrs.set("Nats-Msg-Id", options.msgId ?? `test-${counter++}`);
  const data = rows instanceof Uint8Array ? rows : toBinary(IngestMessageSchema, create(IngestMessageSchema, { rows: recordBatch(rows) }));
  return jetstream(h.nats).publish(options.subject ?? subject(), data, { headers: hdrs });
}

const present = async (keys: string[]) => (await h.online.read(onlineTable(group), keys.map((account_id) => ({ account_id })))).every((e) => e.status === "PRESENT");

describe("NATS streaming ingestion", () => {
  it("writes published rows online and offline, in micro-batch commits", async () => {
    const rows = transactions(0, 200);
    for (const row of rows) await publish([row]);
    await until(() => present(rows.map((r) => r.account_id as string)), 20_000);
    // Rows are readable online as soon as they are validated; the offline
    // commit of the last micro-batch may land a moment later.
    const keys = rows.map((r) => r.account_id as string);
    await until(async () => {
      const seen = await offlineKeyCounts(h, group);
      return keys.every((k) => seen.has(k));
    }, 20_000);
    const counts = await offlineKeyCounts(h, group);
    expect(keys.every((k) => counts.get(k) === 1)).toBe(true);
    const commits = (await h.call(rpc.listCommits, { parent: group, pageSize: 1000 })).commits;
    expect(commits.length).toBeLessThan(100);
    expect(commits.every((c) => c.source === Commit_Source.STREAM && /^nats:\d+-\d+$/.test(c.batchId))).toBe(true);
    expect(commits.reduce((n, c) => n + c.rowsWritten, 0n)).toBe(200n);
  });

  it("dead-letters poison messages with the reason and writes their neighbours", async () => {
    const letters: { subject: string; reason: string; original: string }[] = [];
    const sub = h.nats.subscribe(`${h.subjectPrefix}.deadletter.ingest.>`);
    void (async () => {
      for await (const m of sub) {
        const letter = fromBinary(DeadLetterSchema, m.data);
        letters.push({ subject: m.subject, reason: letter.reason, original: letter.originalHeaders["Nats-Msg-Id"] ?? "" });
      }
    })();
    await publish([transaction(1000)]);
    await publish(new Uint8Array([0xff, 0xff, 0xff]), { msgId: "garbage" });
    await publish([{ ...transaction(1001), account_id: null }], { msgId: "no-key" });
    await publish([transaction(1002, { amount: 5000 })], { msgId: "too-much" });
    await publish([transaction(1003)], { msgId: "unknown-group", subject: subject("nope") });
    await publish([transaction(1004)]);
    await until(() => letters.length >= 4 && present(["a1000", "a1004"]), 20_000);
    sub.unsubscribe();
    const byId = Object.fromEntries(letters.map((l) => [l.original, l]));
    expect(byId.garbage!.reason).toContain("not a valid fti.ingestion.v1.IngestMessage");
    expect(byId["no-key"]!.reason).toContain("rows[0].account_id");
    expect(byId["too-much"]!.reason).toContain("amount_in_range");
    expect(byId["unknown-group"]!.reason).toContain("does not exist");
    expect(byId["unknown-group"]!.subject).toBe(`${h.subjectPrefix}.deadletter.ingest.${h.project}.nope.1`);
    expect((await h.online.read(onlineTable(group), [{ account_id: "a1001" }, { account_id: "a1002" }])).map((e) => e.status)).toEqual(["NOT_FOUND", "NOT_FOUND"]);
  });

  it("keeps the newest event online when events arrive out of order", async () => {
    const at = (minutes: number, amount: number) => transaction(2000, { ts: new Date(Date.UTC(2024, 5, 1, 12, minutes)), amount });
    await publish([at(30, 3)]);
    await new Promise((r) => setTimeout(r, 150)); // separate micro-batches
    await publish([at(10, 1)]);
    await publish([at(20, 2), at(5, 0)]);
    await until(async () => ((await offlineKeyCounts(h, group)).get("a2000") ?? 0) === 4, 20_000);
    const [entity] = await h.online.read(onlineTable(group), [{ account_id: "a2000" }]);
    expect(entity!.values.amount).toBe(3);
    expect(entity!.eventTime!.toISOString()).toBe("2024-06-01T12:30:00.000Z");
  });

  it("writes a message id once, even when it is re-published after JetStream's duplicate window", async () => {
    const jsm = await jetstreamManager(h.nats);
    const info = await jsm.streams.info(`${h.streamPrefix}_INGEST`);
    await jsm.streams.update(`${h.streamPrefix}_INGEST`, { ...info.config, duplicate_window: 100_000_000 }); // 100 ms, the smallest allowed
    await publish([transaction(3000, { amount: 1 })], { msgId: "once" });
    await until(() => present(["a3000"]), 20_000);
    await new Promise((r) => setTimeout(r, 300));
    const again = await publish([transaction(3000, { amount: 1 })], { msgId: "once" });
    expect(again.duplicate).toBe(false); // JetStream stored it again; ingestion must not write it again
    await publish([transaction(3001)]);
    await until(() => present(["a3001"]), 20_000);
    await new Promise((r) => setTimeout(r, 200));
    expect((await offlineKeyCounts(h, group)).get("a3000")).toBe(1);
  });
});
