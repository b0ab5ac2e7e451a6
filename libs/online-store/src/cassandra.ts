// The Cassandra / ScyllaDB online store, for scale. One table per feature group
// version, one partition per entity (the primary key is the partition key), so
// reading an entity's feature vector is one partition read. The CQL here is
// accepted by Cassandra 2.1 (protocol v3, the test server), 4.x, 5.x and ScyllaDB.
import cassandra from "cassandra-driver";
import { FailedPreconditionError, NotFoundError, UnavailableError } from "@fti/errors";
import { silentLogger, type Logger } from "@fti/logger";
import { entityKey, rowBuilder, typeName, type RowBuilder, type FeatureGroupSchema, type FeatureType, type Row, type ScalarType, type Value } from "@fti/schema";
import {
  assertValidKeys,
  assertValidTable,
  describeTable,
  entityResult,
  eventMillis,
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

/** What a read of one (table, selection) needs, worked out once. */
interface ReadPlan {
  text: string;
  /** Many entities per request (`key IN ?`), for a one-column key; else undefined. */
  inText: string | undefined;
  features: { name: string; type: FeatureType }[];
  /** Makes an entity's values (in `features` order) into its row. */
  buildValues: RowBuilder;
  keys: { name: string; type: FeatureType }[];
  nulls: Row;
}

/** The selected features of a result row, decoded. */
function storedValues(plan: ReadPlan, raw: cassandra.types.Row): Row {
  const { features } = plan;
  const decoded = new Array<Value>(features.length);
  for (let i = 0; i < features.length; i++) decoded[i] = fromCql(features[i]!.type, raw[features[i]!.name]);
  return plan.buildValues(decoded);
}

const { Client, policies, types, errors } = cassandra;
type Client = InstanceType<typeof Client>;

export type ConsistencyName = "ONE" | "TWO" | "THREE" | "QUORUM" | "ALL" | "LOCAL_QUORUM" | "EACH_QUORUM" | "LOCAL_ONE";

export interface CassandraOnlineStoreOptions {
  /** "host" or "host:port". */
  contactPoints: string[];
  localDataCenter: string;
  keyspace: string;
  /** The keyspace's replication map. Default `{ class: "SimpleStrategy", replication_factor: 1 }`. */
  replication?: Record<string, string | number>;
  /** For reads and writes. Default LOCAL_QUORUM; tests use ONE. */
  consistency?: ConsistencyName;
  /** Requests in flight per batch read or write. Default 128: a 100-entity read goes out at once. */
  concurrency?: number;
  logger?: Logger;
}

// Cassandra 2.1 speaks protocol v3: no date, time, smallint or tinyint, and
// 2.1.0 has no frozen collections. Arrays are therefore (non-frozen) lists;
// LWW still holds for them because overwriting a list deletes the old one at
// the write's timestamp − 1. Embeddings are one blob of little-endian float32:
// one cell instead of one cell per dimension, and an exact float32 round trip.
const scalarCqlTypes: Record<ScalarType, string> = {
  bool: "boolean",
  int32: "int",
  int64: "bigint",
  float: "float",
  double: "double",
  string: "text",
  bytes: "blob",
  timestamp: "timestamp",
};

function cqlType(type: FeatureType): string {
  if (typeof type === "string") return scalarCqlTypes[type];
  if ("array" in type) return `list<${scalarCqlTypes[type.array]}>`;
  return "blob";
}

const scalarTypeCodes: Record<ScalarType, number> = {
  bool: types.dataTypes.boolean,
  int32: types.dataTypes.int,
  int64: types.dataTypes.bigint,
  float: types.dataTypes.float,
  double: types.dataTypes.double,
  string: types.dataTypes.varchar, // CQL text is varchar in the driver's metadata
  bytes: types.dataTypes.blob,
  timestamp: types.dataTypes.timestamp,
};

/** Whether an existing column (driver metadata) has the type a feature needs. */
function sameType(type: FeatureType, column: { code: number; info: unknown }): boolean {
  const scalarMatches = (t: ScalarType, c: { code: number }) =>
    c.code === scalarTypeCodes[t] || (t === "string" && c.code === types.dataTypes.text);
  if (typeof type === "string") return scalarMatches(type, column);
  if ("array" in type) return column.code === types.dataTypes.list && scalarMatches(type.array, column.info as { code: number });
  return column.code === types.dataTypes.blob;
}

const q = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

/**
 * The write timestamp: the event time in microseconds, so Cassandra's own
 * last-write-wins keeps the newest event whatever the arrival order.
 *
 * Event times have millisecond precision, which leaves the microseconds free.
 * We fill them with a number that grows with how long after the event time the
 * row was written, so that of two writes with the same event time the later
 * one wins (ARCHITECTURE.md) instead of Cassandra's tie-break on cell values.
 * A log scale fits lags from 1 ms to a century into 0..999 and never spills
 * into the next millisecond; two writes of one event time are ordered when
 * their lags differ by more than ~3% (e.g. 1 s vs 1.03 s, 1 h vs 1.03 h).
 * Closer than that, Cassandra breaks the tie by value.
 */
export function writeTimestampMicros(eventMs: number, writtenAtMs: number): bigint {
  const lag = Math.max(0, writtenAtMs - eventMs);
  return BigInt(eventMs) * 1000n + BigInt(Math.min(999, Math.floor(lagScale * Math.log1p(lag))));
}
const lagScale = 999 / Math.log1p(100 * 365.25 * 24 * 3600 * 1000);

/** Partitions per IN request: enough to amortise a request, few enough to spread over the cluster. */
const maxKeysPerRequest = 50;

/** Cassandra refuses TTLs over 20 years; a longer one is as good as none. */
const maxCassandraTtlSeconds = 630_720_000;

export function createCassandraOnlineStore(options: CassandraOnlineStoreOptions): OnlineStore {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,47}$/.test(options.keyspace)) throw new Error(`invalid Cassandra keyspace name "${options.keyspace}"`);
  const keyspace = options.keyspace;
  const logger = options.logger ?? silentLogger;
  const concurrency = options.concurrency ?? 128;
  const consistency = types.consistencies[lowerCamel(options.consistency ?? "LOCAL_QUORUM")];
  const client: Client = new Client({
    contactPoints: options.contactPoints,
    localDataCenter: options.localDataCenter,
    // Token-aware: each single-partition request goes straight to a replica.
    policies: { loadBalancing: new policies.loadBalancing.TokenAwarePolicy(new policies.loadBalancing.DCAwareRoundRobinPolicy(options.localDataCenter)) },
    queryOptions: { consistency, prepare: true },
    encoding: { useBigIntAsLong: true, useBigIntAsVarint: true },
  });
  const qualified = (t: Omit<OnlineTable, "schema">) => `${q(keyspace)}.${q(tableName(t))}`;
  const replication = options.replication ?? { class: "SimpleStrategy", replication_factor: 1 };

  // Every statement is prepared (the driver caches by query text) and sent at
  // the configured consistency.
  const executeOptions = { prepare: true, consistency };
  async function execute(query: string, params: unknown[] = [], table?: Omit<OnlineTable, "schema">) {
    try {
      return await client.execute(query, params, executeOptions);
    } catch (err) {
      throw translate(err, table);
    }
  }

  let keyspaceReady: Promise<unknown> | undefined;
  function ensureKeyspace(): Promise<unknown> {
    const map = Object.entries(replication).map(([k, v]) => `'${k}': ${typeof v === "number" ? v : `'${v}'`}`).join(", ");
    keyspaceReady ??= execute(`CREATE KEYSPACE IF NOT EXISTS ${q(keyspace)} WITH replication = {${map}}`).catch((err) => {
      keyspaceReady = undefined;
      throw err;
    });
    return keyspaceReady;
  }

  async function ensureTable(table: OnlineTable): Promise<void> {
    assertValidTable(table);
    const { schema } = table;
    await ensureKeyspace();
    const existing = await client.metadata.getTable(keyspace, tableName(table)).catch((err) => { throw translate(err); });
    if (!existing) {
      const columns = schema.features.map((f) => `${q(f.name)} ${cqlType(f.type)}`);
      // Leveled compaction: reads of overwritten rows touch few SSTables.
      await execute(`CREATE TABLE IF NOT EXISTS ${qualified(table)} (${columns.join(", ")}, PRIMARY KEY ((${schema.primaryKey.map(q).join(", ")})))
        WITH compaction = {'class': 'LeveledCompactionStrategy'}`);
    } else {
      if (existing.partitionKeys.map((c) => c.name).join("\u0000") !== schema.primaryKey.join("\u0000")) {
        throw new FailedPreconditionError(`the primary key of ${describeTable(table)} cannot change; create a new version`);
      }
      for (const f of schema.features) {
        const column = existing.columnsByName[f.name];
        if (!column) await execute(`ALTER TABLE ${qualified(table)} ADD ${q(f.name)} ${cqlType(f.type)}`);
        else if (!sameType(f.type, column.type)) {
          throw new FailedPreconditionError(`feature "${f.name}" of ${describeTable(table)} cannot change type to ${typeName(f.type)}; create a new version`);
        }
      }
    }
    logger.info("online table ready", { table: tableName(table), project: table.project, featureGroup: table.featureGroup, version: table.version });
  }

  async function upsert(table: OnlineTable, rows: readonly Row[]): Promise<void> {
    const { schema } = table;
    const latest = latestRowPerEntity(schema, rows);
    const ttl = schema.ttlSeconds;
    const columns = schema.features.map((f) => f.name);
    const query = `INSERT INTO ${qualified(table)} (${columns.map(q).join(", ")}) VALUES (${columns.map(() => "?").join(", ")}) USING TIMESTAMP ?${ttl === undefined ? "" : " AND TTL ?"}`;
    const now = Date.now();
    // One single-partition INSERT per entity, in parallel: a multi-partition
    // batch would only add coordinator work. The batch is not atomic across
    // entities, but retrying it is safe, as each write carries its event time.
    await forEachLimit(latest, concurrency, async (row) => {
      const eventMs = eventMillis(schema, row);
      const params: unknown[] = schema.features.map((f) => toCql(f.type, row[f.name] ?? null));
      params.push(writeTimestampMicros(eventMs, now));
      if (ttl !== undefined) {
        // The same TTL as reads use, counted from the event time. +1 s because
        // Cassandra counts expiry in whole seconds from the write: the cell must
        // outlive the moment reads start to call it EXPIRED.
        const remainingSeconds = Math.ceil((eventMs + ttl * 1000 - now) / 1000);
        if (remainingSeconds <= 0) return; // already expired: it could never be served
        params.push(Math.min(remainingSeconds + 1, maxCassandraTtlSeconds));
      }
      await execute(query, params, table);
    });
  }

  // Reads are the hot path: the CQL and column types of each (schema, table,
  // selection) are worked out once. Keyed by the schema object, so an evolved
  // schema (a new object) gets a new plan and a dropped one frees its plans.
  const readPlans = new WeakMap<FeatureGroupSchema, Map<string, ReadPlan>>();
  function readPlan(table: OnlineTable, requested: readonly string[] | undefined): ReadPlan {
    // Not tableName(): its slug and hash cost more than the read's own work.
    const key = `${table.project}\u0000${table.featureGroup}\u0000${table.version}\u0000${requested?.join("\u0000") ?? "*"}`;
    let plans = readPlans.get(table.schema);
    if (!plans) readPlans.set(table.schema, (plans = new Map()));
    let plan = plans.get(key);
    if (!plan) {
      const { schema } = table;
      const features = selectedFeatures(schema, requested);
      // Named columns, never `*`: a prepared `SELECT *` can keep stale result
      // metadata after ALTER TABLE ADD on older Cassandra versions.
      const names = [...new Set([...schema.primaryKey, schema.eventTime, ...features])];
      const select = `SELECT ${names.map(q).join(", ")} FROM ${qualified(table)} WHERE`;
      // Rows of an IN read are matched to keys by value (key types all read
      // back exactly); Cassandra 2.1 has no IN on a tuple of partition key columns.
      const [only] = schema.primaryKey;
      const inReadable = schema.primaryKey.length === 1;
      plan = {
        text: `${select} ${schema.primaryKey.map((k) => `${q(k)} = ?`).join(" AND ")}`,
        inText: inReadable ? `${select} ${q(only!)} IN ?` : undefined,
        features: features.map((name) => ({ name, type: featureType(schema, name) })),
        buildValues: rowBuilder(features),
        keys: schema.primaryKey.map((name) => ({ name, type: featureType(schema, name) })),
        nulls: nullValues(features),
      };
      if (plans.size >= 1_000) plans.clear(); // bound memory under ever-new selections
      plans.set(key, plan);
    }
    return plan;
  }

  async function read(table: OnlineTable, keys: readonly Row[], options: ReadOptions = {}): Promise<EntityFeatures[]> {
    const { schema } = table;
    const plan = readPlan(table, options.features);
    assertValidKeys(schema, keys);
    const now = options.now ?? new Date();
    if (plan.inText && keys.length > 1) return readMany(table, plan, keys, now);
    return forEachLimit(keys, concurrency, async (key) => {
      const result = await execute(plan.text, plan.keys.map((k) => toCql(k.type, key[k.name]!)), table);
      const raw = result.first();
      // A partition whose cells all expired can linger as a row without values.
      const eventTime = raw?.[schema.eventTime] as Date | null | undefined;
      let stored: StoredEntity | undefined;
      if (raw && eventTime) stored = { values: storedValues(plan, raw), eventTime };
      return entityResult(schema, stored, plan.nulls, now);
    });
  }

  /**
   * Many entities in few requests: each `IN` request still reads one
   * partition per entity, but the driver's per-request cost (most of a
   * 100-entity read when it was 100 requests) is paid once per chunk.
   */
  async function readMany(table: OnlineTable, plan: ReadPlan, keys: readonly Row[], now: Date): Promise<EntityFeatures[]> {
    const { schema } = table;
    const key = plan.keys[0]!;
    const unique = [...new Map(keys.map((k) => [entityKey(schema, k), k])).values()];
    const chunks: Row[][] = [];
    for (let i = 0; i < unique.length; i += maxKeysPerRequest) chunks.push(unique.slice(i, i + maxKeysPerRequest));
    const stored = new Map<string, StoredEntity>();
    await forEachLimit(chunks, concurrency, async (chunk) => {
      const result = await execute(plan.inText!, [chunk.map((k) => toCql(key.type, k[key.name]!))], table);
      for (const raw of result.rows) {
        // A partition whose cells all expired can linger as a row without values.
        const eventTime = raw[schema.eventTime] as Date | null | undefined;
        if (!eventTime) continue;
        stored.set(entityKey(schema, { [key.name]: fromCql(key.type, raw[key.name]) }), { values: storedValues(plan, raw), eventTime });
      }
    });
    return keys.map((k) => entityResult(schema, stored.get(entityKey(schema, k)), plan.nulls, now));
  }

  async function deleteKeys(table: OnlineTable, keys: readonly Row[]): Promise<void> {
    const { schema } = table;
    assertValidKeys(schema, keys);
    const featureTypes = new Map(schema.features.map((f) => [f.name, f.type]));
    const query = `DELETE FROM ${qualified(table)} USING TIMESTAMP ? WHERE ${schema.primaryKey.map((k) => `${q(k)} = ?`).join(" AND ")}`;
    // A tombstone at "now" on the event-time clock: it hides every value with
    // an event time up to now; a later write with a newer event time brings
    // the entity back. (Cassandra purges tombstones after gc_grace_seconds.)
    const deletedAt = BigInt(Date.now()) * 1000n + 999n;
    const unique = new Map(keys.map((k) => [entityKey(schema, k), k]));
    await forEachLimit([...unique.values()], concurrency, (key) =>
      execute(query, [deletedAt, ...schema.primaryKey.map((k) => toCql(featureTypes.get(k)!, key[k]!))], table),
    );
  }

  async function dropTable(table: Omit<OnlineTable, "schema">): Promise<void> {
    assertValidTable(table);
    await ensureKeyspace();
    await execute(`DROP TABLE IF EXISTS ${qualified(table)}`);
    logger.info("online table dropped", { table: tableName(table), project: table.project, featureGroup: table.featureGroup, version: table.version });
  }

  return {
    ensureTable,
    upsert,
    read,
    deleteKeys,
    dropTable,
    // Cells carry their own TTL; Cassandra removes them itself.
    sweepExpired: async () => 0,
    async ping() {
      await execute("SELECT release_version FROM system.local");
    },
    async close() {
      await client.shutdown();
    },
  };
}

