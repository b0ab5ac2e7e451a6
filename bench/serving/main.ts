// Online serving latency under open-loop load, beside the raw online-store
// read and the raw onnxruntime call measured in the same run.
//   npx tsx --conditions=source bench/serving/main.ts
// Loopback: online-serving runs as its own compiled process
// (services/online-serving/dist/main.js — run `npx tsc -b` first), configured
// through its environment to the registry, NATS subjects, online store schema
// and offline root that this process sets up; its CPU per request is read from
// /proc/<pid>/stat. The load comes from a Go process (bench/serving/loadgen,
// built on first use: Debian golang-go + golang-golang-x-net-dev); the raw
// baselines run in this one. Postgres (FTI_TEST_DATABASE_URL or
// 127.0.0.1:5432), NATS (127.0.0.1:4222) and Cassandra (FTI_TEST_CASSANDRA, or
// a 2.1 test node started here). Targets: 1 entity × 50 features from 2 groups
// at 2k rps p99 ≤ 2 ms (Postgres); 100 entities per call p99 ≤ 15 ms; Predict
// with a 100-tree GBDT at 1k rps p99 ≤ 3 ms. BENCH_SECONDS sets each run's length.
// The single-entity and Predict cases run BENCH_ROUNDS times (3), each run
// followed by one of the floor, a bare grpc-js echo server under the same load
// generator at the same rate; they print the medians and the range of p99.
import { execSync, spawn, type ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { create, toBinary } from "@bufbuild/protobuf";
import { createCassandraOnlineStore, createPostgresOnlineStore, postgresOnlineStorePoolConfig, type OnlineStore, type OnlineTable } from "@fti/online-store";
import { treeEnsembleModel, type Tree, type TreeNode } from "@fti/onnx";
import { ScalarType } from "@fti/proto/fti/common/v1/types_pb";
import { TensorDataType } from "@fti/proto/fti/registry/v1/model_pb";
import { GetFeatureVectorsRequestSchema, OnlineServingService, PredictRequestSchema } from "@fti/proto/fti/serving/v1/serving_pb";
import { EchoRequestSchema, EchoService } from "@fti/proto/fti/testing/v1/echo_pb";
import { recordBatchMessage } from "@fti/record-batch";
import type { Row } from "@fti/schema";
import { startCassandraTestServer } from "@fti/testkit/cassandra";
import { startRegistry } from "../../services/registry/test/harness.js";
import { processCpuSeconds } from "../process-cpu.js";
import { openLoop } from "./loadgen.js";
import { createGroup, createProject, createReadyDataset, createView, databaseUrl, registerModel, rpc, type ServingHarness } from "../../services/online-serving/test/harness.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
/** BENCH_RATE_SCALE=0.25 runs every case at a quarter of its target rate (to find the knee on a busy machine). */
const rateScale = Number(process.env.BENCH_RATE_SCALE ?? 1);
/** BENCH_CASES=single,batch,predict runs only those cases. */
const cases = new Set((process.env.BENCH_CASES ?? "single,batch,predict").split(","));
/** BENCH_CPU_PROFILE=<dir> writes a .cpuprofile of the server process (whole run). */
const profileDir = process.env.BENCH_CPU_PROFILE;
/** BENCH_GC_LOG=<file> appends the server's GC trace lines (with BENCH_DIAG, or BENCH_SERVER_NODE_ARGS=--trace-gc-nvp) to a file. */
/** BENCH_DIAG=1 prints the server's GC pauses, the load generator's send lateness, GC and CPU, and Postgres's CPU per case. */
const diag = !!process.env.BENCH_DIAG;
/** BENCH_NO_FLOOR=1 skips the bare-echo floor runs. */
const noFloor = !!process.env.BENCH_NO_FLOOR;
/** BENCH_ROUNDS: runs of each case (each followed by a floor run); the figures are their medians. */
const roundCount = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const root = fileURLToPath(new URL("../..", import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Server { child: ChildProcess; address: string; webPort: number; gcPauses: { kind: string; ms: number }[] }

/** online-serving as its own compiled process, configured as production is: through its environment. */
async function startServer(env: Record<string, string>): Promise<Server> {
  const grpcPort = await freePort();
  const webPort = await freePort();
  // BENCH_SERVER_NODE_ARGS: extra node flags for the server process (e.g. GC settings), space-separated.
  const nodeArgs = [...(process.env.BENCH_SERVER_NODE_ARGS?.split(" ").filter(Boolean) ?? []), ...(diag ? ["--trace-gc"] : []), ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [])];
  // BENCH_SERVER_CPUS=1 pins the server to that CPU list (taskset), e.g. one core of its own.
  const pin = process.env.BENCH_SERVER_CPUS ? ["taskset", "-c", process.env.BENCH_SERVER_CPUS] : [];
  const [command, ...commandArgs] = [...pin, process.execPath, ...nodeArgs, join(root, "services/online-serving/dist/main.js")];
  if (process.env.BENCH_GC_LOG) appendFileSync(process.env.BENCH_GC_LOG, `spawned at ${Date.now()}\n`);
  const child = spawn(command!, commandArgs, {
    cwd: root,
    env: { ...process.env, FTI_HOST: "127.0.0.1", FTI_GRPC_PORT: String(grpcPort), FTI_WEB_PORT: String(webPort), FTI_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  // Never leave the server behind (this process killed, a pipe closed under it).
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  const gcPauses: Server["gcPauses"] = [];
  let out = "";
  let warnings = 0;
  await new Promise<void>((resolve, reject) => {
    let ready = false;
    child.stdout!.on("data", (d: Buffer) => {
      out += d;
      let nl: number;
      while ((nl = out.indexOf("\n")) >= 0) {
        const text = out.slice(0, nl);
        out = out.slice(nl + 1);
        // --trace-gc: "[pid:0x..]  1234 ms: Scavenge 10.1 (12.0) -> 9.8 (13.0) MB, 1.23 / 0.00 ms  (average mu = ...) allocation failure;"
        const gc = text.match(/ms: (Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Sweep)[^,]*, ([\d.]+) \/ [\d.]+ ms/);
        if (gc) {
          gcPauses.push({ kind: gc[1]!, ms: Number(gc[2]) });
          if (process.env.BENCH_GC_LOG) appendFileSync(process.env.BENCH_GC_LOG, text + "\n");
        }
        else if (process.env.BENCH_GC_LOG && !text.startsWith("{")) appendFileSync(process.env.BENCH_GC_LOG, text + "\n");
        else if (!ready && text.includes('"listening"')) {
          ready = true;
          resolve();
        } else if (/"level":"(warn|error|fatal)"/.test(text) && ++warnings <= 3) console.error(`  [server] ${text}${warnings === 3 ? " (further warnings not shown)" : ""}`);
      }
    });
    child.once("exit", (code) => reject(new Error(`online-serving exited with ${code}`)));
  });
  return { child, address: `127.0.0.1:${grpcPort}`, webPort, gcPauses };
}

async function stopServer(server: Server) {
  const exited = new Promise((resolve) => server.child.once("exit", resolve));
  server.child.kill("SIGTERM");
  await exited;
}
const entityCount = 1_000;
const featuresPerGroup = 25;
const project = "bench";

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}
const ms = (x: number) => x.toFixed(3).padStart(7);

/**
 * The server's own histogram of time in the handler (from the decoded request
 * to the response handed to grpc-js) for `method`: count per bucket bound.
 * Beside the client's percentiles it tells the tail inside the handler (store
 * round trip, event-loop turns) from the tail in transport and scheduling.
 */
async function handlerTimes(server: Server, method: string): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${server.webPort}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = line.match(/^fti_rpc_duration_seconds_bucket\{(.*)\} (\d+)/);
    if (!m || !m[1]!.includes(`/${method}"`)) continue;
    const le = m[1]!.match(/le="([^"]+)"/)![1]!;
    counts.set(le, (counts.get(le) ?? 0) + Number(m[2])); // summed over status codes
  }
  for (const le of ["0.001", "0.0025", "0.005", "+Inf"]) counts.set(le, counts.get(le) ?? 0);
  return counts;
}
const pct = (part: number, whole: number) => `${whole ? ((100 * part) / whole).toFixed(2) : "0"}%`;

/** Open-loop load from the Go load generator; latency percentiles, and the server's CPU per request. */
async function load(server: Server, method: "GetFeatureVectors" | "Predict", requests: Uint8Array[], targetRate: number, profileName: string) {
  const rate = Math.max(1, Math.round(targetRate * rateScale));
  const warmupSeconds = 2;
  const cpuBefore = processCpuSeconds(server.child.pid!);
  server.gcPauses.length = 0;
  // Postgres's CPU (BENCH_DIAG): every postgres process on the machine, by pid
  // (a backend that exits meanwhile takes its CPU with it; one that starts counts from 0).
  const pgSeconds = () => {
    const byPid = new Map<string, number>();
    for (const pid of execSync("pgrep -x postgres || true").toString().split(/\s+/).filter(Boolean)) {
      try {
        byPid.set(pid, processCpuSeconds(Number(pid)));
      } catch {
        // exited between pgrep and /proc
      }
    }
    return byPid;
  };
  const pg0 = diag ? pgSeconds() : new Map<string, number>();
  const handler0 = diag ? await handlerTimes(server, method) : undefined;
  const result = await openLoop({ address: server.address, method: `/${OnlineServingService.typeName}/${method}`, bodies: requests, rate, seconds, warmupSeconds });
  const cpu = processCpuSeconds(server.child.pid!) - cpuBefore;
  const pgCpu = diag ? [...pgSeconds()].reduce((sum, [pid, after]) => sum + after - (pg0.get(pid) ?? 0), 0) : 0;
  if (diag) {
    const byKind = new Map<string, number[]>();
    for (const g of server.gcPauses) byKind.set(g.kind, [...(byKind.get(g.kind) ?? []), g.ms]);
    const gcText = [...byKind].map(([k, xs]) => `${k}: n=${xs.length} total=${xs.reduce((a, b) => a + b, 0).toFixed(1)}ms max=${Math.max(...xs).toFixed(1)}ms >5ms=${xs.filter((x) => x > 5).length}`).join("; ");
    console.log(`  [diag ${profileName}] postgres cpu ${(pgCpu / (seconds + warmupSeconds) * 100).toFixed(0)}% of a core; server cpu ${(cpu / (seconds + warmupSeconds) * 100).toFixed(0)}%; load generator cpu ${result.cpuMicrosPerCall.toFixed(0)} µs/call, sent late p99 ${result.lateP99} ms; max latency ${result.max} ms`);
    const handler = await handlerTimes(server, method);
    const inRun = (le: string) => handler.get(le)! - handler0!.get(le)!; // calls of this run at or under `le`
    const runCalls = inRun("+Inf");
    const over = (le: string) => runCalls - inRun(le);
    console.log(`  [diag ${profileName}] server-side handler time (fti_rpc_duration_seconds, incl. warm-up): >1 ms ${pct(over("0.001"), runCalls)}, >2.5 ms ${pct(over("0.0025"), runCalls)}, >5 ms ${pct(over("0.005"), runCalls)} of ${runCalls} calls`);
    console.log(`  [diag ${profileName}] server gc pauses (whole run incl. warm-up): ${gcText}`);
  }
  const totalSent = result.sent + Math.round(rate * warmupSeconds);
  return {
    p50: result.p50,
    p99: result.p99,
    p999: result.p999,
    achieved: result.sent / result.seconds,
    errors: result.errors,
    firstError: result.firstError,
    cpuMicrosPerRequest: (cpu * 1e6) / totalSent,
  };
}

/**
 * The floor of this machine and load generator: a bare grpc-js server
 * answering a tiny Echo (bench/rpc's baseline server, its own process) under
 * the same open-loop load at the same rate. No service can be faster than it.
 */
async function startEchoFloor() {
  const child = spawn(process.execPath, [...process.execArgv, join(root, "bench/rpc/servers.ts"), "bare"], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = out.match(/ready (\d+)/);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`echo server exited with ${code}`)));
  });
  const body = toBinary(EchoRequestSchema, create(EchoRequestSchema, { message: "hello" }));
  return {
    run: (rate: number) => openLoop({ address: `127.0.0.1:${port}`, method: `/${EchoService.typeName}/Echo`, bodies: [body], rate: Math.max(1, Math.round(rate * rateScale)), seconds, warmupSeconds: 2 }),
    stop: () => child.kill("SIGINT"),
  };
}

