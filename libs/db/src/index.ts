// Postgres access: a pool bound to one schema, SQL migrations run at start under
// an advisory lock (two services starting together do not race), a transaction
// helper, and a health probe. Connection failures surface as UnavailableError.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { UnavailableError, isUnavailable } from "@fti/errors";
import type { Logger } from "@fti/logger";

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
export type Queryable = Pick<pg.Pool, "query">;

export interface PoolOptions {
  connectionString: string;
  /** Every unqualified table name resolves in this schema (created if missing by migrations). */
  schema: string;
  max?: number;
  /** How long to wait for a connection before failing with UNAVAILABLE. */
  connectionTimeoutMs?: number;
  /** Server-side limit for any one statement. */
  statementTimeoutMs?: number;
  logger: Logger;
}

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertIdentifier(name: string, what = "identifier"): string {
  if (!identifier.test(name)) throw new Error(`invalid ${what} "${name}": use lowercase letters, digits and _`);
  return name;
}

export function createPool(options: PoolOptions): Pool {
  assertIdentifier(options.schema, "schema");
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 3_000,
    idleTimeoutMillis: 30_000,
    options: `-c search_path=${options.schema},public${options.statementTimeoutMs ? ` -c statement_timeout=${options.statementTimeoutMs}` : ""}`,
    application_name: "fti",
  });
  // An idle client losing its connection must not crash the process.
  pool.on("error", (err) => options.logger.warn("postgres idle client error", { error: err.message }));
  return pool;
}

/** Runs `fn` in a transaction: COMMIT when it resolves, ROLLBACK when it throws. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await connect(pool);
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw asUnavailable(err);
  } finally {
    client.release();
  }
}

async function connect(pool: Pool): Promise<PoolClient> {
  try {
    return await pool.connect();
  } catch (err) {
    throw asUnavailable(err);
  }
}

/** Driver errors that mean "Postgres is not there" become UnavailableError; others pass through. */
export function asUnavailable(err: unknown): unknown {
  if (isUnavailable(err) && !(err instanceof UnavailableError)) return new UnavailableError("postgres is unavailable", { cause: err });
  return err;
}

export interface Migration {
  /** Sorts migrations; the file name without .sql, e.g. "0001_projects". */
  id: string;
  sql: string;
}

/** Reads `NNNN_name.sql` files from a directory, in name order. */
export async function loadMigrations(dir: string): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  return Promise.all(files.map(async (f) => ({ id: f.replace(/\.sql$/, ""), sql: await readFile(join(dir, f), "utf8") })));
}

/**
 * Applies the migrations not yet applied, each in its own transaction, holding a
 * session advisory lock keyed by the schema so concurrent starters wait their
 * turn and each migration runs exactly once.
 */
export async function migrate(pool: Pool, options: { schema: string; migrations: Migration[]; logger: Logger }): Promise<string[]> {
  const schema = assertIdentifier(options.schema, "schema");
  const client = await connect(pool);
  const applied: string[] = [];
  try {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [`fti.migrations.${schema}`]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      const done = new Set((await client.query<{ id: string }>(`SELECT id FROM ${schema}.schema_migrations`)).rows.map((r) => r.id));
      for (const m of options.migrations) {
        if (done.has(m.id)) continue;
        await client.query("BEGIN");
        try {
          await client.query(`SET LOCAL search_path = ${schema}, public`);
          await client.query(m.sql);
          await client.query(`INSERT INTO ${schema}.schema_migrations (id) VALUES ($1)`, [m.id]);
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK").catch(() => {});
          throw new Error(`migration ${m.id} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
        applied.push(m.id);
        options.logger.info("migration applied", { schema, migration: m.id });
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtext($1))", [`fti.migrations.${schema}`]).catch(() => {});
    }
  } finally {
    client.release();
  }
  return applied;
}

/** A health dependency: Postgres answers a trivial query. */
export function postgresDependency(pool: Pool) {
  return {
    name: "postgres",
    async check() {
      await pool.query("SELECT 1");
    },
  };
}

export interface ServiceDatabaseConfig {
  databaseUrl: string;
  databaseSchema: string;
  databasePoolSize: number;
  /** Apply the migrations, then exit 0 without serving (the Helm pre-install/pre-upgrade Job). */
  migrateOnly?: boolean;
}

/**
 * A service process's Postgres at start: a pool on its own schema with the
 * SQL migrations in `migrationsDir` applied (under the advisory lock). With
 * `migrateOnly` the process exits once they are applied.
 */
export async function openServiceDatabase(config: ServiceDatabaseConfig, migrationsDir: URL, logger: Logger): Promise<Pool> {
  const pool = createPool({ connectionString: config.databaseUrl, schema: config.databaseSchema, max: config.databasePoolSize, logger });
  await migrate(pool, { schema: config.databaseSchema, migrations: await loadMigrations(fileURLToPath(migrationsDir)), logger });
  if (config.migrateOnly) {
    logger.info("migrations applied; exiting (FTI_MIGRATE_ONLY)");
    await pool.end();
    process.exit(0);
  }
  return pool;
}
