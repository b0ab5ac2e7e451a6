// Ingest and IngestStream as a feature pipeline sees them through a real gRPC
// client: rows land offline and online as one commit, expectations with
// STRICT and ALWAYS, idempotent retries, bad input, commit history, events.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { fromBinary } from "@bufbuild/protobuf";
import { anyUnpack, timestampDate } from "@bufbuild/protobuf/wkt";
import { EventSchema } from "@fti/proto/fti/events/v1/events_pb";
import { Commit_Kind, Commit_OnlineState, Commit_Source, ValidationReportSchema, type ValidationReport } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import { ExpectationPolicy } from "@fti/proto/fti/registry/v1/feature_group_pb";
import { StatusSchema } from "@fti/proto/google/rpc/status_pb";
import { BadRequestSchema } from "@fti/proto/google/rpc/error_details_pb";
import { decodeRecordBatch } from "@fti/record-batch";
import { columnsToRows } from "@fti/schema";
import { offlineKeyCounts, offlineTable, onlineTable, recordBatch, rpc, startIngestion, statusOf, transaction, transactions, transactionsGroup, until, type Harness } from "./harness.js";

let h: Harness;
let strict: string;
let always: string;
let plain: string;

const expectations = [
  { name: "amount_in_range", feature: "amount", kind: { case: "range", value: { min: 0, max: 1000 } } },
  { name: "country_known", feature: "country", kind: { case: "allowedValues", value: { values: [{ kind: { case: "stringValue", value: "DE" } }, { kind: { case: "stringValue", value: "FR" } }, { kind: { case: "stringValue", value: "US" } }] } } },
  { name: "account_format", feature: "account_id", kind: { case: "regex", value: { pattern: "a[0-9]+" } } },
  { name: "country_present", feature: "country", kind: { case: "notNull", value: {} } },
  { name: "one_row_per_event", kind: { case: "uniqueKey", value: {} } },
  { name: "mean_amount", feature: "amount", kind: { case: "meanBetween", value: { min: 0, max: 500 } } },
];

beforeAll(async () => {
  h = await startIngestion({ maxBatchRows: 1_000 });
  strict = await h.createGroup("strict_tx", transactionsGroup({ expectations, expectationPolicy: ExpectationPolicy.STRICT }));
  always = await h.createGroup("always_tx", transactionsGroup({ expectations, expectationPolicy: ExpectationPolicy.ALWAYS }));
  plain = await h.createGroup("plain_tx", transactionsGroup({ onlineEnabled: false, statisticsConfig: { histogramBins: 4, topK: 2 } }));
});
afterAll(async () => {
  await h?.close();
});

/** The ValidationReport in a FAILED_PRECONDITION's status details. */
function reportOf(err: grpc.ServiceError): ValidationReport | undefined {
  const status = fromBinary(StatusSchema, err.metadata.get("grpc-status-details-bin")[0] as Buffer);
  for (const detail of status.details) {
    const report = anyUnpack(detail, ValidationReportSchema);
    if (report) return report;
  }
  return undefined;
}

function fieldViolations(err: grpc.ServiceError): string[] {
  const status = fromBinary(StatusSchema, err.metadata.get("grpc-status-details-bin")[0] as Buffer);
  return status.details.flatMap((d) => anyUnpack(d, BadRequestSchema)?.fieldViolations.map((v) => v.field) ?? []);
}

async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error("expected the call to fail");
}

