// Ingestion throughput and streaming freshness, each beside a baseline in the same run.
//
// 1. gRPC Ingest of --rows rows × 20 features (int64 key, timestamp, 18
//    doubles) in --batch-row batches, offline (Delta) + online (Postgres),
//    through the real service (validation, expectations, statistics, the
//    idempotent dual write, events), beside a raw load of the same columns:
//    DuckDB appender + COPY to Parquet, then pg COPY FROM STDIN into a table.
//    Targets: ≥ 50k rows/s and ≥ 0.5× the raw rows/s.
// 2. NATS path: rows published at --stream-rate rows/s for --stream-seconds,
//    freshness = publish → readable in the online store, p50/p99. Target p99 ≤ 100 ms.
//
//   npx tsx --conditions=source bench/ingestion/main.ts [--rows 1000000] [--batch 100000]
//
// Loopback Postgres (FTI_TEST_DATABASE_URL or 127.0.0.1:5432) and NATS; a real
// registry and ingestion server in this process; everything is dropped at the end.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import pg from "pg";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { DuckDBDataChunk, DuckDBInstance, DuckDBTimestampValue } from "@duckdb/node-api";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { createPool, loadMigrations, migrate } from "@fti/db";
import { connectNats } from "@fti/events";
import { silentLogger } from "@fti/logger";
import { createOfflineStore } from "@fti/offline-store";
import { createPostgresOnlineStore, type OnlineTable } from "@fti/online-store";
import { IngestRequestSchema, IngestResponseSchema } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import { IngestMessageSchema } from "@fti/proto/fti/ingestion/v1/stream_pb";
import { ScalarType } from "@fti/proto/fti/common/v1/types_pb";
import { RecordBatchSchema } from "@fti/proto/fti/common/v1/record_batch_pb";
import { encodeRecordBatch, withEncodedField, type TypedColumn } from "@fti/record-batch";
import { createMetadataCache, createRegistryClient } from "@fti/registry-client";
import type { FeatureGroupSchema, Value } from "@fti/schema";
import { build } from "../../services/ingestion/src/server.js";
import { rpc as registryRpc, startRegistry } from "../../services/registry/test/harness.js";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    batch: { type: "string", default: "100000" },
    concurrency: { type: "string", default: "2" },
    "stream-rate": { type: "string", default: "5000" },
    "stream-seconds": { type: "string", default: "10" },
  },
});
const rowCount = Number(args.rows);
const batchRows = Math.min(Number(args.batch), rowCount);
const concurrency = Number(args.concurrency);
const streamRate = Number(args["stream-rate"]);
const streamSeconds = Number(args["stream-seconds"]);
const databaseUrl = process.env.FTI_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const natsUrl = process.env.FTI_TEST_NATS_URL ?? "nats://127.0.0.1:4222";

const doubles = Array.from({ length: 18 }, (_, i) => `f${String(i).padStart(2, "0")}`);
const schema: FeatureGroupSchema = {
  features: [{ name: "account_id", type: "int64" }, { name: "ts", type: "timestamp" }, ...doubles.map((name) => ({ name, type: "double" as const }))],
  primaryKey: ["account_id"],
  eventTime: "ts",
};
const t0 = Date.UTC(2024, 0, 1);

