// The Postgres online store: the default for one-machine installs. One table
// per feature group version in a dedicated schema, one row per entity, the
// feature vector as typed columns.
import { createHash } from "node:crypto";
import pg from "pg";
import { FailedPreconditionError, isUnavailable, NotFoundError, UnavailableError } from "@fti/errors";
import { silentLogger, type Logger } from "@fti/logger";
import { entityKey, rowBuilder, typeName, type RowBuilder, type FeatureGroupSchema, type FeatureType, type Row, type ScalarType, type Value } from "@fti/schema";
import {
  assertValidKeys,
  assertValidTable,
  describeTable,
  entityResult,
  featureType,
  latestRowPerEntity,
  nullValues,
  selectedFeatures,
  tableName,
  type EntityFeatures,
  type OnlineStore,
  type OnlineTable,
  type ReadOptions,
  type StoredEntity,
} from "./online-store.js";
import { fieldDecoder, PreparedReads, selectColumn, type FieldDecoder } from "./postgres-read.js";

/** What a read of one (table, selection) needs, worked out once. */
interface ReadPlan {
  /** A prepared statement (named by a hash of its text and column types). */
  statement: { name: string; text: string };
  /** A decoder per result column. */
  decoders: FieldDecoder[];
  table: OnlineTable;
  /** Result column positions. */
  features: { name: string; type: FeatureType; at: number }[];
  /** Makes an entity's values (in `features` order) into its row. */
  buildValues: RowBuilder;
  keys: { name: string; type: FeatureType; at: number }[];
  eventTimeAt: number;
  nulls: Row;
  /** Reads of this plan waiting to go out. */
  waiting: PendingRead[];
}

/** A plan's reads in one round trip. */
interface ReadPart {
  plan: ReadPlan;
  reads: PendingRead[];
  keys: readonly Row[];
}

/** One caller's keys in a coalesced read. */
interface PendingRead {
  keys: readonly Row[];
  resolve: (stored: Map<string, StoredEntity>) => void;
  reject: (err: unknown) => void;
}

/**
 * Concurrent reads share a round trip: reads arriving in the same event-loop
 * turn go out as one (one statement per (table, selection), its keys merged;
 * every statement in one write, see postgres-read.ts), and while
 * `maxReadsInFlight` round trips are running, newer reads wait and go out
 * together when one returns. At low load nothing waits; under load the cost
 * of a round trip (two syscalls, a context switch to the backend and back) is
 * paid once per batch instead of once per entity read, which is what keeps a
 * small machine from falling behind.
 */
const maxReadsInFlight = 4;
/** Most keys of one statement in a round trip. */
const maxCoalescedKeys = 1_000;

/**
 * The settings of a pool of the online store's own (and of a caller's pool
 * made for it). Reads are prepared statements keyed by `= ANY($1)`. Under
 * Postgres's default plan_cache_mode (auto) they are planned again at every
 * execution: the generic plan's estimate for an array of unknown length never
 * beats a one-key custom plan, though both are the same primary-key index
 * scan. A generic plan saves about 30 µs of Postgres CPU per statement (87 →
 * 55 µs for a 1-key read of 27 columns in bench/online-store/plan-cache.ts).
 * Postgres 12 or newer.
 */
export function postgresOnlineStorePoolConfig(connectionString: string): pg.PoolConfig {
  return { connectionString, options: "-c plan_cache_mode=force_generic_plan" };
}

export interface PostgresOnlineStoreOptions {
  /**
   * A pool owned by the caller (not ended by close()), or a connection string
   * for a pool of our own. A caller's pool is best made with
   * postgresOnlineStorePoolConfig().
   */
  pool?: pg.Pool;
  connectionString?: string;
  /** The Postgres schema holding the online tables. Default "online_store". */
  schema?: string;
  logger?: Logger;
  /** Run sweepExpired() on this interval; off when unset. */
  sweepIntervalMs?: number;
}

const scalarSqlTypes: Record<ScalarType, string> = {
  bool: "boolean",
  int32: "integer",
  int64: "bigint",
  float: "real",
  double: "double precision",
  string: "text",
  bytes: "bytea",
  timestamp: "timestamptz",
};

