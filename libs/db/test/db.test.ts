import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as net from "node:net";
import { UnavailableError } from "@fti/errors";
import { silentLogger } from "@fti/logger";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createPool, migrate, openServiceDatabase, withTransaction, postgresDependency, type Pool } from "../src/index.js";

const url = process.env.FTI_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const schema = `test_db_${process.pid}_${Date.now() % 100000}`;
let pool: Pool;

beforeAll(() => {
  pool = createPool({ connectionString: url, schema, logger: silentLogger });
});
afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pool.end();
});

const migrations = [
  { id: "0001_items", sql: "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)" },
  // Slow on purpose, so concurrent runners overlap.
  { id: "0002_slow", sql: "SELECT pg_sleep(0.3); ALTER TABLE items ADD COLUMN note text" },
];

describe("migrations", () => {
  it("apply exactly once when several processes start together", async () => {
    const pools = Array.from({ length: 4 }, () => createPool({ connectionString: url, schema, logger: silentLogger }));
    const results = await Promise.all(pools.map((p) => migrate(p, { schema, migrations, logger: silentLogger })));
    await Promise.all(pools.map((p) => p.end()));
    expect(results.flat().sort()).toEqual(["0001_items", "0002_slow"]);
    const rows = await pool.query(`SELECT id FROM ${schema}.schema_migrations ORDER BY id`);
    expect(rows.rows.map((r) => r.id)).toEqual(["0001_items", "0002_slow"]);
    // Unqualified names resolve in the pool's schema.
    await pool.query("INSERT INTO items (id, name, note) VALUES (1, 'a', 'n')");
    expect((await pool.query("SELECT note FROM items WHERE id = 1")).rows[0].note).toBe("n");
  });

  it("leave nothing behind when a migration fails", async () => {
    const bad = [...migrations, { id: "0003_bad", sql: "CREATE TABLE half (id int); SELECT no_such_function()" }];
    await expect(migrate(pool, { schema, migrations: bad, logger: silentLogger })).rejects.toThrow(/0003_bad/);
    const half = await pool.query("SELECT to_regclass($1) AS t", [`${schema}.half`]);
    expect(half.rows[0].t).toBeNull();
  });
});

describe("transactions", () => {
  it("commit on success and roll back on error", async () => {
    await withTransaction(pool, (c) => c.query("INSERT INTO items (id, name) VALUES (2, 'b')"));
    await expect(
      withTransaction(pool, async (c) => {
        await c.query("INSERT INTO items (id, name) VALUES (3, 'c')");
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    const ids = (await pool.query("SELECT id FROM items ORDER BY id")).rows.map((r) => r.id);
    expect(ids).toEqual([1, 2]);
  });
});

describe("when Postgres is unreachable", () => {
  it("fails fast with UnavailableError and the health probe fails", async () => {
    // A port that accepts nothing: a listener we close at once.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const down = createPool({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`, schema, logger: silentLogger, connectionTimeoutMs: 500 });
    const started = Date.now();
    const err = await withTransaction(down, (c) => c.query("SELECT 1")).catch((e) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(postgresDependency(down).check()).rejects.toThrow();
    await down.end();
  });
});

describe("openServiceDatabase", () => {
  it("opens a pool on the service's schema with its migrations directory applied", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fti-migrations-"));
    writeFileSync(join(dir, "0001_things.sql"), "CREATE TABLE things (id int PRIMARY KEY)");
    const own = `${schema}_svc`;
    const svc = await openServiceDatabase({ databaseUrl: url, databaseSchema: own, databasePoolSize: 2 }, pathToFileURL(`${dir}/`), silentLogger);
    await svc.query("INSERT INTO things (id) VALUES (1)");
    expect((await pool.query(`SELECT count(*)::int AS n FROM ${own}.things`)).rows[0].n).toBe(1);
    await svc.query(`DROP SCHEMA ${own} CASCADE`);
    await svc.end();
  });
});
