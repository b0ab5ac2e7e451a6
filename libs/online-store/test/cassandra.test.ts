// The conformance suite against a real Cassandra: FTI_TEST_CASSANDRA (host:port),
// which vitest.global-setup.ts sets by starting the 2.1 test server when unset.
// A keyspace of its own, dropped after.
import { randomBytes } from "node:crypto";
import cassandra from "cassandra-driver";
import { describe, expect, it } from "vitest";
import { UnavailableError } from "@fti/errors";
import { createCassandraOnlineStore, writeTimestampMicros } from "../src/index.js";
import { onlineStoreConformance } from "./conformance.js";

const localDataCenter = "datacenter1";

function contactPoint(): string {
  const value = process.env.FTI_TEST_CASSANDRA;
  if (!value) throw new Error("FTI_TEST_CASSANDRA is unset: run the tests through vitest.config.ts (global setup) or start scripts/cassandra-test-server.ts");
  return value;
}

onlineStoreConformance("cassandra", async () => {
  const keyspace = `online_test_${randomBytes(4).toString("hex")}`;
  const store = createCassandraOnlineStore({ contactPoints: [contactPoint()], localDataCenter, keyspace, consistency: "ONE" });
  return {
    store,
    async teardown() {
      await store.close();
      const admin = new cassandra.Client({ contactPoints: [contactPoint()], localDataCenter });
      await admin.execute(`DROP KEYSPACE IF EXISTS "${keyspace}"`);
      await admin.shutdown();
    },
  };
});

describe("cassandra online store", () => {
  it("orders writes by event time first, then by how late they were written", () => {
    const t = Date.parse("2024-01-01T00:00:00Z");
    expect(writeTimestampMicros(t, t)).toBe(BigInt(t) * 1000n);
    // Never reaches the next millisecond's event time, even a century late.
    expect(writeTimestampMicros(t, t + 200 * 365 * 86_400_000)).toBe(BigInt(t) * 1000n + 999n);
    expect(writeTimestampMicros(t, t + 3_600_000) < writeTimestampMicros(t, t + 2 * 3_600_000)).toBe(true);
    expect(writeTimestampMicros(t + 1, t + 1) > writeTimestampMicros(t, t + 86_400_000)).toBe(true);
  });

  it("reports an unreachable cluster as UNAVAILABLE", async () => {
    const store = createCassandraOnlineStore({ contactPoints: ["127.0.0.1:1"], localDataCenter, keyspace: "unused", consistency: "ONE" });
    await expect(store.ping()).rejects.toBeInstanceOf(UnavailableError);
    await store.close();
  });
});
