// The conformance suite against a real Postgres (127.0.0.1:5432 by default,
// FTI_TEST_POSTGRES to override), in a schema of its own that is dropped after,
// plus what only the Postgres adapter does.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { NotFoundError, UnavailableError } from "@fti/errors";
import { createOnlineStore, createPostgresOnlineStore, postgresOnlineStorePoolConfig, tableName, type OnlineTable } from "../src/index.js";
import { onlineStoreConformance } from "./conformance.js";

const connectionString = process.env.FTI_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/postgres";
const uniqueSchema = () => `online_test_${randomBytes(4).toString("hex")}`;

onlineStoreConformance("postgres", async () => {
  const schema = uniqueSchema();
  const pool = new pg.Pool({ ...postgresOnlineStorePoolConfig(connectionString), max: 4 });
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
  /** A feature group keyed by an int64 id, with one double feature x. */
  const group = (featureGroup: string): OnlineTable => ({
    project: "p",
    featureGroup,
    version: 1,
    schema: { primaryKey: ["id"], eventTime: "ts", features: [{ name: "id", type: "int64" }, { name: "ts", type: "timestamp" }, { name: "x", type: "double" }] },
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

  it("plans a read statement once per connection with its pool settings; Postgres's default re-plans it at every read", async () => {
    const table: OnlineTable = {
      project: "p",
      featureGroup: "plans",
      version: 1,
      schema: { primaryKey: ["id"], eventTime: "ts", features: [{ name: "id", type: "int64" }, { name: "ts", type: "timestamp" }, { name: "x", type: "double" }] },
    };
    // Plans of the store's prepared read on the pool's one connection, after 20 reads.
    async function plansAfterReads(config: pg.PoolConfig) {
      const pool = new pg.Pool({ ...config, max: 1 });
      const store = createPostgresOnlineStore({ pool, schema });
      try {
        await store.ensureTable(table);
        await store.upsert(table, [{ id: 1n, ts: new Date(), x: 0.5 }]);
        for (let i = 0; i < 20; i++) expect((await store.read(table, [{ id: 1n }]))[0]!.values.x).toBe(0.5);
        const { rows } = await pool.query<{ generic: number; custom: number }>("SELECT sum(generic_plans)::int AS generic, sum(custom_plans)::int AS custom FROM pg_prepared_statements WHERE statement LIKE '%FROM%plans%= ANY%'");
        return rows[0]!;
      } finally {
        await store.close();
        await pool.end();
      }
    }
    expect(await plansAfterReads(postgresOnlineStorePoolConfig(connectionString))).toEqual({ generic: 20, custom: 0 });
    expect((await plansAfterReads({ connectionString })).custom).toBeGreaterThanOrEqual(5);
  });

  it("reads several tables in one round trip; a table dropped under it fails only its own reads, on every connection", async () => {
    // One connection, so every read shares it and the statements it has prepared.
    const pool = new pg.Pool({ connectionString, max: 1 });
    const store = createPostgresOnlineStore({ pool, schema });
    const [a, b, c] = [group("a"), group("b"), group("c")];
    try {
      const ts = new Date("2026-01-02T03:04:05.678Z");
      for (const [i, t] of [a, b, c].entries()) {
        await store.ensureTable(t);
        await store.upsert(t, [{ id: 1n, ts, x: i + 0.5 }]);
      }
      // Issued in one turn: one round trip over the one connection, each table its own answer.
      const [ra, rb] = await Promise.all([store.read(a, [{ id: 1n }, { id: 2n }]), store.read(b, [{ id: 1n }])]);
      expect(ra.map((r) => r.status)).toEqual(["PRESENT", "NOT_FOUND"]);
      expect(ra[0]).toMatchObject({ values: { x: 0.5 }, eventTime: ts });
      expect(rb[0]).toMatchObject({ values: { x: 1.5 }, eventTime: ts });

      // b is dropped behind the store's back: in a round trip with a and c, only b's read fails,
      // first on a statement prepared before (b), then with c's never prepared on this connection.
      await admin.query(`DROP TABLE "${schema}"."${tableName(b)}"`);
      const [ra2, rb2, rc2] = await Promise.allSettled([store.read(a, [{ id: 1n }]), store.read(b, [{ id: 1n }]), store.read(c, [{ id: 1n }])]);
      expect(ra2).toMatchObject({ status: "fulfilled", value: [{ status: "PRESENT", values: { x: 0.5 } }] });
      expect(rb2.status === "rejected" && rb2.reason).toBeInstanceOf(NotFoundError);
      expect(rc2).toMatchObject({ status: "fulfilled", value: [{ status: "PRESENT", values: { x: 2.5 } }] });
      // The connection's prepared statements are still right: reads go on working.
      expect((await store.read(c, [{ id: 1n }]))[0]!.values.x).toBe(2.5);
      expect((await store.read(a, [{ id: 1n }]))[0]!.values.x).toBe(0.5);
    } finally {
      await store.close();
      await pool.end();
    }
  });

  it("queues reads past the coalescing cap and the round trips in flight: every read gets its own answer", async () => {
    const pool = new pg.Pool({ connectionString, max: 1 });
    const store = createPostgresOnlineStore({ pool, schema });
    const tables = [group("queue_a"), group("queue_b"), group("queue_c")];
    try {
      const ts = new Date();
      for (const [t, table] of tables.entries()) {
        await store.ensureTable(table);
        await store.upsert(table, Array.from({ length: 500 }, (_, i) => ({ id: BigInt(i), ts, x: t * 1000 + i })));
      }
      // 3 tables × 40 reads × 100 keys, issued in one turn: 4,000 keys a table, past
      // the 1,000 keys one round trip coalesces and the 4 round trips in flight.
      const reads = tables.flatMap((table, t) =>
        Array.from({ length: 40 }, (_, r) => {
          const ids = Array.from({ length: 100 }, (_, k) => (r * 37 + k * 11) % 600); // ids ≥ 500 are absent
          return store.read(table, ids.map((id) => ({ id: BigInt(id) }))).then((got) => ({ t, ids, got }));
        }),
      );
      for (const { t, ids, got } of await Promise.all(reads)) {
        expect(got.map((e) => (e.status === "PRESENT" ? e.values.x : e.status))).toEqual(ids.map((id) => (id < 500 ? t * 1000 + id : "NOT_FOUND")));
      }
    } finally {
      await store.close();
      await pool.end();
    }
  });

  it("reads the selection an array holds now, when the caller reuses and changes the array", async () => {
    const store = createPostgresOnlineStore({ connectionString, schema });
    try {
      const table: OnlineTable = {
        project: "p",
        featureGroup: "selections",
        version: 1,
        schema: { primaryKey: ["id"], eventTime: "ts", features: [{ name: "id", type: "int32" }, { name: "ts", type: "timestamp" }, { name: "a", type: "double" }, { name: "b", type: "string" }] },
      };
      await store.ensureTable(table);
      await store.upsert(table, [{ id: 1, ts: new Date(), a: 1.5, b: "x" }]);
      const selection = ["a"];
      expect((await store.read(table, [{ id: 1 }], { features: selection }))[0]!.values).toEqual({ a: 1.5 });
      // The same array object, now naming another feature: the plan cached for it must not answer.
      selection[0] = "b";
      expect((await store.read(table, [{ id: 1 }], { features: selection }))[0]!.values).toEqual({ b: "x" });
      selection.push("a");
      expect((await store.read(table, [{ id: 1 }], { features: selection }))[0]!.values).toEqual({ b: "x", a: 1.5 });
      // And the same array against another table version is planned for that table.
      const v2: OnlineTable = { ...table, version: 2 };
      await store.ensureTable(v2);
      expect((await store.read(v2, [{ id: 1 }], { features: selection }))[0]!.status).toBe("NOT_FOUND");
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

describe("postgres online store, scalar-only batches (array parameters)", () => {
  it("round-trips awkward values exactly", async () => {
    const schema = uniqueSchema();
    const store = createPostgresOnlineStore({ connectionString, schema });
    const table: OnlineTable = {
      project: "p",
      featureGroup: "scalars",
      version: 1,
      schema: {
        features: [
          { name: "id", type: "string" },
          { name: "ts", type: "timestamp" },
          { name: "d", type: "double" },
          { name: "f", type: "float" },
          { name: "i", type: "int32" },
          { name: "l", type: "int64" },
          { name: "b", type: "bool" },
          { name: "s", type: "string" },
          { name: "x", type: "bytes" },
        ],
        primaryKey: ["id"],
        eventTime: "ts",
      },
    };
    try {
      await store.ensureTable(table);
      const strings = ['say "hi"', "back\\slash", "a,b", "{braces}", "NULL", "", "ünï €", "tab\tnew\nline"];
      const rows = strings.map((s, k) => ({
        id: `k,"${k}\\`,
        ts: new Date(Date.UTC(2024, 0, 1, 0, 0, 0, 123 + k)),
        d: [Number.NaN, Infinity, -Infinity, 1e-300, -0.1, 0.1 + 0.2, 2 ** 53, 5][k]!,
        f: 1.5,
        i: -2147483648 + k,
        l: 2n ** 62n + BigInt(k),
        b: k % 2 === 0,
        s,
        x: new Uint8Array([k, 255]),
      }));
      rows.push({ id: "nulls", ts: new Date(0), d: null, f: null, i: null, l: null, b: null, s: null, x: null } as never);
      await store.upsert(table, rows);
      const read = await store.read(table, rows.map((r) => ({ id: r.id })));
      read.forEach((e, k) => {
        expect(e.status).toBe("PRESENT");
        const { id: _id, ...want } = rows[k]!;
        expect({ ...e.values, id: undefined }).toEqual({ ...want, id: undefined, x: want.x === null ? null : expect.anything() });
        expect(e.eventTime!.getTime()).toBe(rows[k]!.ts.getTime());
      });
    } finally {
      await store.dropTable(table);
      await store.close();
      const admin = new pg.Pool({ connectionString, max: 1 });
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  });
});
