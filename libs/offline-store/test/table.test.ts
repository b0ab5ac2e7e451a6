// Operations as a caller sees them: values round-trip, time travel, deletes,
// incremental reads, commit listing and scans that skip files.
import { DuckDBInstance } from "@duckdb/node-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from "@fti/errors";
import type { Row } from "@fti/schema";
import { pruneScan } from "../src/index.js";
import { fixture, row, rows, schema, sortedKeys, tableId, t0, type Fixture } from "./helpers.js";

let f: Fixture;
beforeEach(async () => {
  f = await fixture();
});
afterEach(async () => {
  await f.cleanup();
});

describe("offline table", () => {
  it("reads back every type as written, nulls included", async () => {
    const table = await f.store.createTable(tableId, schema);
    const written: Row[] = [row(1, 0), { ...row(2, 0), amount: null, country: null, payload: null, tags: null, embedding: null, is_fraud: null }, { ...row(3), tags: [] }];
    written.push({ ...row(4), customer_id: 2n ** 62n, event_time: new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999)) });
    await table.append(written);
    const read = await table.readRows();
    const byKey = new Map(read.map((r) => [r.customer_id, r]));
    expect(byKey.get(1n)).toEqual({ ...row(1, 0), payload: expect.anything() });
    expect(Array.from(byKey.get(1n)!.payload as Uint8Array)).toEqual([1, 0]);
    expect(byKey.get(1n)!.embedding).toBeInstanceOf(Float32Array);
    expect(byKey.get(2n)).toMatchObject({ amount: null, country: null, payload: null, tags: null, embedding: null, is_fraud: null, tx_count: 2 });
    expect(byKey.get(3n)!.tags).toEqual([]);
    expect((byKey.get(2n ** 62n)!.event_time as Date).toISOString()).toBe("1999-12-31T23:59:59.999Z");
  });

  it("refuses to create a table twice and reports a missing table", async () => {
    await f.store.createTable(tableId, schema);
    await expect(f.store.createTable(tableId, schema)).rejects.toBeInstanceOf(AlreadyExistsError);
    const missing = f.store.table({ ...tableId, featureGroup: "nope" });
    await expect(missing.append(rows(0, 1))).rejects.toBeInstanceOf(NotFoundError);
    await expect(missing.readRows()).rejects.toBeInstanceOf(NotFoundError);
  });

  it("travels to every version, by version and by commit time", async () => {
    const table = await f.store.createTable(tableId, schema);
    const batches = [rows(0, 10), rows(10, 25), rows(0, 5, 1), rows(100, 101)];
    const expected: Row[][] = [[]];
    for (const batch of batches) {
      await table.append(batch);
      expected.push([...expected.at(-1)!, ...batch]);
    }
    await table.deleteRows([{ customer_id: 3n }, { customer_id: 100n }]);
    expected.push(expected.at(-1)!.filter((r) => r.customer_id !== 3n && r.customer_id !== 100n));

    const commits = await table.listCommits();
    expect(commits.map((c) => c.version)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const [version, want] of expected.entries()) {
      expect(sortedKeys(await table.readRows({ asOf: { version } })), `version ${version}`).toEqual(sortedKeys(want));
      const at = commits[version]!.timestamp;
      expect(sortedKeys(await table.readRows({ asOf: { timestamp: at } })), `time of version ${version}`).toEqual(sortedKeys(want));
      expect((await table.snapshot({ timestamp: new Date(at.getTime() + 0.5) })).version).toBe(version);
    }
    expect(sortedKeys(await table.readRows())).toEqual(sortedKeys(expected.at(-1)!));
    await expect(table.readRows({ asOf: { version: 6 } })).rejects.toBeInstanceOf(NotFoundError);
    await expect(table.readRows({ asOf: { timestamp: new Date(commits[0]!.timestamp.getTime() - 1) } })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("makes deleted entities invisible after the delete and keeps them visible before it", async () => {
    const table = await f.store.createTable(tableId, schema);
    await table.append(rows(0, 100));
    await table.append(rows(200, 300));
    await table.append(rows(0, 10, 1)); // a second event for customers 0..9
    const before = (await table.snapshot()).version;
    const result = await table.deleteRows([{ customer_id: 5n }, { customer_id: 250n }, { customer_id: 999n }]);
    expect(result).toMatchObject({ committed: true, version: before + 1, rowsRemoved: 3 });

    const after = await table.readRows();
    expect(after.filter((r) => [5n, 250n].includes(r.customer_id as bigint))).toEqual([]);
    expect(after).toHaveLength(210 - 3);
    const old = await table.readRows({ asOf: { version: before } });
    expect(old.filter((r) => r.customer_id === 5n)).toHaveLength(2);
    expect(old.filter((r) => r.customer_id === 250n)).toHaveLength(1);

    // Only files that held a key were rewritten: the three files each held one.
    const commits = await table.listCommits();
    expect(commits.at(-1)).toMatchObject({ operation: "DELETE", rowsRemoved: 3, filesRemoved: 3, filesAdded: 3 });

    // A delete that matches nothing commits nothing.
    const none = await table.deleteRows([{ customer_id: 12345n }]);
    expect(none).toMatchObject({ committed: false, version: before + 1, rowsRemoved: 0 });
  });

  it("skips files by key and time stats in deletes and scans", async () => {
    const table = await f.store.createTable(tableId, schema);
    for (let i = 0; i < 5; i++) await table.append(rows(i * 100, i * 100 + 100)); // disjoint key and time ranges per file
    await table.deleteRows([{ customer_id: 150n }]);
    const last = (await table.listCommits()).at(-1)!;
    expect(last).toMatchObject({ filesRemoved: 1, filesAdded: 1, rowsRemoved: 1 });

    const plan = await table.scan();
    expect(plan.files).toHaveLength(5);
    expect(plan.files.every((file) => file.location.endsWith(".parquet") && file.numRecords! > 0)).toBe(true);
    const byKey = await table.scan({ keys: [{ customer_id: 320n }, { customer_id: 330n }] });
    expect(byKey.files).toHaveLength(1);
    const byTime = pruneScan(plan, { eventTime: { from: new Date(t0 + 250 * 60_000), to: new Date(t0 + 420 * 60_000) } });
    expect(byTime.files).toHaveLength(3);

    // The caller reads exactly the planned files with DuckDB and gets the right rows.
    const duckdb = await DuckDBInstance.create(":memory:");
    const c = await duckdb.connect();
    const got = await c.runAndReadAll(`SELECT customer_id FROM read_parquet([${byKey.files.map((x) => `'${x.location}'`).join(",")}]) WHERE customer_id IN (320, 330) ORDER BY 1`);
    expect(got.getRowsJS().map((r) => r[0])).toEqual([320n, 330n]);
    c.closeSync();
    duckdb.closeSync();

    const read = await table.readRows({ keys: [{ customer_id: 320n }], eventTime: { from: new Date(t0) }, columns: ["customer_id", "amount"] });
    expect(read).toEqual([{ customer_id: 320n, amount: 480 }]);
  });

  it("returns the rows appended since a version, minus those deleted since", async () => {
    const table = await f.store.createTable(tableId, schema);
    const v1 = (await table.append(rows(0, 10))).version;
    const v2 = (await table.append(rows(10, 20))).version;
    await table.append(rows(20, 30));
    await table.deleteRows([{ customer_id: 15n }, { customer_id: 25n }, { customer_id: 5n }]);

    expect(sortedKeys(await table.readChangesSince(v2))).toEqual(sortedKeys(rows(20, 30).filter((r) => r.customer_id !== 25n)));
    expect(sortedKeys(await table.readChangesSince(v1))).toEqual(sortedKeys(rows(10, 30).filter((r) => r.customer_id !== 15n && r.customer_id !== 25n)));
    expect(await table.readChangesSince(4)).toEqual([]);
    // Bounded above: what version 2 held that arrived after version 1.
    expect(sortedKeys(await table.readChangesSince(v1, { untilVersion: v2 }))).toEqual(sortedKeys(rows(10, 20)));
    await expect(table.readChangesSince(9)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("reads exactly the files of a narrowed plan, one at a time", async () => {
    const table = await f.store.createTable(tableId, schema);
    await table.append(rows(0, 10));
    await table.append(rows(10, 15));
    const plan = await table.scanChangesSince(-1);
    expect(plan.files).toHaveLength(2);
    const perFile = await Promise.all(plan.files.map((file) => table.readPlan({ ...plan, files: [file] })));
    expect(perFile.map((r) => r.length).sort()).toEqual([10, 5].sort());
    expect(sortedKeys(perFile.flat())).toEqual(sortedKeys(rows(0, 15)));
  });

  it("sees every commit once when one handle refreshes concurrently", async () => {
    const table = await f.store.createTable(tableId, schema);
    await Promise.all([table.append(rows(0, 5)), table.append(rows(5, 10)), table.append(rows(10, 15))]);
    const [a, b] = await Promise.all([table.listCommits(), table.listCommits()]);
    expect(a.map((c) => c.version)).toEqual([0, 1, 2, 3]);
    expect(b.map((c) => c.version)).toEqual([0, 1, 2, 3]);
    expect(sortedKeys(await table.readRows())).toEqual(sortedKeys(rows(0, 15)));
  });

  it("lists commits with operation, row counts and our ids", async () => {
    const table = await f.store.createTable(tableId, schema);
    await table.append(rows(0, 7), { batchId: "batch-1", commitId: "c-1" });
    await table.deleteRows([{ customer_id: 1n }], { commitId: "c-2" });
    const commits = await table.listCommits();
    expect(commits.map(({ version, operation, rowsAdded, rowsRemoved, commitId, batchId }) => ({ version, operation, rowsAdded, rowsRemoved, commitId, batchId }))).toEqual([
      { version: 0, operation: "CREATE TABLE", rowsAdded: 0, rowsRemoved: 0, commitId: expect.any(String), batchId: undefined },
      { version: 1, operation: "WRITE", rowsAdded: 7, rowsRemoved: 0, commitId: "c-1", batchId: "batch-1" },
      { version: 2, operation: "DELETE", rowsAdded: 0, rowsRemoved: 1, commitId: "c-2", batchId: undefined },
    ]);
    expect(commits[1]!.timestamp.getTime()).toBeGreaterThan(commits[0]!.timestamp.getTime());
  });
});
