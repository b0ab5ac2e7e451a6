// Scans say which commit appended each file and when, so readers can order
// ingestion (ties on event time) and read "as the system knew it then".
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fixture, rows, schema, tableId, type Fixture } from "./helpers.js";

let f: Fixture;
beforeEach(async () => {
  f = await fixture();
});
afterEach(async () => {
  await f.cleanup();
});

describe("scan commit info", () => {
  it("gives each file its appending commit's version and time, kept across a delete rewrite", async () => {
    const table = await f.store.createTable(tableId, schema);
    const first = await table.append(rows(0, 10));
    const second = await table.append(rows(10, 20));
    await table.deleteRows([{ customer_id: 3n }]);

    const files = (await table.scan()).files.sort((a, b) => a.appendedInVersion - b.appendedInVersion);
    expect(files.map((x) => x.appendedInVersion)).toEqual([first.version, second.version]);
    expect(files.map((x) => x.appendedAt.getTime())).toEqual([first.timestamp.getTime(), second.timestamp.getTime()]);
    // The rewritten file (without customer 3) still counts as appended by the first commit.
    expect(files[0]!.numRecords).toBe(9);

    const changes = await table.scanChangesSince(first.version);
    expect(changes.files.map((x) => x.appendedInVersion)).toEqual([second.version]);
  });
});