type Run = Awaited<ReturnType<typeof load>>;
const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

/**
 * `rounds` runs of a case, each followed by a run of the echo floor at the same
 * rate (unless BENCH_NO_FLOOR): one run's p99 on this shared 2-core machine
 * swings by a factor of several with what else the machine does, so the
 * figures are medians over the rounds, with the range beside them.
 */
async function rounds(run: () => Promise<Run>, rate: number) {
  const floor = noFloor ? undefined : await startEchoFloor();
  try {
    const runs: Run[] = [];
    const floors: { p50: number; p99: number }[] = [];
    for (let r = 0; r < roundCount; r++) {
      runs.push(await run());
      if (floor) floors.push(await floor.run(rate));
    }
    return { runs, floors };
  } finally {
    floor?.stop();
  }
}

/**
 * Closed-loop latency of an in-process call (the baselines). `paced`: a timer
 * of 1 ms between calls, so the CPU idles between them as it does between the
 * server's requests. On a VM whose idle vCPU halts, the same call then runs
 * 2-3× slower (its code and data are no longer in cache on wake-up); the
 * server's CPU per request carries that cost too.
 */
async function baseline(call: () => Promise<unknown>, iterations = 3_000, paced = false) {
  for (let i = 0; i < 300; i++) await call();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    if (paced) await new Promise((resolve) => setTimeout(resolve, 1));
    const t = performance.now();
    await call();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

function line(name: string, rate: number, measured: { runs: Run[]; floors: { p50: number; p99: number }[] }, base: { name: string; p50: number; p99: number }[], target: string) {
  const { runs, floors } = measured;
  const med = (pick: (r: Run) => number) => median(runs.map(pick));
  /** The median, and the range when there are several runs. */
  const spread = (xs: number[]) => (xs.length > 1 ? `${ms(median(xs))} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})` : ms(xs[0]!));
  const errors = runs.reduce((a, r) => a + r.errors, 0);
  const firstError = runs.find((r) => r.firstError)?.firstError;
  const baselines = [
    ...(floors.length ? [`bare grpc-js echo, same load p50 ${ms(median(floors.map((f) => f.p50)))} p99 ${spread(floors.map((f) => f.p99))}`] : []),
    ...base.map((b) => `${b.name} p50 ${ms(b.p50)} p99 ${ms(b.p99)}`),
  ].join(" | ");
  console.log(
    `${name.padEnd(44)} ${String(Math.round(rate * rateScale)).padStart(5)} rps (got ${med((r) => r.achieved).toFixed(0)}) p50 ${ms(med((r) => r.p50))} p99 ${spread(runs.map((r) => r.p99))} p99.9 ${ms(med((r) => r.p999))} ms  errors ${errors}${firstError ? ` (${firstError})` : ""}  cpu ${med((r) => r.cpuMicrosPerRequest).toFixed(0)} µs/req  [${target}]  | ${baselines}`,
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

/** What setUp needs of the harness: the registry, the bench's own handle on the online store, the offline root. */
type Setup = Pick<ServingHarness, "registry" | "store" | "offlineRoot">;

async function runStore(label: string, h: Setup, storeEnv: Record<string, string>, withModel: boolean) {
  const s = await setUp(h as ServingHarness, withModel);
  const server = await startServer({
    ...storeEnv,
    FTI_REGISTRY_ADDRESS: h.registry.server.grpcAddress,
    FTI_NATS_SUBJECT_PREFIX: h.registry.subjectPrefix.replace(/\.events$/, ""),
    FTI_OFFLINE_ROOT: h.offlineRoot,
    FTI_PREDICTION_LOG_FLUSH_INTERVAL_MS: "200",
  });
  try {
    const vectorRequests = (n: number) => Array.from({ length: 500 }, () => toBinary(GetFeatureVectorsRequestSchema, create(GetFeatureVectorsRequestSchema, { target: { case: "featureView", value: s.view }, entities: entityBatch(pick(n)) })));
    const rawRead = (n: number) => () => {
      const keys = pick(n).map((i) => ({ entity_id: BigInt(i) }));
      return Promise.all(s.tables.map((t) => h.store.read(t, keys)));
    };

    if (cases.has("single")) {
      const requests = vectorRequests(1);
      const single = await rounds(() => load(server, "GetFeatureVectors", requests, 2_000, `${label}-single`), 2_000);
      line(`${label}: GetFeatureVectors 1 entity × 50 (2 groups)`, 2_000, single, [{ name: "raw store read (2 groups)", ...(await baseline(rawRead(1))) }, { name: "paced 1/ms", ...(await baseline(rawRead(1), 1_000, true)) }], "p99 ≤ 2 ms");
    }
    if (cases.has("batch")) {
      const batch = await load(server, "GetFeatureVectors", vectorRequests(100), 200, `${label}-batch`);
      line(`${label}: GetFeatureVectors 100 entities × 50`, 200, { runs: [batch], floors: [] }, [{ name: "raw store read (2 groups)", ...(await baseline(rawRead(100), 1_000)) }], "p99 ≤ 15 ms");
    }

    if (withModel && cases.has("predict")) {
      const predictRequests = Array.from({ length: 500 }, () => toBinary(PredictRequestSchema, create(PredictRequestSchema, { deployment: s.deployment, entities: entityBatch(pick(1)) })));
      const predict = await rounds(() => load(server, "Predict", predictRequests, 1_000, `${label}-predict`), 1_000);
      const session = await ort.InferenceSession.create(s.gbdt!, { intraOpNumThreads: 1, interOpNumThreads: 1 });
      const input = new ort.Tensor("float32", Float32Array.from({ length: 50 }, () => Math.random() * 100), [1, 50]);
      line(`${label}: Predict, 100-tree GBDT, 1 entity`, 1_000, predict, [
        { name: "raw onnxruntime run", ...(await baseline(() => session.run({ features: input }))) },
        { name: "paced 1/ms", ...(await baseline(() => session.run({ features: input }), 1_000, true)) },
        { name: "raw store read (2 groups)", ...(await baseline(rawRead(1))) },
        { name: "paced 1/ms", ...(await baseline(rawRead(1), 1_000, true)) },
      ], "p99 ≤ 3 ms");
      await session.release();
    }
  } finally {
    await stopServer(server);
  }
  return s.tables;
}

/** A registry and an offline root of its own for each store's run (the same project, view and deployment names in each). */
async function withRegistry<T>(body: (registry: Awaited<ReturnType<typeof startRegistry>>, offlineRoot: string) => Promise<T>): Promise<T> {
  const registry = await startRegistry();
  const offlineRoot = await mkdtemp(join(tmpdir(), "fti-serving-bench-"));
  try {
    return await body(registry, offlineRoot);
  } finally {
    await registry.close();
    await rm(offlineRoot, { recursive: true, force: true });
  }
}

async function main() {
  console.log(`online serving, open loop, ${seconds} s per run after 2 s warm-up, ${roundCount} rounds (medians; p99's range in parentheses); latency in ms from each call's send to the end of its response (Go load generator)`);
  // BENCH_STORES: which online stores to run, "postgres,cassandra" (the default); BENCH_POSTGRES_ONLY=1 is "postgres".
  const stores = (process.env.BENCH_STORES ?? (process.env.BENCH_POSTGRES_ONLY ? "postgres" : "postgres,cassandra")).split(",");
  if (stores.includes("postgres")) await withRegistry(async (registry, offlineRoot) => {
    const schema = `online_serving_bench_${randomBytes(4).toString("hex")}`;
    const pool = new pg.Pool({ ...postgresOnlineStorePoolConfig(databaseUrl), max: 8 });
    const store = createPostgresOnlineStore({ pool, schema });
    try {
      await runStore("postgres", { registry, store, offlineRoot }, { FTI_ONLINE_STORE: "postgres", FTI_DATABASE_URL: databaseUrl, FTI_ONLINE_POSTGRES_SCHEMA: schema }, true);
    } finally {
      await store.close();
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
      await pool.end();
    }
  });

  if (!stores.includes("cassandra")) return;
  const node = process.env.FTI_TEST_CASSANDRA ? undefined : await startCassandraTestServer();
  try {
    const contactPoint = process.env.FTI_TEST_CASSANDRA ?? `${node!.host}:${node!.port}`;
    const keyspace = `serving_bench_${randomBytes(4).toString("hex")}`;
    const cassandra: OnlineStore = createCassandraOnlineStore({ contactPoints: [contactPoint], localDataCenter: "datacenter1", keyspace, consistency: "ONE" });
    let tables: OnlineTable[] = [];
    try {
      tables = await withRegistry((registry, offlineRoot) =>
        runStore("cassandra", { registry, store: cassandra, offlineRoot }, { FTI_ONLINE_STORE: "cassandra", FTI_CASSANDRA_CONTACT_POINTS: contactPoint, FTI_CASSANDRA_LOCAL_DC: "datacenter1", FTI_CASSANDRA_KEYSPACE: keyspace, FTI_CASSANDRA_CONSISTENCY: "ONE" }, false),
      );
    } finally {
      for (const t of tables) await cassandra.dropTable(t).catch(() => {});
      await cassandra.close();
    }
  } finally {
    await node?.stop();
  }
}

await main();
