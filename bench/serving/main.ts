// Online serving latency under open-loop load, beside the raw online-store
// read and the raw onnxruntime call measured in the same run.
//   npx tsx --conditions=source bench/serving/main.ts
// Loopback: the server (with a registry) runs in this process, the load
// generator (bench/serving/load-client.mjs) in a child process so this
// process's CPU time is the server's. Postgres (FTI_TEST_DATABASE_URL or
// 127.0.0.1:5432), NATS (127.0.0.1:4222) and Cassandra (FTI_TEST_CASSANDRA, or
// a 2.1 test node started here). Targets: 1 entity × 50 features from 2 groups
// at 2k rps p99 ≤ 2 ms (Postgres); 100 entities per call p99 ≤ 15 ms; Predict
// with a 100-tree GBDT at 1k rps p99 ≤ 3 ms. BENCH_SECONDS sets each run's length.
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { create, toBinary } from "@bufbuild/protobuf";
import { createCassandraOnlineStore, type OnlineStore, type OnlineTable } from "@fti/online-store";
import { treeEnsembleModel, type Tree, type TreeNode } from "@fti/onnx";
import { ScalarType } from "@fti/proto/fti/common/v1/types_pb";
import { TensorDataType } from "@fti/proto/fti/registry/v1/model_pb";
import { GetFeatureVectorsRequestSchema, OnlineServingService, PredictRequestSchema } from "@fti/proto/fti/serving/v1/serving_pb";
import { recordBatchMessage } from "@fti/record-batch";
import type { Row } from "@fti/schema";
import { startCassandraTestServer } from "@fti/testkit/cassandra";
import { createGroup, createProject, createReadyDataset, createView, registerModel, rpc, startServing, type ServingHarness } from "../../services/online-serving/test/harness.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
/** BENCH_RATE_SCALE=0.25 runs every case at a quarter of its target rate (to find the knee on a busy machine). */
const rateScale = Number(process.env.BENCH_RATE_SCALE ?? 1);
/** BENCH_CASES=single,batch,predict runs only those cases. */
const cases = new Set((process.env.BENCH_CASES ?? "single,batch,predict").split(","));
/** BENCH_CPU_PROFILE=<dir> writes a .cpuprofile of this (the server's) process per case, load phase only. */
const profileDir = process.env.BENCH_CPU_PROFILE;
const entityCount = 1_000;
const featuresPerGroup = 25;
const project = "bench";

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}
const ms = (x: number) => x.toFixed(3).padStart(7);

/** Open-loop load from the child process; returns latency percentiles and this process's CPU per request. */
async function load(address: string, method: "GetFeatureVectors" | "Predict", requests: Uint8Array[], targetRate: number, profileName: string) {
  const rate = Math.max(1, Math.round(targetRate * rateScale));
  const child = fork(fileURLToPath(new URL("./load-client.mjs", import.meta.url)), { cwd: fileURLToPath(new URL("../..", import.meta.url)) });
  const profiler = profileDir ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post("Profiler.enable");
    await profiler.post("Profiler.start");
  }
  const cpuBefore = process.cpuUsage();
  const warmupMs = 2_000;
  const result = await new Promise<{ latencies: number[]; errors: number; firstError?: string; sent: number; seconds: number }>((resolve, reject) => {
    child.once("message", (m) => resolve(m as never));
    child.once("error", reject);
    child.send({ address, path: `/${OnlineServingService.typeName}/${method}`, requests: requests.map((r) => Buffer.from(r).toString("base64")), rate, durationMs: seconds * 1_000, warmupMs });
  });
  const cpu = process.cpuUsage(cpuBefore);
  child.kill();
  if (profiler) {
    const { profile } = await profiler.post("Profiler.stop");
    await writeFile(`${profileDir}/${profileName}.cpuprofile`, JSON.stringify(profile));
    profiler.disconnect();
  }
  const sorted = result.latencies.sort((a, b) => a - b);
  const totalSent = result.sent + Math.floor((rate * warmupMs) / 1000);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    achieved: result.sent / result.seconds,
    errors: result.errors,
    firstError: result.firstError,
    cpuMicrosPerRequest: (cpu.user + cpu.system) / totalSent,
  };
}