describe("Ingest", () => {
  it("writes a batch as one commit, offline and online, with counts and statistics", async () => {
    const rows = transactions(0, 20);
    const { commit, duplicate } = await h.call(rpc.ingest, { featureGroup: strict, batchId: "b-1", rows: recordBatch(rows) });
    expect(duplicate).toBe(false);
    expect(commit).toMatchObject({ featureGroup: strict, kind: Commit_Kind.INGEST, source: Commit_Source.API, batchId: "b-1", rowsWritten: 20n, onlineState: Commit_OnlineState.WRITTEN });
    expect(commit!.name).toBe(`${strict}/commits/${commit!.commitId}`);
    expect(timestampDate(commit!.minEventTime!).toISOString()).toBe(new Date(transaction(0).ts as Date).toISOString());
    expect(timestampDate(commit!.maxEventTime!).toISOString()).toBe(new Date(transaction(19).ts as Date).toISOString());
    expect(commit!.validationReport).toMatchObject({ success: true, rowCount: 20n, policy: ExpectationPolicy.STRICT });
    expect(commit!.validationReport!.results.map((r) => r.expectation)).toEqual(expectations.map((e) => e.name));

    const offline = await offlineTable(h, strict).readRows();
    expect(offline).toHaveLength(20);
    expect((await offlineTable(h, strict).listCommits()).at(-1)).toMatchObject({ version: Number(commit!.commitId), batchId: "b-1", rowsAdded: 20 });
    const online = await h.online.read(onlineTable(strict), [{ account_id: "a3" }, { account_id: "a99" }]);
    expect(online.map((e) => e.status)).toEqual(["PRESENT", "NOT_FOUND"]);
    expect(online[0]!.values).toMatchObject({ amount: 13, merchant_id: 103n, country: "DE" });

    const amount = commit!.statistics.find((s) => s.feature === "amount")!;
    const amounts = rows.map((r) => r.amount as number);
    const mean = amounts.reduce((a, b) => a + b) / 20;
    expect(amount).toMatchObject({ count: 20n, nullCount: 0n, min: 10, max: 29, approxDistinct: 20n });
    expect(amount.mean).toBeCloseTo(mean);
    expect(amount.stddev).toBeCloseTo(Math.sqrt(amounts.reduce((s, x) => s + (x - mean) ** 2, 0) / 20));
    expect(amount.histogram!.counts.reduce((a, b) => a + b)).toBe(20n);
    const country = commit!.statistics.find((s) => s.feature === "country")!;
    expect(country.approxDistinct).toBe(3n);
    expect(country.topValues.map((t) => [t.value, t.count])).toEqual([["DE", 7n], ["FR", 7n], ["US", 6n]]);
  });

  it("STRICT rejects the whole batch with a report of the failing expectations and sample rows", async () => {
    const rows = transactions(100, 110);
    rows[2]!.amount = 5000;
    rows[7]!.amount = -1;
    rows[4]!.country = "XX";
    const err = await failure(h.call(rpc.ingest, { featureGroup: strict, batchId: "bad-1", rows: recordBatch(rows) }));
    expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(err.details).toContain("amount_in_range");
    const report = reportOf(err)!;
    expect(report.success).toBe(false);
    const range = report.results.find((r) => r.expectation === "amount_in_range")!;
    expect(range).toMatchObject({ success: false, failingRowCount: 2n, feature: "amount", sampleRowIndices: [2n, 7n] });
    expect(columnsToRows(decodeRecordBatch(range.sampleRows!)).map((r) => [r.account_id, r.amount])).toEqual([["a102", 5000], ["a107", -1]]);
    expect(report.results.find((r) => r.expectation === "country_known")).toMatchObject({ success: false, failingRowCount: 1n, sampleRowIndices: [4n] });
    expect(report.results.find((r) => r.expectation === "account_format")!.success).toBe(true);
    // Nothing was written, and the batch id is still free.
    const counts = await offlineKeyCounts(h, strict);
    expect(counts.has("a100")).toBe(false);
    expect((await h.online.read(onlineTable(strict), [{ account_id: "a100" }]))[0]!.status).toBe("NOT_FOUND");
    const fixed = await h.call(rpc.ingest, { featureGroup: strict, batchId: "bad-1", rows: recordBatch(transactions(100, 110)) });
    expect(fixed.duplicate).toBe(false);
  });

  it("ALWAYS writes a failing batch and stores the report with its commit", async () => {
    const rows = transactions(200, 204);
    rows.push({ ...transaction(203) }); // same key and event time twice
    rows[0]!.country = null;
    const { commit } = await h.call(rpc.ingest, { featureGroup: always, batchId: "always-1", rows: recordBatch(rows) });
    expect(commit!.rowsWritten).toBe(5n);
    expect(commit!.validationReport!.success).toBe(false);
    expect(commit!.validationReport!.policy).toBe(ExpectationPolicy.ALWAYS);
    expect(commit!.validationReport!.results.find((r) => r.expectation === "one_row_per_event")).toMatchObject({ success: false, failingRowCount: 1n, sampleRowIndices: [4n] });
    expect(commit!.validationReport!.results.find((r) => r.expectation === "country_present")).toMatchObject({ success: false, failingRowCount: 1n });
    const stored = await h.call(rpc.getCommit, { name: commit!.name });
    expect(stored.commit!.validationReport).toEqual(commit!.validationReport);
    expect((await offlineTable(h, always).readRows()).length).toBe(5);
  });

  it("reports the batch mean when it is out of bounds", async () => {
    const rows = transactions(300, 310, { amount: 900 });
    const err = await failure(h.call(rpc.ingest, { featureGroup: strict, batchId: "mean-1", rows: recordBatch(rows) }));
    const mean = reportOf(err)!.results.find((r) => r.expectation === "mean_amount")!;
    expect(mean).toMatchObject({ success: false, observedValue: 900, failingRowCount: 0n });
  });

  it("validate_only checks and reports, writing nothing", async () => {
    const before = (await offlineTable(h, always).listCommits()).length;
    const res = await h.call(rpc.ingest, { featureGroup: always, batchId: "dry-1", rows: recordBatch(transactions(400, 403, { country: "XX" })), validateOnly: true });
    expect(res.commit!.validationReport!.results.find((r) => r.expectation === "country_known")!.failingRowCount).toBe(3n);
    expect(res.commit!.commitId).toBe(0n);
    expect((await offlineTable(h, always).listCommits()).length).toBe(before);
    const real = await h.call(rpc.ingest, { featureGroup: always, batchId: "dry-1", rows: recordBatch(transactions(400, 403)) });
    expect(real.duplicate).toBe(false);
  });

  it("returns the original commit for a retried batch id and writes nothing twice", async () => {
    const first = await h.call(rpc.ingest, { featureGroup: plain, batchId: "retry-1", rows: recordBatch(transactions(500, 510)) });
    // The retry carries other rows by mistake: they are not written either.
    const again = await Promise.all([1, 2, 3].map(() => h.call(rpc.ingest, { featureGroup: plain, batchId: "retry-1", rows: recordBatch(transactions(600, 610)) })));
    for (const r of again) {
      expect(r.duplicate).toBe(true);
      expect(r.commit).toEqual(first.commit);
    }
    const counts = await offlineKeyCounts(h, plain);
    expect([...counts.entries()].filter(([k]) => k.startsWith("a5")).every(([, n]) => n === 1)).toBe(true);
    expect(counts.has("a600")).toBe(false);
    expect(first.commit!.onlineState).toBe(Commit_OnlineState.NOT_ENABLED);
  });

  it("computes statistics as the group's statistics config says", async () => {
    const { commit } = await h.call(rpc.ingest, { featureGroup: plain, batchId: "stats-1", rows: recordBatch(transactions(700, 740)) });
    const amount = commit!.statistics.find((s) => s.feature === "amount")!;
    expect(amount.histogram!.edges).toHaveLength(5);
    expect(commit!.statistics.find((s) => s.feature === "country")!.topValues).toHaveLength(2);
    const ts = commit!.statistics.find((s) => s.feature === "ts")!;
    expect(ts.min).toBe((transaction(700).ts as Date).getTime() * 1000);
  });
});