function columns(offset: number, n: number): TypedColumn[] {
  return [
    { name: "account_id", type: "int64", values: Array.from({ length: n }, (_, i) => BigInt(offset + i)) },
    { name: "ts", type: "timestamp", values: Array.from({ length: n }, (_, i) => new Date(t0 + (offset + i) * 10)) },
    ...doubles.map((name, j): TypedColumn => ({ name, type: "double", values: Array.from({ length: n }, (_, i) => ((offset + i) * (j + 1)) % 1000 / 7) })),
  ];
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const id = `${process.pid}`;

// ---- setup: registry, ingestion service, a feature group ----
const registry = await startRegistry();
const project = `bench_${id}`;
await registry.call(registryRpc.createProject, { projectId: project, project: {} });
const group = (
  await registry.call(registryRpc.createFeatureGroup, {
    parent: `projects/${project}`,
    featureGroupId: "accounts",
    featureGroup: {
      schema: { features: schema.features.map((f) => ({ name: f.name, type: { kind: { case: "scalar" as const, value: f.type === "int64" ? ScalarType.INT64 : f.type === "timestamp" ? ScalarType.TIMESTAMP : ScalarType.DOUBLE } } })) },
      primaryKey: ["account_id"],
      eventTime: "ts",
      onlineEnabled: true,
      expectations: [{ name: "f00_in_range", feature: "f00", kind: { case: "range", value: { min: 0, max: 1000 } } }],
    },
  })
).featureGroup!.name;
const dbSchema = `bench_ingestion_${id}`;
const onlineSchema = `bench_online_${id}`;
const pool = createPool({ connectionString: databaseUrl, schema: dbSchema, logger: silentLogger });
await migrate(pool, { schema: dbSchema, migrations: await loadMigrations(new URL("../../services/ingestion/migrations", import.meta.url).pathname), logger: silentLogger });
const nats = await connectNats({ url: natsUrl, name: "bench-ingestion", logger: silentLogger });
const offlineRoot = await mkdtemp(join(tmpdir(), "fti-bench-ingestion-"));
const offline = await createOfflineStore({ root: offlineRoot });
const online = createPostgresOnlineStore({ connectionString: databaseUrl, schema: onlineSchema });
const metadata = createMetadataCache({ registry: createRegistryClient(registry.server.grpcAddress), logger: silentLogger });
const streamPrefix = `BENCH_INGESTION_${id}`;
const subjectPrefix = `bench.ingestion.${id}`;
const server = await build({ pool, nats, logger: silentLogger, metadata, offline, online, natsStreamPrefix: streamPrefix, natsSubjectPrefix: subjectPrefix, microBatchMs: 10, maxBatchRows: Math.max(batchRows, 100_000) }).listen({ grpcPort: 0, webPort: 0 });

async function cleanup() {
  await server.shutdown(1_000);
  await metadata.close();
  offline.close();
  await online.close();
  const jsm = await jetstreamManager(nats);
  for (const s of ["EVENTS", "INGEST", "DEADLETTER"]) await jsm.streams.delete(`${streamPrefix}_${s}`).catch(() => {});
  await nats.close();
  await pool.query(`DROP SCHEMA IF EXISTS ${dbSchema} CASCADE`);
  await pool.query(`DROP SCHEMA IF EXISTS ${onlineSchema} CASCADE`);
  await pool.end();
  await rm(offlineRoot, { recursive: true, force: true });
  await registry.close();
}

async function rawDuckDB(parts: { offset: number; n: number }[], dir: string): Promise<number> {
  const duck = await DuckDBInstance.create(":memory:");
  const connection = await duck.connect();
  await connection.run("SET TimeZone = 'UTC'");
  const { mkdir } = await import("node:fs/promises");
  await mkdir(dir, { recursive: true });
  const cols = parts.map(({ offset, n }) => columns(offset, n));
  const started = performance.now();
  for (const [p, batch] of cols.entries()) {
    const table = `raw_${p}`;
    await connection.run(`CREATE TEMP TABLE ${table} (account_id BIGINT, ts TIMESTAMP, ${doubles.map((d) => `${d} DOUBLE`).join(", ")})`);
    const appender = await connection.createAppender(table);
    const types = batch.map((_, i) => appender.columnType(i));
    const n = parts[p]!.n;
    for (let start = 0; start < n; start += 2048) {
      const m = Math.min(2048, n - start);
      const chunk = DuckDBDataChunk.create(types, m);
      for (let c = 0; c < batch.length; c++) {
        const vector = chunk.getColumnVector(c);
        const values = batch[c]!.values;
        if (c === 1) for (let i = 0; i < m; i++) vector.setItem(i, new DuckDBTimestampValue(BigInt((values[start + i] as Date).getTime()) * 1000n));
        else for (let i = 0; i < m; i++) vector.setItem(i, values[start + i] as never);
        vector.flush();
      }
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
    appender.closeSync();
    await connection.run(`COPY (SELECT * REPLACE (ts::TIMESTAMPTZ AS ts) FROM ${table}) TO '${join(dir, `${p}.parquet`)}' (FORMAT parquet)`);
    await connection.run(`DROP TABLE ${table}`);
  }
  const seconds = (performance.now() - started) / 1000;
  connection.closeSync();
  duck.closeSync();
  return seconds;
}

/** COPY ... FROM STDIN with the pg driver alone (what pg-copy-streams does, inlined). */
class CopyFromStdin {
  private callback: (err?: Error) => void = () => {};
  readonly done: Promise<void>;
  constructor(readonly text: string, private readonly chunks: Buffer[]) {
    this.done = new Promise((resolve, reject) => (this.callback = (err) => (err ? reject(err) : resolve())));
  }
  submit(connection: { query(text: string): void }) {
    connection.query(this.text);
  }
  handleCopyInResponse(connection: { sendCopyFromChunk(b: Buffer): void; endCopyFrom(): void }) {
    for (const c of this.chunks) connection.sendCopyFromChunk(c);
    connection.endCopyFrom();
  }
  handleCommandComplete() {}
  handleReadyForQuery() {
    this.callback();
  }
  handleError(err: Error) {
    this.callback(err);
  }
}

async function rawPgCopy(parts: { offset: number; n: number }[]): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const table = `${dbSchema}.raw_copy`;
  await client.query(`CREATE TABLE ${table} (account_id bigint PRIMARY KEY, ts timestamptz NOT NULL, ${doubles.map((d) => `${d} double precision`).join(", ")})`);
  const cols = parts.map(({ offset, n }) => columns(offset, n));
  const started = performance.now();
  for (const [p, batch] of cols.entries()) {
    const n = parts[p]!.n;
    const chunks: Buffer[] = [];
    let lines: string[] = [];
    for (let i = 0; i < n; i++) {
      let line = `${batch[0]!.values[i]}\t${(batch[1]!.values[i] as Date).toISOString()}`;
      for (let c = 2; c < batch.length; c++) line += `\t${batch[c]!.values[i] as number}`;
      lines.push(line);
      if (lines.length === 10_000) {
        chunks.push(Buffer.from(lines.join("\n") + "\n"));
        lines = [];
      }
    }
    if (lines.length) chunks.push(Buffer.from(lines.join("\n") + "\n"));
    const copy = new CopyFromStdin(`COPY ${table} FROM STDIN`, chunks);
    await client.query(copy as never);
    await copy.done;
  }
  const seconds = (performance.now() - started) / 1000;
  await client.end();
  return seconds;
}

async function streamFreshness() {
  const messagesPerSecond = 100;
  const rowsPerMessage = Math.max(1, Math.round(streamRate / messagesPerSecond));
  const total = messagesPerSecond * streamSeconds;
  console.log(`NATS: ${fmt(rowsPerMessage * messagesPerSecond)} rows/s (${messagesPerSecond} messages of ${rowsPerMessage} rows) for ${streamSeconds} s`);
  const js = jetstream(nats);
  const subject = `${subjectPrefix}.ingest.${project}.accounts.1`;
  const table: OnlineTable = { project, featureGroup: "accounts", version: 1, schema };
  const base = 10_000_000;
  const published = new Map<number, number>(); // message → publish time
  const latencies: number[] = [];
  let polling = true;
  let deadline = Infinity;
  const poller = (async () => {
    while (polling || published.size) {
      const waiting = [...published.keys()];
      if (waiting.length) {
        const keys = waiting.map((m) => ({ account_id: BigInt(base + m * rowsPerMessage + rowsPerMessage - 1) }));
        const read = await online.read(table, keys);
        const now = performance.now();
        read.forEach((e, i) => {
          if (e.status !== "PRESENT") return;
          latencies.push(now - published.get(waiting[i]!)!);
          published.delete(waiting[i]!);
        });
      }
      await new Promise((r) => setTimeout(r, 2));
      if (!polling && performance.now() > deadline) break;
    }
  })();
  const start = performance.now();
  for (let m = 0; m < total; m++) {
    const due = start + (m * 1000) / messagesPerSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const offset = base + m * rowsPerMessage;
    const now = Date.now();
    const cols = columns(offset, rowsPerMessage);
    cols[1] = { ...cols[1]!, values: Array.from({ length: rowsPerMessage }, () => new Date(now)) };
    const h = natsHeaders();
    h.set("Nats-Msg-Id", `bench-${m}`);
    const data = toBinary(IngestMessageSchema, create(IngestMessageSchema, { rows: fromBinary(RecordBatchSchema, encodeRecordBatch(rowsPerMessage, cols)) }));
    published.set(m, performance.now());
    void js.publish(subject, data, { headers: h });
  }
  polling = false;
  deadline = performance.now() + 10_000;
  await poller;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
  console.log(`  freshness (publish → readable online): p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms over ${latencies.length}/${total} messages (target p99 ≤ 100 ms)`);
  console.log(`  baseline: a pg INSERT ON CONFLICT of one message's rows: ${(await singleUpsertMs(rowsPerMessage)).toFixed(1)} ms`);
}

/** The floor of freshness: one direct online upsert of a message's rows. */
async function singleUpsertMs(rows: number): Promise<number> {
  const table: OnlineTable = { project, featureGroup: "accounts", version: 1, schema };
  const times: number[] = [];
  for (let k = 0; k < 50; k++) {
    const cols = columns(20_000_000 + k * rows, rows);
    const batch = Array.from({ length: rows }, (_, i) => Object.fromEntries(cols.map((c) => [c.name, c.values[i] as Value])));
    const t = performance.now();
    await online.upsert(table, batch);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

// Runs after every declaration above is initialized.
try {
  // ---- 1. throughput ----
  console.log(`ingest ${fmt(rowCount)} rows × ${schema.features.length} features in batches of ${fmt(batchRows)}, ${concurrency} in flight`);
  const batches: { offset: number; n: number }[] = [];
  for (let offset = 0; offset < rowCount; offset += batchRows) batches.push({ offset, n: Math.min(batchRows, rowCount - offset) });
  // Encoding is the client's work; done up front so the service is what is measured.
  const requests = batches.map(({ offset, n }, i) => Buffer.from(toBinary(IngestRequestSchema, withEncodedField(create(IngestRequestSchema, { featureGroup: group, batchId: `bench-${i}` }), 3, encodeRecordBatch(n, columns(offset, n))))));
  const client = new grpc.Client(server.grpcAddress, grpc.credentials.createInsecure(), { "grpc.max_send_message_length": 512 * 1024 * 1024, "grpc.max_receive_message_length": 512 * 1024 * 1024 });
  const ingest = (bytes: Buffer) =>
    new Promise<void>((resolve, reject) =>
      client.makeUnaryRequest("/fti.ingestion.v1.IngestionService/Ingest", (b: Buffer) => b, (b: Buffer) => fromBinary(IngestResponseSchema, b), bytes, (err) => (err ? reject(err) : resolve())),
    );
  const started = performance.now();
  let nextBatch = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (nextBatch < requests.length) await ingest(requests[nextBatch++]!);
  }));
  const oursSeconds = (performance.now() - started) / 1000;
  client.close();
  const oursRate = rowCount / oursSeconds;

  // Baseline: the same columns with DuckDB alone, then pg COPY alone.
  const rawDuck = await rawDuckDB(batches, join(offlineRoot, "raw"));
  const rawPg = await rawPgCopy(batches);
  const rawRate = rowCount / (rawDuck + rawPg);
  console.log(`  ingestion service (gRPC → Delta + Postgres online): ${fmt(oursRate)} rows/s (${oursSeconds.toFixed(2)} s)`);
  console.log(`  raw DuckDB appender + COPY to Parquet:              ${fmt(rowCount / rawDuck)} rows/s (${rawDuck.toFixed(2)} s)`);
  console.log(`  raw pg COPY FROM STDIN:                             ${fmt(rowCount / rawPg)} rows/s (${rawPg.toFixed(2)} s)`);
  console.log(`  raw both (sequential, as one write path):           ${fmt(rawRate)} rows/s`);
  console.log(`  ratio ${(oursRate / rawRate).toFixed(2)}× raw (target ≥ 0.5×); ${oursRate >= 50_000 ? "meets" : "misses"} 50k rows/s`);

  // ---- 2. NATS freshness ----
  await streamFreshness();
} finally {
  await cleanup();
}