function lowerCamel(name: ConsistencyName): keyof typeof types.consistencies {
  return name.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof typeof types.consistencies;
}

/** Driver errors → domain errors: outages are UNAVAILABLE, a dropped table NOT_FOUND. */
function translate(err: unknown, table?: Omit<OnlineTable, "schema">): unknown {
  if (err instanceof errors.NoHostAvailableError || err instanceof errors.OperationTimedOutError) {
    return new UnavailableError("the Cassandra online store is unavailable", { cause: err });
  }
  if (err instanceof errors.ResponseError) {
    const codes = types.responseErrorCodes;
    if ([codes.unavailableException, codes.overloaded, codes.isBootstrapping, codes.readTimeout, codes.writeTimeout].includes(err.code)) {
      return new UnavailableError("the Cassandra online store is unavailable", { cause: err });
    }
    // 2.1 says "unconfigured columnfamily", 3.x+ "unconfigured table", Scylla "unconfigured table".
    if (table && err.code === codes.invalid && /unconfigured (columnfamily|table)|Keyspace .* does not exist/i.test(err.message)) {
      return new NotFoundError("online table", describeTable(table));
    }
  }
  return err;
}

/** Runs `work` on every item with at most `limit` in flight; results in input order. */
async function forEachLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function toCql(type: FeatureType, value: Value): unknown {
  if (value === null) return null;
  if (value instanceof Float32Array) {
    const bytes = Buffer.alloc(value.length * 4);
    value.forEach((x, i) => bytes.writeFloatLE(x, i * 4));
    return bytes;
  }
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value) && typeof type === "object" && "array" in type && type.array === "bytes") {
    return value.map((b) => Buffer.from((b as Uint8Array).buffer, (b as Uint8Array).byteOffset, (b as Uint8Array).byteLength));
  }
  return value;
}

function fromCql(type: FeatureType, raw: unknown): Value {
  if (raw === null || raw === undefined) return null; // note: Cassandra stores an empty list as null
  if (typeof type === "string") return scalarFromCql(type, raw);
  if ("array" in type) return (raw as unknown[]).map((e) => scalarFromCql(type.array, e) as Exclude<Value, null | Float32Array | unknown[]>);
  const bytes = raw as Buffer;
  const embedding = new Float32Array(bytes.length / 4);
  for (let i = 0; i < embedding.length; i++) embedding[i] = bytes.readFloatLE(i * 4);
  return embedding;
}

function scalarFromCql(type: ScalarType, raw: unknown): Value {
  if (type === "bytes") return new Uint8Array(raw as Buffer); // a copy: driver Buffers share the frame
  if (type === "int64" && typeof raw !== "bigint") return BigInt(String(raw));
  return raw as Value;
}
