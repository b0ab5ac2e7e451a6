// The online write path against Cassandra (the vitest global setup's 2.1 test
// node, FTI_TEST_CASSANDRA): an ingested batch, a late older event, and a
// delete, read back from the Cassandra online store.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Commit_OnlineState } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import { onlineTable, recordBatch, rpc, startIngestion, transaction, transactions, transactionsGroup, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startIngestion({ online: "cassandra", streamEnabled: false });
}, 120_000);
afterAll(async () => {
  await h?.close();
});

describe("ingestion with the Cassandra online store", () => {
  it("upserts, keeps the newest event and deletes online", async () => {
    const group = await h.createGroup("cass_tx", transactionsGroup());
    const first = await h.call(rpc.ingest, { featureGroup: group, batchId: "c-1", rows: recordBatch(transactions(0, 30)) });
    expect(first.commit!.onlineState).toBe(Commit_OnlineState.WRITTEN);
    // A late event older than what is online does not overwrite it.
    await h.call(rpc.ingest, { featureGroup: group, batchId: "c-2", rows: recordBatch([transaction(5, { ts: new Date(0), amount: -1 })]) });
    await h.call(rpc.deleteRows, { featureGroup: group, batchId: "c-3", keys: recordBatch([{ account_id: "a7" }]) });
    const read = await h.online.read(onlineTable(group), [{ account_id: "a5" }, { account_id: "a7" }, { account_id: "a29" }]);
    expect(read.map((e) => e.status)).toEqual(["PRESENT", "NOT_FOUND", "PRESENT"]);
    expect(read[0]!.values.amount).toBe(transaction(5).amount);
  });
});
