// GetFeatureView over gRPC (grpc-js client → registry → Postgres) beside a raw
// `pg` SELECT of the same row, in the same run: latency p50/p99 one call at a
// time, then throughput with a fixed number of calls in flight.
//   npx tsx --conditions=source bench/registry/main.ts
// Loopback Postgres (FTI_TEST_DATABASE_URL or 127.0.0.1:5432) and NATS
// (FTI_TEST_NATS_URL or 127.0.0.1:4222). The registry runs in this process,
// built with build() on port 0 against its own schema, dropped at the end.
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { jetstreamManager } from "@nats-io/jetstream";
import { createPool, loadMigrations, migrate } from "@fti/db";
import { connectNats } from "@fti/events";
import { silentLogger } from "@fti/logger";
import { ScalarType } from "@fti/proto/fti/common/v1/types_pb";
import { FeatureGroupSchema } from "@fti/proto/fti/registry/v1/feature_group_pb";
import { FeatureViewSchema } from "@fti/proto/fti/registry/v1/feature_view_pb";
import { GetFeatureViewRequestSchema, GetFeatureViewResponseSchema, RegistryService } from "@fti/proto/fti/registry/v1/registry_pb";
import { HealthCheckRequestSchema, HealthCheckResponseSchema } from "@fti/proto/grpc/health/v1/health_pb";
import { build } from "@fti/registry/server";

const databaseUrl = process.env.FTI_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const natsUrl = process.env.FTI_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const warmup = 500;
const latencyCalls = 3_000;
const throughputCalls = 20_000;
const inFlight = 32;

const id = randomBytes(4).toString("hex");
const schema = `registry_bench_${id}`;
const pool = createPool({ connectionString: databaseUrl, schema, max: 10, logger: silentLogger });
await migrate(pool, { schema, migrations: await loadMigrations(fileURLToPath(new URL("../../services/registry/migrations", import.meta.url))), logger: silentLogger });
const nats = await connectNats({ url: natsUrl, name: "registry-bench", logger: silentLogger });
const stream = `BENCH_REGISTRY_${id}`;
const built = build({ pool, nats, logger: silentLogger, eventStream: stream, eventSubjectPrefix: `bench.registry.${id}.events` });
const server = await built.listen({ host: "127.0.0.1", grpcPort: 0, webPort: 0 });

// A realistic view: a 20-feature root group joined to a second group.
const registry = built.registry;
const scalar = (name: string, type: ScalarType) => ({ name, type: { kind: { case: "scalar" as const, value: type } } });
await registry.createProject("bench", undefined);
await registry.createFeatureGroup("projects/bench", "transactions", create(FeatureGroupSchema, {
  schema: { features: [scalar("account_id", ScalarType.STRING), scalar("ts", ScalarType.TIMESTAMP), scalar("merchant_id", ScalarType.INT64), ...Array.from({ length: 20 }, (_, i) => scalar(`f${i}`, ScalarType.DOUBLE))] },
  primaryKey: ["account_id"],
  eventTime: "ts",
}));
await registry.createFeatureGroup("projects/bench", "merchants", create(FeatureGroupSchema, {
  schema: { features: [scalar("merchant_id", ScalarType.INT64), scalar("ts", ScalarType.TIMESTAMP), scalar("risk", ScalarType.DOUBLE)] },
  primaryKey: ["merchant_id"],
  eventTime: "ts",
}));
const view = await registry.createFeatureView("projects/bench", "scoring", create(FeatureViewSchema, {
  root: { featureGroup: "projects/bench/featureGroups/transactions/versions/1" },
  joins: [{ selection: { featureGroup: "projects/bench/featureGroups/merchants/versions/1", prefix: "merchant_" }, keys: [{ left: "merchant_id", right: "merchant_id" }] }],
}));