describe("bad input", () => {
  it("is NOT_FOUND for an unknown feature group or version", async () => {
    expect((await statusOf(h.call(rpc.ingest, { featureGroup: `projects/${h.project}/featureGroups/nope/versions/1`, batchId: "x", rows: recordBatch(transactions(0, 1)) }))).code).toBe(grpc.status.NOT_FOUND);
    expect((await statusOf(h.call(rpc.ingest, { featureGroup: strict.replace(/1$/, "9"), batchId: "x", rows: recordBatch(transactions(0, 1)) }))).code).toBe(grpc.status.NOT_FOUND);
  });

  it("is INVALID_ARGUMENT naming row and column for wrong types and missing keys, and writes nothing", async () => {
    const before = (await offlineTable(h, strict).listCommits()).length;
    const rows = transactions(800, 805);
    rows[3]!.account_id = null;
    const missingKey = await failure(h.call(rpc.ingest, { featureGroup: strict, batchId: "inv-1", rows: recordBatch(rows) }));
    expect(missingKey.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldViolations(missingKey)).toContain("rows[3].account_id");

    const wrongType = recordBatch(transactions(800, 805));
    wrongType.columns.find((c) => c.name === "amount")!.data = { case: "stringValues", value: { $typeName: "fti.common.v1.StringColumn", values: ["1", "2", "3", "4", "5"] } };
    const typeErr = await failure(h.call(rpc.ingest, { featureGroup: strict, batchId: "inv-2", rows: wrongType }));
    expect(typeErr.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldViolations(typeErr)[0]).toBe("rows[0].amount");
    expect(typeErr.details).toContain("expected double");

    const unknown = await failure(h.call(rpc.ingest, { featureGroup: strict, batchId: "inv-3", rows: recordBatch(transactions(0, 2).map((r) => ({ ...r, nope: 1 })), { ...transactionsSchemaWith("nope") }) }));
    expect(unknown.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(unknown.details).toContain("nope");

    const noBatchId = await statusOf(h.call(rpc.ingest, { featureGroup: strict, batchId: "", rows: recordBatch(transactions(0, 1)) }));
    expect(noBatchId.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(noBatchId.details).toContain("batch_id");
    expect((await offlineTable(h, strict).listCommits()).length).toBe(before);
  });

  it("is INVALID_ARGUMENT for a batch over the configured row limit", async () => {
    const err = await failure(h.call(rpc.ingest, { featureGroup: strict, batchId: "big", rows: recordBatch(transactions(0, 1_001)) }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fieldViolations(err)).toEqual(["rows.row_count"]);
    expect(err.details).toContain("1001 rows exceed the limit of 1000");
  });
});

function transactionsSchemaWith(extra: string) {
  return { features: [{ name: "account_id", type: "string" as const }, { name: "ts", type: "timestamp" as const }, { name: extra, type: "int32" as const }], primaryKey: ["account_id"], eventTime: "ts" };
}

describe("IngestStream", () => {
  it("writes every part as one commit and counts sample rows across parts", async () => {
    const parts = [transactions(900, 910), transactions(910, 920), transactions(920, 925)];
    const res = await h.stream(rpc.ingestStream, [
      { featureGroup: always, batchId: "stream-1", rows: recordBatch(parts[0]!) },
      { rows: recordBatch(parts[1]!.map((r, i) => (i === 3 ? { ...r, amount: 9999 } : r))) },
      { featureGroup: always, rows: recordBatch(parts[2]!) },
    ]);
    expect(res.commit!.rowsWritten).toBe(25n);
    expect(res.commit!.validationReport!.results.find((r) => r.expectation === "amount_in_range")!.sampleRowIndices).toEqual([13n]);
    const counts = await offlineKeyCounts(h, always);
    for (let i = 900; i < 925; i++) expect(counts.get(`a${i}`)).toBe(1);
    const again = await h.stream(rpc.ingestStream, [{ featureGroup: always, batchId: "stream-1", rows: recordBatch(parts[0]!) }]);
    expect(again.duplicate).toBe(true);
    expect(again.commit!.commitId).toBe(res.commit!.commitId);
  });

  it("rejects a part naming another feature group", async () => {
    const status = await statusOf(h.stream(rpc.ingestStream, [{ featureGroup: always, batchId: "stream-2", rows: recordBatch(transactions(0, 1)) }, { featureGroup: strict, rows: recordBatch(transactions(1, 2)) }]));
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toContain("parts[1].feature_group");
  });
});

describe("commits", () => {
  it("lists commits newest first, filtered and paginated, and gets one", async () => {
    const group = await h.createGroup("listed_tx", transactionsGroup());
    const ids: bigint[] = [];
    for (let i = 0; i < 5; i++) ids.push((await h.call(rpc.ingest, { featureGroup: group, batchId: `l-${i}`, rows: recordBatch(transactions(i * 10, i * 10 + 3)) })).commit!.commitId);
    await h.call(rpc.deleteRows, { featureGroup: group, batchId: "l-del", keys: recordBatch([{ account_id: "a0" }]) });

    const page1 = await h.call(rpc.listCommits, { parent: group, pageSize: 4 });
    expect(page1.commits.map((c) => c.batchId)).toEqual(["l-del", "l-4", "l-3", "l-2"]);
    const page2 = await h.call(rpc.listCommits, { parent: group, pageSize: 4, pageToken: page1.nextPageToken });
    expect(page2.commits.map((c) => c.batchId)).toEqual(["l-1", "l-0"]);
    expect(page2.nextPageToken).toBe("");

    expect((await h.call(rpc.listCommits, { parent: group, filter: 'kind = "DELETE"' })).commits.map((c) => c.batchId)).toEqual(["l-del"]);
    expect((await h.call(rpc.listCommits, { parent: group, filter: `commit_id > ${ids[2]} AND kind = "INGEST"` })).commits.map((c) => c.batchId)).toEqual(["l-4", "l-3"]);
    expect((await h.call(rpc.listCommits, { parent: group, filter: 'commit_time >= "2999-01-01T00:00:00Z"' })).commits).toEqual([]);
    expect((await statusOf(h.call(rpc.listCommits, { parent: group, filter: "owner = 1" }))).code).toBe(grpc.status.INVALID_ARGUMENT);

    const got = await h.call(rpc.getCommit, { name: `${group}/commits/${ids[1]}` });
    expect(got.commit).toMatchObject({ batchId: "l-1", rowsWritten: 3n });
    expect((await statusOf(h.call(rpc.getCommit, { name: `${group}/commits/999` }))).code).toBe(grpc.status.NOT_FOUND);
  });

  it("publishes ingestion.commit for every commit, once", async () => {
    const group = await h.createGroup("evented_tx", transactionsGroup());
    const sub = h.nats.subscribe(`${h.subjectPrefix}.events.ingestion.commit.${h.project}.evented_tx.1`);
    const seen: string[] = [];
    void (async () => {
      for await (const m of sub) {
        const event = fromBinary(EventSchema, m.data);
        if (event.payload.case === "ingestionCommit") seen.push(event.payload.value.commit!.batchId);
      }
    })();
    await h.call(rpc.ingest, { featureGroup: group, batchId: "e-1", rows: recordBatch(transactions(0, 3)) });
    await h.call(rpc.ingest, { featureGroup: group, batchId: "e-1", rows: recordBatch(transactions(0, 3)) });
    await h.call(rpc.deleteRows, { featureGroup: group, batchId: "e-2", keys: recordBatch([{ account_id: "a1" }]) });
    await until(() => seen.length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    sub.unsubscribe();
    expect(seen).toEqual(["e-1", "e-2"]);
  });
});

describe("DeleteRows", () => {
  it("erases the entities offline and online as a commit; time travel still shows them", async () => {
    const group = await h.createGroup("gdpr_tx", transactionsGroup());
    const first = await h.call(rpc.ingest, { featureGroup: group, batchId: "g-1", rows: recordBatch(transactions(0, 10)) });
    await h.call(rpc.ingest, { featureGroup: group, batchId: "g-2", rows: recordBatch(transactions(0, 5).map((r) => ({ ...r, ts: new Date((r.ts as Date).getTime() + 60_000) }))) });
    const del = await h.call(rpc.deleteRows, { featureGroup: group, batchId: "g-del", keys: recordBatch([{ account_id: "a1" }, { account_id: "a7" }]) });
    expect(del.commit).toMatchObject({ kind: Commit_Kind.DELETE, rowsDeleted: 3n, rowsWritten: 0n, onlineState: Commit_OnlineState.WRITTEN });

    const table = offlineTable(h, group);
    const now = (await table.readRows()).map((r) => r.account_id);
    expect(now).not.toContain("a1");
    expect(now).not.toContain("a7");
    expect(now).toHaveLength(12);
    const before = (await table.readRows({ asOf: { version: Number(del.commit!.commitId) - 1 } })).map((r) => r.account_id);
    expect(before.filter((k) => k === "a1")).toHaveLength(2);
    expect((await table.readRows({ asOf: { version: Number(first.commit!.commitId) } })).map((r) => r.account_id)).toContain("a7");
    const online = await h.online.read(onlineTable(group), [{ account_id: "a1" }, { account_id: "a7" }, { account_id: "a2" }]);
    expect(online.map((e) => e.status)).toEqual(["NOT_FOUND", "NOT_FOUND", "PRESENT"]);

    const retry = await h.call(rpc.deleteRows, { featureGroup: group, batchId: "g-del", keys: recordBatch([{ account_id: "a2" }]) });
    expect(retry.duplicate).toBe(true);
    expect((await h.online.read(onlineTable(group), [{ account_id: "a2" }]))[0]!.status).toBe("PRESENT");
  });

  it("rejects keys that are not exactly the primary key", async () => {
    const status = await statusOf(h.call(rpc.deleteRows, { featureGroup: strict, batchId: "d-bad", keys: recordBatch([{ account_id: "a1", amount: 1 }]) }));
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toContain("keys.columns.amount");
  });
});