// information_schema.columns.udt_name of each SQL type, to tell an evolvable
// schema (new columns) from a breaking one (a column whose type changed).
const scalarUdtNames: Record<ScalarType, string> = {
  bool: "bool", int32: "int4", int64: "int8", float: "float4", double: "float8", string: "text", bytes: "bytea", timestamp: "timestamptz",
};

function sqlType(type: FeatureType): string {
  if (typeof type === "string") return scalarSqlTypes[type];
  if ("array" in type) return `${scalarSqlTypes[type.array]}[]`;
  return "real[]"; // float32 embedding
}

function udtName(type: FeatureType): string {
  if (typeof type === "string") return scalarUdtNames[type];
  if ("array" in type) return `_${scalarUdtNames[type.array]}`;
  return "_float4";
}

const q = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

// Postgres allows 65535 parameters per statement.
const maxParameters = 65_000;

export function createPostgresOnlineStore(options: PostgresOnlineStoreOptions): OnlineStore {
  if (!options.pool && !options.connectionString) throw new Error("createPostgresOnlineStore needs a pool or a connectionString");
  const pool = options.pool ?? new pg.Pool(postgresOnlineStorePoolConfig(options.connectionString!));
  const ownsPool = !options.pool;
  const schemaName = options.schema ?? "online_store";
  const logger = options.logger ?? silentLogger;
  // An idle connection dropped by the server must not crash the process; the next query reconnects.
  if (ownsPool) pool.on("error", (err) => logger.warn("idle Postgres connection lost", { err: err.message }));
  const catalog = `${q(schemaName)}.online_tables`;
  const qualified = (t: Omit<OnlineTable, "schema">) => `${q(schemaName)}.${q(tableName(t))}`;

  // Turns "the database is down" into UnavailableError and a missing table
  // into NotFoundError; anything else stays internal (logged by the caller's
  // error mapping, never shown).
  async function query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string | pg.QueryConfig,
    values?: unknown[],
    { client = pool, table }: { client?: pg.Pool | pg.PoolClient; table?: Omit<OnlineTable, "schema"> } = {},
  ) {
    try {
      return await client.query<R>(text as string, values);
    } catch (err) {
      throw storeError(err, table);
    }
  }

  /** A driver error as the store reports it. */
  function storeError(err: unknown, table: Omit<OnlineTable, "schema"> | undefined): unknown {
    if (isUnavailable(err)) return new UnavailableError("the Postgres online store is unavailable", { cause: err });
    if (table && (err as { code?: unknown }).code === "42P01") return new NotFoundError("online table", describeTable(table));
    return err;
  }

  async function transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw new UnavailableError("the Postgres online store is unavailable", { cause: err });
    }
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async function ensureTable(table: OnlineTable): Promise<void> {
    assertValidTable(table);
    const { schema } = table;
    const name = tableName(table);
    await transaction(async (client) => {
      // Serialises concurrent create/evolve of one table across processes.
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`${schemaName}.${name}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${q(schemaName)}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${catalog} (
        table_name text PRIMARY KEY, project text NOT NULL, feature_group text NOT NULL, version integer NOT NULL,
        primary_key text[] NOT NULL, event_time text NOT NULL, ttl_seconds integer)`);
      const known = await client.query<{ primary_key: string[]; event_time: string }>(`SELECT primary_key, event_time FROM ${catalog} WHERE table_name = $1`, [name]);
      const prior = known.rows[0];
      if (prior && (prior.event_time !== schema.eventTime || prior.primary_key.join("\u0000") !== schema.primaryKey.join("\u0000"))) {
        throw new FailedPreconditionError(`the primary key or event time of ${table.featureGroup} version ${table.version} cannot change; create a new version`);
      }
      const columns = await client.query<{ column_name: string; udt_name: string }>(
        "SELECT column_name, udt_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2",
        [schemaName, name],
      );
      if (columns.rows.length === 0) {
        const keys = new Set([...schema.primaryKey, schema.eventTime]);
        const defs = schema.features.map((f) => `${q(f.name)} ${sqlType(f.type)}${keys.has(f.name) ? " NOT NULL" : ""}`);
        await client.query(`CREATE TABLE ${qualified(table)} (${defs.join(", ")}, PRIMARY KEY (${schema.primaryKey.map(q).join(", ")}))`);
      } else {
        const existing = new Map(columns.rows.map((c) => [c.column_name, c.udt_name]));
        for (const f of schema.features) {
          const udt = existing.get(f.name);
          if (udt === undefined) await client.query(`ALTER TABLE ${qualified(table)} ADD COLUMN ${q(f.name)} ${sqlType(f.type)}`);
          else if (udt !== udtName(f.type)) {
            throw new FailedPreconditionError(`feature "${f.name}" of ${table.featureGroup} version ${table.version} cannot change type to ${typeName(f.type)}; create a new version`);
          }
        }
      }
      // The sweep deletes by event time; without TTL there is no sweep and no index needed.
      if (schema.ttlSeconds !== undefined) {
        await client.query(`CREATE INDEX IF NOT EXISTS ${q(`${name}_event_time`)} ON ${qualified(table)} (${q(schema.eventTime)})`);
      }
      await client.query(
        `INSERT INTO ${catalog} VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (table_name) DO UPDATE SET ttl_seconds = excluded.ttl_seconds`,
        [name, table.project, table.featureGroup, table.version, schema.primaryKey, schema.eventTime, schema.ttlSeconds ?? null],
      );
    });
    logger.info("online table ready", { table: name, project: table.project, featureGroup: table.featureGroup, version: table.version });
  }

  async function upsert(table: OnlineTable, rows: readonly Row[]): Promise<void> {
    const { schema } = table;
    const latest = latestRowPerEntity(schema, rows);
    if (latest.length === 0) return;
    const columns = schema.features.map((f) => f.name);
    const updates = columns.filter((c) => !schema.primaryKey.includes(c)).map((c) => `${q(c)} = excluded.${q(c)}`);
    // `>=`: on equal event times the later write wins, as ARCHITECTURE.md requires.
    const conflict = `ON CONFLICT (${schema.primaryKey.map(q).join(", ")}) DO UPDATE SET ${updates.join(", ")}
          WHERE excluded.${q(schema.eventTime)} >= t.${q(schema.eventTime)}`;
    if (schema.features.every((f) => typeof f.type === "string")) {
      // Scalar features: one array parameter per column, unnested server-side.
      // Binding 20 arrays instead of 20 parameters per row is ~4× faster for large batches.
      const arrays = schema.features.map((f) => arrayParameter(f.type as ScalarType, latest, f.name));
      const unnest = schema.features.map((f, i) => `$${i + 1}::${f.type === "timestamp" ? "float8" : sqlType(f.type)}[]`).join(", ");
      const select = schema.features.map((f, i) => (f.type === "timestamp" ? `to_timestamp(c${i} / 1000.0)` : `c${i}`)).join(", ");
      const aliases = schema.features.map((_, i) => `c${i}`).join(", ");
      await query(`INSERT INTO ${qualified(table)} AS t (${columns.map(q).join(", ")}) SELECT ${select} FROM unnest(${unnest}) AS u(${aliases}) ${conflict}`, arrays, { table });
      return;
    }
    const rowsPerStatement = Math.max(1, Math.floor(maxParameters / columns.length));
    const statements: { text: string; values: unknown[] }[] = [];
    for (let start = 0; start < latest.length; start += rowsPerStatement) {
      const chunk = latest.slice(start, start + rowsPerStatement);
      const values: unknown[] = [];
      const tuples = chunk.map((row) => {
        const placeholders = schema.features.map((f) => {
          values.push(toPg(row[f.name] ?? null));
          return `$${values.length}`;
        });
        return `(${placeholders.join(", ")})`;
      });
      statements.push({ text: `INSERT INTO ${qualified(table)} AS t (${columns.map(q).join(", ")}) VALUES ${tuples.join(", ")} ${conflict}`, values });
    }
    if (statements.length === 1) await query(statements[0].text, statements[0].values, { table });
    else await transaction(async (client) => { for (const s of statements) await query(s.text, s.values, { client, table }); });
  }

  /**
   * A WHERE clause matching every key of a batch, in one statement: `= ANY` of
   * an array for one key column (an index scan the planner costs well), and a
   * row comparison with `unnest` of one array per column for composite keys.
   */
  function keyFilter(schema: FeatureGroupSchema, keys: readonly Row[]): { where: string; values: unknown[] } {
    const values = keyValues(schema, keys);
    const arrays = schema.primaryKey.map((k, i) => `$${i + 1}::${sqlType(featureType(schema, k))}[]`);
    if (schema.primaryKey.length === 1) return { where: `t.${q(schema.primaryKey[0])} = ANY(${arrays[0]})`, values };
    return { where: `(${schema.primaryKey.map((k) => `t.${q(k)}`).join(", ")}) IN (SELECT * FROM unnest(${arrays.join(", ")}))`, values };
  }

  /** keyFilter's parameters alone (a read's SQL is in its plan): one array per key column. */
  function keyValues(schema: FeatureGroupSchema, keys: readonly Row[]): unknown[][] {
    return schema.primaryKey.map((k) => keys.map((key) => toPg(key[k]!)));
  }

  // Reads are the hot path: the SQL and column types of each (schema, table,
  // selection) are worked out once. Keyed by the schema object, so an evolved
  // schema (a new object) gets a new plan and a dropped one frees its plans.
  const readPlans = new WeakMap<FeatureGroupSchema, Map<string, ReadPlan>>();
  // Callers that read the same selection again pass the same array (a serving
  // plan does): found by identity, without building the key string.
  const plansBySelection = new WeakMap<readonly string[], ReadPlan>();
  function readPlan(table: OnlineTable, requested: readonly string[] | undefined): ReadPlan {
    const known = requested && plansBySelection.get(requested);
    if (known && sameTable(known.table, table) && sameSelection(known, requested)) return known;
    // Not tableName(): its slug and hash cost more than the read's own work.
    const key = `${table.project}\u0000${table.featureGroup}\u0000${table.version}\u0000${requested?.join("\u0000") ?? "*"}`;
    let plans = readPlans.get(table.schema);
    if (!plans) readPlans.set(table.schema, (plans = new Map()));
    let plan = plans.get(key);
    if (!plan) {
      const { schema } = table;
      const features = selectedFeatures(schema, requested);
      // Named columns, never `*`: a prepared statement must keep its result
      // type when a feature is added (ALTER TABLE ADD COLUMN).
      const names = [...new Set([...schema.primaryKey, schema.eventTime, ...features])];
      const at = (name: string) => names.indexOf(name);
      const text = `SELECT ${names.map((c) => selectColumn(`t.${q(c)}`, featureType(schema, c))).join(", ")} FROM ${qualified(table)} t WHERE ${keyFilter(schema, []).where}`;
      // Prepared once per connection: later reads skip Postgres' parse and plan.
      // The column types are in the name too, so a table dropped and recreated
      // with other types never meets a statement prepared for the old ones.
      const typesOf = names.map((n) => typeName(featureType(schema, n))).join(",");
      const statementName = `fti_online_${createHash("sha1").update(`${text}\u0000${typesOf}`).digest("hex").slice(0, 24)}`;
      plan = {
        statement: { name: statementName, text },
        decoders: names.map((n) => fieldDecoder(featureType(schema, n))),
        table,
        features: features.map((name) => ({ name, type: featureType(schema, name), at: at(name) })),
        buildValues: rowBuilder(features),
        keys: schema.primaryKey.map((name) => ({ name, type: featureType(schema, name), at: at(name) })),
        eventTimeAt: at(schema.eventTime),
        nulls: nullValues(features),
        waiting: [],
      };
      if (plans.size >= 1_000) plans.clear(); // bound memory under ever-new selections
      plans.set(key, plan);
    }
    if (requested) plansBySelection.set(requested, plan);
    return plan;
  }

  async function read(table: OnlineTable, keys: readonly Row[], options: ReadOptions = {}): Promise<EntityFeatures[]> {
    const { schema } = table;
    const plan = readPlan(table, options.features);
    assertValidKeys(schema, keys);
    const now = options.now ?? new Date();
    if (keys.length === 0) return [];
    const stored = await new Promise<Map<string, StoredEntity>>((resolve, reject) => {
      // A plan is queued once, with its first waiting read.
      if (plan.waiting.push({ keys, resolve, reject }) === 1) waitingPlans.push(plan);
      scheduleFlush();
    });
    return keys.map((key) => entityResult(schema, stored.get(entityKey(schema, key)), plan.nulls, now));
  }

  // Plans with reads waiting, and round trips in flight. An array, not a Set:
  // a long-lived Set that empties and fills on every flush reallocates its
  // table each time, in old space, which fills it with garbage for the next
  // full GC (the long pauses).
  const waitingPlans: ReadPlan[] = [];
  let flushScheduled = false;
  let readsInFlight = 0;

  function scheduleFlush() {
    if (flushScheduled || readsInFlight >= maxReadsInFlight) return;
    flushScheduled = true;
    // setImmediate, not a microtask: it runs after every request decoded in
    // this I/O phase has queued its keys.
    setImmediate(flush);
  }

  function flush() {
    flushScheduled = false;
    while (waitingPlans.length && readsInFlight < maxReadsInFlight) {
      const parts: ReadPart[] = [];
      let stillWaiting = 0;
      for (const plan of waitingPlans) {
        let count = 0;
        let taken = 0;
        while (taken < plan.waiting.length && (taken === 0 || count + plan.waiting[taken]!.keys.length <= maxCoalescedKeys)) count += plan.waiting[taken++]!.keys.length;
        const reads = plan.waiting.splice(0, taken);
        if (plan.waiting.length) waitingPlans[stillWaiting++] = plan;
        parts.push({ plan, reads, keys: reads.length === 1 ? reads[0]!.keys : reads.flatMap((r) => r.keys) });
      }
      waitingPlans.length = stillWaiting;
      readsInFlight++;
      void readParts(parts).finally(() => {
        readsInFlight--;
        if (waitingPlans.length) scheduleFlush();
      });
    }
  }

  /** One round trip for `parts`; each part's reads get its stored entities, or its error. */
  async function readParts(parts: ReadPart[]): Promise<void> {
    let results: unknown[][][];
    try {
      results = await (pool.query(new PreparedReads(parts.map((p) => ({ statement: p.plan.statement, values: keyValues(p.plan.table.schema, p.keys), decoders: p.plan.decoders }))) as never) as unknown as Promise<unknown[][][]>);
    } catch (err) {
      // A failed statement stops the whole round trip (a table dropped meanwhile, say): each part again alone, so only its own reads fail.
      if (parts.length > 1) {
        await Promise.all(parts.map((p) => readParts([p])));
        return;
      }
      for (const r of parts[0]!.reads) r.reject(storeError(err, parts[0]!.plan.table));
      return;
    }
    parts.forEach((part, i) => {
      let stored: Map<string, StoredEntity>;
      try {
        stored = storedEntities(part.plan, results[i]!);
      } catch (err) {
        for (const r of part.reads) r.reject(err);
        return;
      }
      for (const r of part.reads) r.resolve(stored);
    });
  }

  /** A statement's rows as stored entities, by entity key. */
  function storedEntities(plan: ReadPlan, rows: unknown[][]): Map<string, StoredEntity> {
    const { schema } = plan.table;
    const stored = new Map<string, StoredEntity>();
    const { features } = plan;
    const decoded = new Array<Value>(features.length);
    for (const raw of rows) {
      for (let i = 0; i < features.length; i++) decoded[i] = fromPg(features[i]!.type, raw[features[i]!.at]);
      const values = plan.buildValues(decoded);
      const key: Row = {};
      for (const k of plan.keys) key[k.name] = fromPg(k.type, raw[k.at]);
      stored.set(entityKey(schema, key), { values, eventTime: raw[plan.eventTimeAt] as Date });
    }
    return stored;
  }

  async function deleteKeys(table: OnlineTable, keys: readonly Row[]): Promise<void> {
    assertValidKeys(table.schema, keys);
    if (keys.length === 0) return;
    const k = keyFilter(table.schema, keys);
    await query(`DELETE FROM ${qualified(table)} t WHERE ${k.where}`, k.values, { table });
  }

  async function dropTable(table: Omit<OnlineTable, "schema">): Promise<void> {
    assertValidTable(table);
    const name = tableName(table);
    await transaction(async (client) => {
      await client.query(`DROP TABLE IF EXISTS ${qualified(table)}`);
      if ((await client.query("SELECT to_regclass($1) AS t", [`${schemaName}.online_tables`])).rows[0].t) {
        await client.query(`DELETE FROM ${catalog} WHERE table_name = $1`, [name]);
      }
    });
    logger.info("online table dropped", { table: name, project: table.project, featureGroup: table.featureGroup, version: table.version });
  }

  async function sweepExpired(): Promise<number> {
    const exists = await query<{ t: string | null }>("SELECT to_regclass($1) AS t", [`${schemaName}.online_tables`]);
    if (!exists.rows[0].t) return 0;
    const tables = await query<{ table_name: string; event_time: string; ttl_seconds: number }>(
      `SELECT table_name, event_time, ttl_seconds FROM ${catalog} WHERE ttl_seconds IS NOT NULL`,
    );
    let removed = 0;
    for (const t of tables.rows) {
      const result = await query(
        `DELETE FROM ${q(schemaName)}.${q(t.table_name)} WHERE ${q(t.event_time)} < now() - make_interval(secs => $1)`,
        [t.ttl_seconds],
      );
      removed += result.rowCount ?? 0;
    }
    if (removed) logger.info("expired online rows swept", { rows: removed });
    return removed;
  }

  const sweeper = options.sweepIntervalMs
    ? setInterval(() => sweepExpired().catch((err) => logger.error("online TTL sweep failed", { err: String(err) })), options.sweepIntervalMs)
    : undefined;
  sweeper?.unref();

  return {
    ensureTable,
    upsert,
    read,
    deleteKeys,
    dropTable,
    sweepExpired,
    async ping() {
      await query("SELECT 1");
    },
    async close() {
      if (sweeper) clearInterval(sweeper);
      if (ownsPool) await pool.end();
    },
  };
}

