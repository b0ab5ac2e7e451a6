// Bad input is refused with the row and column named, and writes nothing; a
// crash between the data file and the log entry leaves the table as it was.
import { readdir, utimes, writeFile, copyFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidArgumentError } from "@fti/errors";
import { row, rows, schema, sortedKeys, tableId, fixture, type Fixture } from "./helpers.js";

let f: Fixture;
beforeEach(async () => {
  f = await fixture();
});
afterEach(async () => {
  await f.cleanup();
});

const tableDir = () => join(f.root, "fraud/transactions/v1");
const dataFiles = async () => (await readdir(tableDir())).filter((n) => n.endsWith(".parquet")).sort();

async function violations(promise: Promise<unknown>) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidArgumentError);
  return (err as InvalidArgumentError).violations.map((v) => v.field);
}

describe("bad input", () => {
  it("names the row and column and writes nothing", async () => {
    const table = await f.store.createTable(tableId, schema);
    await table.append(rows(0, 3));
    const filesBefore = await dataFiles();

    const good = rows(10, 15);
    expect(await violations(table.append([...good.slice(0, 3), { ...row(20), amount: "12.5" as unknown as number }]))).toEqual(["rows[3].amount"]);
    expect(await violations(table.append([row(21), { ...row(22), customer_id: null }]))).toEqual(["rows[1].customer_id"]);
    expect(await violations(table.append([{ ...row(23), event_time: null }]))).toEqual(["rows[0].event_time"]);
    expect(await violations(table.append([{ ...row(24), customer_id: Number.NaN as unknown as bigint }]))).toEqual(["rows[0].customer_id"]);
    expect(await violations(table.append([{ ...row(25), tx_count: 1.5 }, { ...row(26), unknown: 1 }]))).toEqual(["rows[0].tx_count", "rows[1].unknown"]);
    // Column batches get the same paths.
    expect(
      await violations(
        table.append({ rowCount: 3, columns: { customer_id: [1n, 2n, Number.NaN as unknown as bigint], event_time: [new Date(), new Date("bad"), new Date()], amount: [1, 2, 3] } }),
      ),
    ).toEqual(["rows[2].customer_id", "rows[1].event_time"]);
    expect(await violations(table.append({ rowCount: 2, columns: { customer_id: [1n], event_time: [new Date(), new Date()] } }))).toEqual(["columns.customer_id"]);
    expect(await violations(table.deleteRows([{ customer_id: 5 as unknown as bigint }]))).toEqual(["keys[0].customer_id"]);

    expect((await table.listCommits()).map((c) => c.version)).toEqual([0, 1]);
    expect(await dataFiles()).toEqual(filesBefore);
    expect(sortedKeys(await table.readRows())).toEqual(sortedKeys(rows(0, 3)));
  });

  it("ignores a data file whose log entry was never written, and vacuum removes it", async () => {
    const table = await f.store.createTable(tableId, schema);
    await table.append(rows(0, 10));
    const [committed] = await dataFiles();
    // A crash after the Parquet file and before the log entry: the file exists, the log does not know it.
    const orphan = "part-00000-00000000-dead-beef-0000-000000000000-c000.snappy.parquet";
    await copyFile(join(tableDir(), committed!), join(tableDir(), orphan));
    await writeFile(join(tableDir(), "_delta_log", "00000000000000000002.json.crash.tmp"), "{");

    expect((await table.snapshot()).version).toBe(1);
    expect(await table.readRows()).toHaveLength(10);
    expect((await table.scan()).files.map((x) => x.path)).toEqual([committed]);

    // Within the grace period a file may belong to a write in progress: kept.
    expect((await table.vacuum()).deleted).toEqual([]);
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(join(tableDir(), orphan), old, old);
    await utimes(join(tableDir(), "_delta_log", "00000000000000000002.json.crash.tmp"), old, old);
    const { deleted } = await table.vacuum();
    expect(deleted.sort()).toEqual([`fraud/transactions/v1/${orphan}`, "fraud/transactions/v1/_delta_log/00000000000000000002.json.crash.tmp"].sort());
    expect(await dataFiles()).toEqual([committed]);

    // Files of old versions stay, so time travel still works after a delete + vacuum.
    await table.deleteRows([{ customer_id: 1n }]);
    await table.vacuum({ graceMs: 0 });
    expect(await table.readRows({ asOf: { version: 1 } })).toHaveLength(10);
    expect(await table.readRows()).toHaveLength(9);
  });
});