/** Closed-loop latency of an in-process call (the baselines). */
async function baseline(call: () => Promise<unknown>, iterations = 3_000) {
  for (let i = 0; i < 300; i++) await call();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await call();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

function line(name: string, rate: number, r: Awaited<ReturnType<typeof load>>, base: { name: string; p50: number; p99: number }[], target: string) {
  const baselines = base.map((b) => `${b.name} p50 ${ms(b.p50)} p99 ${ms(b.p99)}`).join(" | ");
  console.log(
    `${name.padEnd(44)} ${String(Math.round(rate * rateScale)).padStart(5)} rps (got ${r.achieved.toFixed(0)}) p50 ${ms(r.p50)} p99 ${ms(r.p99)} p99.9 ${ms(r.p999)} ms  errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ""}  cpu ${r.cpuMicrosPerRequest.toFixed(0)} µs/req  [${target}]  | ${baselines}`,
  );
}

/** A random depth-`depth` regression tree over `features` inputs. */
function randomTree(features: number, depth: number): Tree {
  const nodes: TreeNode[] = [];
  const grow = (level: number): number => {
    const index = nodes.length;
    if (level === depth) {
      nodes.push({ leaf: Math.random() - 0.5 });
      return index;
    }
    nodes.push({ leaf: 0 }); // replaced below once the children exist
    const left = grow(level + 1);
    const right = grow(level + 1);
    nodes[index] = { feature: Math.floor(Math.random() * features), threshold: Math.random() * 100, left, right };
    return index;
  };
  grow(0);
  return { nodes };
}

/** Two 25-feature groups joined on the entity key, a view over all 50, a GBDT deployment. */
async function setUp(h: ServingHarness, withModel: boolean) {
  await createProject(h, project);
  const scalar = (name: string, type: ScalarType) => ({ name, type: { kind: { case: "scalar" as const, value: type } } });
  const featureNames = Array.from({ length: featuresPerGroup }, (_, i) => `f${String(i).padStart(2, "0")}`);
  const group = (id: string) =>
    createGroup(h, project, id, { schema: { features: [scalar("entity_id", ScalarType.INT64), scalar("ts", ScalarType.TIMESTAMP), ...featureNames.map((f) => scalar(f, ScalarType.DOUBLE))] }, primaryKey: ["entity_id"], eventTime: "ts" });
  const a = await group("profile");
  const b = await group("activity");
  const rows = (offset: number): Row[] => Array.from({ length: entityCount }, (_, i) => ({ entity_id: BigInt(i), ts: new Date(), ...Object.fromEntries(featureNames.map((f, j) => [f, (i * 7 + j * 13 + offset) % 100])) }));
  await h.store.upsert(a, rows(0));
  await h.store.upsert(b, rows(50));
  const view = await createView(h, project, "scoring", { root: { featureGroup: a.name }, joins: [{ selection: { featureGroup: b.name, prefix: "b_" }, keys: [{ left: "entity_id", right: "entity_id" }] }] });
  const outputs = [...featureNames, ...featureNames.map((f) => `b_${f}`)];
  let deployment = "";
  let gbdt: Uint8Array | undefined;
  if (withModel) {
    const dataset = await createReadyDataset(h, view.name, {}, []);
    gbdt = treeEnsembleModel({ kind: "regressor", features: outputs.length, baseScore: 0, learningRate: 0.1, trees: Array.from({ length: 100 }, () => randomTree(outputs.length, 4)) });
    const model = await registerModel(h, project, "gbdt", gbdt, {
      trainingDataset: dataset.name,
      inputs: [{ name: "features", dataType: TensorDataType.FLOAT, shape: [-1n, BigInt(outputs.length)], features: outputs }],
      outputs: [{ name: "prediction", dataType: TensorDataType.FLOAT, shape: [-1n, 1n] }],
    });
    deployment = (await h.registry.call(rpc.createDeployment, { parent: `projects/${project}`, deploymentId: "gbdt", deployment: { routes: [{ model: model.name, weight: 100 }] }, reason: "bench" })).deployment!.name;
  }
  return { tables: [a, b] as OnlineTable[], view: view.name, deployment, gbdt };
}

const entityBatch = (ids: number[]) => recordBatchMessage(ids.length, [{ name: "entity_id", type: "int64", values: ids.map(BigInt) }]);
const pick = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * entityCount));