// The gRPC call as any grpc-js client makes it.
const client = new grpc.Client(server.grpcAddress, grpc.credentials.createInsecure());
const method = RegistryService.method.getFeatureView;
const path = `/${RegistryService.typeName}/${method.name}`;
const request = create(GetFeatureViewRequestSchema, { name: view.name });
const serialize = (r: typeof request) => Buffer.from(toBinary(GetFeatureViewRequestSchema, r));
const deserialize = (b: Buffer) => fromBinary(GetFeatureViewResponseSchema, b);
const viaGrpc = () =>
  new Promise<void>((resolve, reject) => {
    client.makeUnaryRequest(path, serialize, deserialize, request, (err, res) => (err ? reject(err) : res?.featureView?.name === view.name ? resolve() : reject(new Error("wrong view"))));
  });
// The transport floor: a unary call that touches neither Postgres nor the registry.
const healthRequest = create(HealthCheckRequestSchema, {});
const viaHealth = () =>
  new Promise<void>((resolve, reject) => {
    client.makeUnaryRequest("/grpc.health.v1.Health/Check", (r: typeof healthRequest) => Buffer.from(toBinary(HealthCheckRequestSchema, r)), (b: Buffer) => fromBinary(HealthCheckResponseSchema, b), healthRequest, (err) => (err ? reject(err) : resolve()));
  });
// The same row read with pg directly, on the same pool, and decoded.
const viaPg = async () => {
  const { rows } = await pool.query<{ body: Buffer }>("SELECT body FROM resources WHERE name = $1 AND kind = $2", [view.name, "feature_view"]);
  if (fromBinary(FeatureViewSchema, rows[0]!.body).name !== view.name) throw new Error("wrong view");
};

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function latency(): Promise<{ grpc: number[]; pg: number[] }> {
  for (let i = 0; i < warmup; i++) {
    await viaGrpc();
    await viaPg();
  }
  const out = { grpc: [] as number[], pg: [] as number[] };
  // Alternate so drift (GC, CPU frequency) hits both alike.
  for (let i = 0; i < latencyCalls; i++) {
    let t = performance.now();
    await viaGrpc();
    out.grpc.push(performance.now() - t);
    t = performance.now();
    await viaPg();
    out.pg.push(performance.now() - t);
  }
  out.grpc.sort((a, b) => a - b);
  out.pg.sort((a, b) => a - b);
  return out;
}

async function throughput(call: () => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < throughputCalls) await call();
    }),
  );
  return throughputCalls / ((performance.now() - started) / 1000);
}

try {
  const l = await latency();
  const grpcRate = await throughput(viaGrpc);
  const pgRate = await throughput(viaPg);
  const healthRate = await throughput(viaHealth);
  const ms = (x: number) => x.toFixed(3).padStart(7);
  console.log(`GetFeatureView (${view.outputSchema?.features.length} output columns, ${latencyCalls} sequential calls, then ${throughputCalls} with ${inFlight} in flight; pool max 10)`);
  console.log(`  gRPC (grpc-js → registry → pg)  p50 ${ms(percentile(l.grpc, 50))} ms  p99 ${ms(percentile(l.grpc, 99))} ms  ${grpcRate.toFixed(0).padStart(6)} calls/s`);
  console.log(`  raw pg SELECT + decode          p50 ${ms(percentile(l.pg, 50))} ms  p99 ${ms(percentile(l.pg, 99))} ms  ${pgRate.toFixed(0).padStart(6)} calls/s`);
  console.log(`  gRPC Health/Check (no database; client and server share this process)              ${healthRate.toFixed(0).padStart(6)} calls/s`);
  console.log(`  ratio gRPC / raw                p50 ${(percentile(l.grpc, 50) / percentile(l.pg, 50)).toFixed(2)}×       p99 ${(percentile(l.grpc, 99) / percentile(l.pg, 99)).toFixed(2)}×      throughput ${(grpcRate / pgRate).toFixed(2)}×`);
} finally {
  client.close();
  await server.shutdown(1_000);
  await (await jetstreamManager(nats)).streams.delete(stream).catch(() => {});
  await nats.close();
  await pool.query(`DROP SCHEMA ${schema} CASCADE`);
  await pool.end();
}
