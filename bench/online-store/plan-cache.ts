// Postgres CPU per online read: the store's pool settings
// (postgresOnlineStorePoolConfig: plan_cache_mode=force_generic_plan) beside
// a pool with Postgres's defaults (plan_cache_mode=auto), the same store code
// and table, in the same run.
//   npx tsx --conditions=source bench/online-store/plan-cache.ts
// Reads the CPU of each pool's one backend from /proc, so Postgres must run on
// this machine (FTI_TEST_POSTGRES or 127.0.0.1:5432). Rounds alternate, so
// drift hits both alike.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { createPostgresOnlineStore, postgresOnlineStorePoolConfig, type OnlineTable } from "@fti/online-store";
import type { FeatureGroupSchema, Row } from "@fti/schema";
import { processCpuSeconds } from "../process-cpu.js";

const connectionString = process.env.FTI_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/postgres";
const entityCount = 1_000;
const readsPerRound = 2_000;
const rounds = 5;

const schema: FeatureGroupSchema = {
  primaryKey: ["id"],
  eventTime: "ts",
  features: [{ name: "id", type: "int64" }, { name: "ts", type: "timestamp" }, ...Array.from({ length: 25 }, (_, i) => ({ name: `f${i}`, type: "double" as const }))],
};
const table: OnlineTable = { project: "bench", featureGroup: "plans", version: 1, schema };
const rows: Row[] = Array.from({ length: entityCount }, (_, i) => ({ id: BigInt(i), ts: new Date(), ...Object.fromEntries(schema.features.slice(2).map((f, j) => [f.name, i + j])) }));

async function reader(label: string, config: pg.PoolConfig, pgSchema: string) {
  const pool = new pg.Pool({ ...config, max: 1 });
  const store = createPostgresOnlineStore({ pool, schema: pgSchema });
  const pid = (await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
  let cpuMs = 0;
  let wallMs = 0;
  let reads = 0;
  return {
    label,
    store,
    async round() {
      const cpu0 = processCpuSeconds(pid);
      const t0 = performance.now();
      for (let i = 0; i < readsPerRound; i++) await store.read(table, [{ id: BigInt(Math.floor(Math.random() * entityCount)) }]);
      wallMs += performance.now() - t0;
      cpuMs += (processCpuSeconds(pid) - cpu0) * 1000;
      reads += readsPerRound;
    },
    report: () => ({ cpuMicros: (cpuMs * 1000) / reads, wallMicros: (wallMs * 1000) / reads }),
    async close() {
      await store.close();
      await pool.end();
    },
  };
}

async function main() {
  const pgSchema = `plan_cache_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Pool({ connectionString, max: 1 });
  const setup = createPostgresOnlineStore({ pool: admin, schema: pgSchema });
  await setup.ensureTable(table);
  await setup.upsert(table, rows);
  const store = await reader("store's pool settings (generic plans)", postgresOnlineStorePoolConfig(connectionString), pgSchema);
  const baseline = await reader("Postgres defaults (auto)", { connectionString }, pgSchema);
  try {
    console.log(`Postgres CPU per online read of 1 entity × 27 columns, ${rounds} rounds × ${readsPerRound} reads each, alternating`);
    for (const r of [store, baseline]) for (let i = 0; i < 100; i++) await r.store.read(table, [{ id: BigInt(i) }]); // prepare, and let auto pick its plan
    for (let i = 0; i < rounds; i++) for (const r of [store, baseline]) await r.round();
    const [s, b] = [store.report(), baseline.report()];
    for (const [r, f] of [[store, s], [baseline, b]] as const) console.log(`  ${r.label.padEnd(40)} postgres ${f.cpuMicros.toFixed(0).padStart(4)} µs cpu/read   wall ${f.wallMicros.toFixed(0).padStart(4)} µs/read`);
    console.log(`  ratio (store / defaults): cpu ${(s.cpuMicros / b.cpuMicros).toFixed(2)}×, wall ${(s.wallMicros / b.wallMicros).toFixed(2)}×`);
  } finally {
    await store.close();
    await baseline.close();
    await setup.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
    await admin.end();
  }
}

await main();
