// The conformance suite against a real Postgres (127.0.0.1:5432 by default,
// FTI_TEST_POSTGRES to override), in a schema of its own that is dropped after,
// plus what only the Postgres adapter does.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { UnavailableError } from "@fti/errors";
import { createOnlineStore, createPostgresOnlineStore, tableName, type OnlineTable } from "../src/index.js";
import { onlineStoreConformance } from "./conformance.js";

const connectionString = process.env.FTI_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/postgres";
const uniqueSchema = () => `online_test_${randomBytes(4).toString("hex")}`;

onlineStoreConformance("postgres", async () => {
  const schema = uniqueSchema();
  const pool = new pg.Pool({ connectionString, max: 4 });
  const store = createPostgresOnlineStore({ pool, schema });
  return {
    store,
    async teardown() {
      await store.close();
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
});

describe("postgres online store", () => {
  const schema = uniqueSchema();
  const admin = new pg.Pool({ connectionString, max: 1 });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it("deletes expired rows on its own when given a sweep interval", async () => {
    const store = createOnlineStore({ type: "postgres", connectionString, schema, sweepIntervalMs: 100 });
    try {
      const table: OnlineTable = {
        project: "p",
        featureGroup: "sessions",
        version: 1,
        schema: { primaryKey: ["id"], eventTime: "ts", ttlSeconds: 1, features: [{ name: "id", type: "int32" }, { name: "ts", type: "timestamp" }] },
      };
      await store.ensureTable(table);
      await store.upsert(table, [{ id: 1, ts: new Date(Date.now() - 10_000) }, { id: 2, ts: new Date() }]);
      await new Promise((r) => setTimeout(r, 400));
      const left = await admin.query(`SELECT id FROM "${schema}"."${tableName(table)}"`);
      expect(left.rows).toEqual([{ id: 2 }]);
    } finally {
      await store.close();
    }
  });

  it("reports an unreachable database as UNAVAILABLE", async () => {
    const store = createPostgresOnlineStore({ connectionString: "postgres://postgres@127.0.0.1:1/postgres" });
    await expect(store.ping()).rejects.toBeInstanceOf(UnavailableError);
    await store.close();
  });
});