function sameTable(a: OnlineTable, b: OnlineTable): boolean {
  return a === b || (a.schema === b.schema && a.project === b.project && a.featureGroup === b.featureGroup && a.version === b.version);
}

/** The plan selects exactly `requested` (the array may have been changed since). */
function sameSelection(plan: ReadPlan, requested: readonly string[]): boolean {
  if (plan.features.length !== requested.length) return false;
  for (let i = 0; i < requested.length; i++) if (plan.features[i]!.name !== requested[i]) return false;
  return true;
}

/**
 * One column of a batch as a Postgres array parameter. Numbers, bools,
 * strings and timestamps (as epoch milliseconds) are written as the array's
 * text literal directly: pg's generic array serializer (a Date formatted per
 * value) took most of a large upsert's time. Bytes go through pg.
 */
function arrayParameter(type: ScalarType, rows: readonly Row[], name: string): unknown {
  const n = rows.length;
  const parts = new Array<string>(n);
  switch (type) {
    case "bytes":
      return rows.map((row) => toPg(row[name] ?? null));
    case "timestamp":
      for (let i = 0; i < n; i++) {
        const v = rows[i]![name] as Date | null | undefined;
        parts[i] = v == null ? "NULL" : String(v.getTime());
      }
      break;
    case "bool":
      for (let i = 0; i < n; i++) {
        const v = rows[i]![name];
        parts[i] = v == null ? "NULL" : v ? "t" : "f";
      }
      break;
    case "string":
      for (let i = 0; i < n; i++) {
        const v = rows[i]![name] as string | null | undefined;
        parts[i] = v == null ? "NULL" : `"${v.replace(/["\\]/g, "\\$&")}"`;
      }
      break;
    default:
      for (let i = 0; i < n; i++) {
        const v = rows[i]![name];
        parts[i] = v == null ? "NULL" : String(v);
      }
  }
  return `{${parts.join(",")}}`;
}

/** In-memory value → pg parameter. pg already handles bigint, Date, Buffer and arrays of them. */
function toPg(value: Value): unknown {
  if (value === null) return null;
  if (value instanceof Float32Array) return Array.from(value); // pg would send a typed array as bytea
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return value;
}

/** pg result value → in-memory value (int8 arrives as a string, bytea as a Buffer). */
function fromPg(type: FeatureType, raw: unknown): Value {
  if (raw === null || raw === undefined) return null;
  if (typeof type === "string") return scalarFromPg(type, raw);
  if ("array" in type) return (raw as unknown[]).map((e) => scalarFromPg(type.array, e) as Exclude<Value, null | Float32Array | unknown[]>);
  return Float32Array.from(raw as number[]);
}

function scalarFromPg(type: ScalarType, raw: unknown): Value {
  if (type === "int64") return BigInt(raw as string);
  if (type === "bytes") return new Uint8Array(raw as Buffer); // a copy: pg's Buffers may share a pool
  return raw as Value;
}