async function runStore(label: string, h: ServingHarness, withModel: boolean) {
  const s = await setUp(h, withModel);
  const address = h.server.grpcAddress;
  const vectorRequests = (n: number) => Array.from({ length: 500 }, () => toBinary(GetFeatureVectorsRequestSchema, create(GetFeatureVectorsRequestSchema, { target: { case: "featureView", value: s.view }, entities: entityBatch(pick(n)) })));
  const rawRead = (n: number) => () => {
    const keys = pick(n).map((i) => ({ entity_id: BigInt(i) }));
    return Promise.all(s.tables.map((t) => h.store.read(t, keys)));
  };

  if (cases.has("single")) {
    const single = await load(address, "GetFeatureVectors", vectorRequests(1), 2_000, `${label}-single`);
    line(`${label}: GetFeatureVectors 1 entity × 50 (2 groups)`, 2_000, single, [{ name: "raw store read (2 groups)", ...(await baseline(rawRead(1))) }], "p99 ≤ 2 ms");
  }
  if (cases.has("batch")) {
    const batch = await load(address, "GetFeatureVectors", vectorRequests(100), 200, `${label}-batch`);
    line(`${label}: GetFeatureVectors 100 entities × 50`, 200, batch, [{ name: "raw store read (2 groups)", ...(await baseline(rawRead(100), 1_000)) }], "p99 ≤ 15 ms");
  }

  if (withModel && cases.has("predict")) {
    const predictRequests = Array.from({ length: 500 }, () => toBinary(PredictRequestSchema, create(PredictRequestSchema, { deployment: s.deployment, entities: entityBatch(pick(1)) })));
    const predict = await load(address, "Predict", predictRequests, 1_000, `${label}-predict`);
    const session = await ort.InferenceSession.create(s.gbdt!, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const input = new ort.Tensor("float32", Float32Array.from({ length: 50 }, () => Math.random() * 100), [1, 50]);
    line(`${label}: Predict, 100-tree GBDT, 1 entity`, 1_000, predict, [
      { name: "raw onnxruntime run", ...(await baseline(() => session.run({ features: input }))) },
      { name: "raw store read (2 groups)", ...(await baseline(rawRead(1))) },
    ], "p99 ≤ 3 ms");
    await session.release();
  }
}

async function main() {
  console.log(`online serving, open loop, ${seconds} s per run after 2 s warm-up; latency in ms from each request's scheduled send time`);
  const pgHarness = await startServing({ overrides: { predictionLog: { flushIntervalMs: 200 } } });
  try {
    await runStore("postgres", pgHarness, true);
  } finally {
    await pgHarness.close();
  }

  if (process.env.BENCH_POSTGRES_ONLY) return;
  const node = process.env.FTI_TEST_CASSANDRA ? undefined : await startCassandraTestServer();
  const contactPoint = process.env.FTI_TEST_CASSANDRA ?? `${node!.host}:${node!.port}`;
  const keyspace = `serving_bench_${randomBytes(4).toString("hex")}`;
  const store: OnlineStore = createCassandraOnlineStore({ contactPoints: [contactPoint], localDataCenter: "datacenter1", keyspace, consistency: "ONE" });
  const tables: OnlineTable[] = [];
  const cassHarness = await startServing({
    store,
    async closeStore() {
      for (const t of tables) await store.dropTable(t).catch(() => {});
      await store.close();
    },
  });
  try {
    await runStore("cassandra", cassHarness, false);
  } finally {
    await cassHarness.close();
    await node?.stop();
  }
}

await main();
