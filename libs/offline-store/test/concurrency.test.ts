// Several writers on one table, each with its own handle (as separate
// processes would be): every version has exactly one winner, no commit and
// no row is lost.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createOfflineStore } from "../src/index.js";
import { fixture, rows, schema, sortedKeys, tableId, type Fixture } from "./helpers.js";

let f: Fixture;
beforeEach(async () => {
  f = await fixture();
});
afterEach(async () => {
  await f.cleanup();
});

it("8 concurrent appends through separate handles all land, one per version", async () => {
  await f.store.createTable(tableId, schema);
  // Two stores (two DuckDB instances) to be closer to separate processes.
  const other = await createOfflineStore({ root: f.root });
  try {
    const writers = Array.from({ length: 8 }, (_, i) => (i % 2 ? other : f.store).table(tableId));
    const results = await Promise.all(writers.map((table, i) => table.append(rows(i * 1000, i * 1000 + 500), { batchId: `batch-${i}` })));

    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const commits = await f.store.table(tableId).listCommits();
    expect(commits).toHaveLength(9);
    expect(commits.slice(1).map((c) => c.batchId).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `batch-${i}`).sort());
    for (const r of results) expect(commits[r.version]!.commitId).toBe(r.commitId);

    const all = await f.store.table(tableId).readRows();
    const expected = Array.from({ length: 8 }, (_, i) => rows(i * 1000, i * 1000 + 500)).flat();
    expect(all).toHaveLength(4000);
    expect(sortedKeys(all)).toEqual(sortedKeys(expected));
    // No stray temp files from the races.
    expect((await readdir(join(f.root, "fraud/transactions/v1/_delta_log"))).filter((n) => !n.endsWith(".json"))).toEqual([]);
  } finally {
    other.close();
  }
});

it("a delete racing appends deletes the key from every committed append and loses no other row", async () => {
  const table = await f.store.createTable(tableId, schema);
  await table.append(rows(0, 100));
  const appenders = Array.from({ length: 4 }, (_, i) => f.store.table(tableId).append(rows(0, 100, i + 1)));
  const deleter = f.store.table(tableId).deleteRows([{ customer_id: 42n }]);
  const results = await Promise.all([...appenders, deleter]);
  const deleteVersion = results[4]!.version;

  expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6]);
  const latest = await table.readRows();
  // Appends committed after the delete still hold customer 42; those before it do not.
  const laterAppends = results.slice(0, 4).filter((r) => r.version > deleteVersion).length;
  expect(latest.filter((r) => r.customer_id === 42n)).toHaveLength(laterAppends);
  expect(latest.filter((r) => r.customer_id !== 42n)).toHaveLength(99 * 5);
  const before = await table.readRows({ asOf: { version: deleteVersion - 1 } });
  expect(before.filter((r) => r.customer_id === 42n).length).toBe(deleteVersion - 1);
});
