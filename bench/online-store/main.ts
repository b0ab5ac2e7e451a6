// Online read latency of each online store adapter beside the same read done
// with the raw driver in the same run (target: adapter ≤ 1.3× raw).
//   npx tsx --conditions=source bench/online-store/main.ts
// Loopback Postgres (FTI_TEST_POSTGRES or 127.0.0.1:5432) and Cassandra
// (FTI_TEST_CASSANDRA, or a 2.1 test node started here). Bounded iterations;
// adapter and raw reads alternate so drift hits both alike.
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import pg from "pg";
import { createCassandraOnlineStore, createPostgresOnlineStore, tableName, type OnlineStore, type OnlineTable } from "@fti/online-store";
import type { FeatureGroupSchema, Row } from "@fti/schema";
import { startCassandraTestServer } from "@fti/testkit/cassandra";

// The online store's own cassandra-driver (4.x), not whatever the root resolves.
const cassandra = createRequire(new URL("../../libs/online-store/package.json", import.meta.url))("cassandra-driver") as typeof import("cassandra-driver");

const featureCount = 50;
const entityCount = 1_000;
const batchSize = 100;
const warmup = 200;
const iterations = { single: 3_000, batch: 500 };

const schema: FeatureGroupSchema = {
  primaryKey: ["account_id"],
  eventTime: "ts",
  features: [
    { name: "account_id", type: "string" },
    { name: "ts", type: "timestamp" },
    ...Array.from({ length: featureCount - 2 }, (_, i) => ({ name: `f${String(i).padStart(2, "0")}`, type: "double" as const })),
  ],
};
const table: OnlineTable = { project: "bench", featureGroup: "accounts", version: 1, schema };
const accountId = (i: number) => `account-${i}`;
const rows: Row[] = Array.from({ length: entityCount }, (_, i) => ({
  account_id: accountId(i),
  ts: new Date(),
  ...Object.fromEntries(schema.features.slice(2).map((f, j) => [f.name, i + j / 100])),
}));

interface Case {
  name: string;
  adapter: () => Promise<unknown>;
  raw: () => Promise<unknown>;
  iterations: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(c: Case): Promise<string> {
  for (let i = 0; i < warmup; i++) {
    await c.adapter();
    await c.raw();
  }
  const adapter: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < c.iterations; i++) {
    let t = performance.now();
    await c.adapter();
    adapter.push(performance.now() - t);
    t = performance.now();
    await c.raw();
    raw.push(performance.now() - t);
  }
  adapter.sort((a, b) => a - b);
  raw.sort((a, b) => a - b);
  const [a50, a99, r50, r99] = [percentile(adapter, 50), percentile(adapter, 99), percentile(raw, 50), percentile(raw, 99)];
  const ms = (x: number) => x.toFixed(3).padStart(8);
  return `${c.name.padEnd(34)} adapter p50 ${ms(a50)} p99 ${ms(a99)} | raw p50 ${ms(r50)} p99 ${ms(r99)} | ratio p50 ${(a50 / r50).toFixed(2)}× p99 ${(a99 / r99).toFixed(2)}×`;
}

function randomKeys(n: number): Row[] {
  return Array.from({ length: n }, () => ({ account_id: accountId(Math.floor(Math.random() * entityCount)) }));
}

async function postgresCases(): Promise<{ cases: Case[]; close: () => Promise<void> }> {
  const pgSchema = `online_bench_${randomBytes(4).toString("hex")}`;
  const pool = new pg.Pool({ connectionString: process.env.FTI_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/postgres", max: 4 });
  const store = createPostgresOnlineStore({ pool, schema: pgSchema });
  await store.ensureTable(table);
  await store.upsert(table, rows);
  await pool.query(`ANALYZE "${pgSchema}"."${tableName(table)}"`);
  // What one would write by hand against the same table and pool.
  const qualified = `"${pgSchema}"."${tableName(table)}"`;
  return {
    cases: [
      {
        name: "postgres: 1 entity × 50 features",
        iterations: iterations.single,
        adapter: () => store.read(table, randomKeys(1)),
        raw: () => pool.query(`SELECT * FROM ${qualified} WHERE account_id = $1`, [randomKeys(1)[0].account_id]),
      },
      {
        name: `postgres: ${batchSize} entities × 50 features`,
        iterations: iterations.batch,
        adapter: () => store.read(table, randomKeys(batchSize)),
        raw: () => pool.query(`SELECT * FROM ${qualified} WHERE account_id = ANY($1)`, [randomKeys(batchSize).map((k) => k.account_id)]),
      },
    ],
    close: async () => {
      await store.close();
      await pool.query(`DROP SCHEMA "${pgSchema}" CASCADE`);
      await pool.end();
    },
  };
}

async function cassandraCases(contactPoint: string): Promise<{ cases: Case[]; close: () => Promise<void> }> {
  const keyspace = `online_bench_${randomBytes(4).toString("hex")}`;
  const localDataCenter = "datacenter1";
  const store: OnlineStore = createCassandraOnlineStore({ contactPoints: [contactPoint], localDataCenter, keyspace, consistency: "ONE" });
  await store.ensureTable(table);
  await store.upsert(table, rows);
  const client = new cassandra.Client({
    contactPoints: [contactPoint],
    localDataCenter,
    queryOptions: { consistency: cassandra.types.consistencies.one, prepare: true },
  });
  await client.connect();
  const select = `SELECT * FROM "${keyspace}"."${tableName(table)}" WHERE account_id = ?`;
  const rawRead = (keys: Row[]) => Promise.all(keys.map((k) => client.execute(select, [k.account_id], { prepare: true })));
  return {
    cases: [
      {
        name: "cassandra: 1 entity × 50 features",
        iterations: iterations.single,
        adapter: () => store.read(table, randomKeys(1)),
        raw: () => rawRead(randomKeys(1)),
      },
      {
        name: `cassandra: ${batchSize} entities × 50 features`,
        iterations: iterations.batch,
        adapter: () => store.read(table, randomKeys(batchSize)),
        raw: () => rawRead(randomKeys(batchSize)),
      },
    ],
    close: async () => {
      await store.close();
      await client.execute(`DROP KEYSPACE "${keyspace}"`);
      await client.shutdown();
    },
  };
}

async function main(): Promise<void> {
  console.log(`online store read latency, ms (warmup ${warmup}, ${iterations.single} single / ${iterations.batch} batch iterations)`);
  const pgBench = await postgresCases();
  try {
    for (const c of pgBench.cases) console.log(await measure(c));
  } finally {
    await pgBench.close();
  }

  const server = process.env.FTI_TEST_CASSANDRA ? undefined : await startCassandraTestServer();
  try {
    const cassBench = await cassandraCases(process.env.FTI_TEST_CASSANDRA ?? `${server!.host}:${server!.port}`);
    try {
      for (const c of cassBench.cases) console.log(await measure(c));
    } finally {
      await cassBench.close();
    }
  } finally {
    await server?.stop();
  }
}

await main();
