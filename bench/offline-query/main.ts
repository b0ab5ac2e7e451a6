// Point-in-time join benchmark: 1M label rows × a 10M-row history of 100k
// entities × 50 float features across 2 feature groups (Delta tables of 10
// commits each), Parquet in. Measured, each in its own process for a clean
// peak RSS, in the same run:
//   ours/join     the service's point-in-time SQL (ASOF plan, TTL + bitemporal) written to Parquet
//   ours/stream   GetHistoricalFeatures' engine: the ASOF plan with TTL and
//                 bitemporal on, result streamed out as encoded RecordBatches
//   ours/dataset  CreateTrainingDataset's build: the same join written to
//                 Parquet, plus per-split statistics (one split, the default;
//                 and, for information, an 80/20 random split)
//   raw DuckDB    the plain ASOF LEFT JOIN SQL on the same files writing Parquet
//   pandas        merge_asof (with the TTL as tolerance) on the same data in memory
// Targets: ours ≤ 1.3× raw DuckDB; faster than pandas; peak RSS below pandas'.
//
//   npx tsx --conditions=source bench/offline-query/main.ts [--labels 1000000] [--history 10000000] [--entities 100000] [--threads 2]
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { DuckDBInstance } from "@duckdb/node-api";
import { silentLogger } from "@fti/logger";
import { createOfflineStore } from "@fti/offline-store";
import { ScalarType } from "@fti/proto/fti/common/v1/types_pb";
import { FeatureGroupSchema } from "@fti/proto/fti/registry/v1/feature_group_pb";
import { FeatureViewSchema } from "@fti/proto/fti/registry/v1/feature_view_pb";
import { TrainingDatasetSchema } from "@fti/proto/fti/registry/v1/training_dataset_pb";
import { featureGroupSchemaFromWire } from "@fti/record-batch";
import type { MetadataCache } from "@fti/registry-client";
import { readFeatureView } from "../../services/offline-query/src/historical-features.js";
import { createQueryEngine } from "../../services/offline-query/src/query-engine.js";
import { buildTrainingDataset } from "../../services/offline-query/src/training-dataset-builder.js";
import { loadViewPlan } from "../../services/offline-query/src/view-plan.js";
import { parquetEntitySource } from "../../services/offline-query/src/entity-rows.js";
import { pointInTimeSql } from "../../services/offline-query/src/point-in-time.js";
import { scanGroups } from "../../services/offline-query/src/snapshots.js";

const { values: args } = parseArgs({
  options: {
    labels: { type: "string", default: "1000000" },
    history: { type: "string", default: "10000000" },
    entities: { type: "string", default: "100000" },
    features: { type: "string", default: "50" },
    threads: { type: "string", default: "2" },
    dir: { type: "string" },
    phase: { type: "string" },
  },
});
const labels = Number(args.labels);
const history = Number(args.history);
const entities = Number(args.entities);
const features = Number(args.features);
const threads = Number(args.threads);
const perGroup = Math.floor(history / 2);
const perGroupFeatures = Math.floor(features / 2);
const dir = args.dir ?? join(tmpdir(), `fti-bench-offline-query-${labels}-${history}-${entities}-${features}`);
const root = join(dir, "offline");
const project = "bench";
const t0 = Date.UTC(2024, 0, 1);
const spanS = 30 * 86400;
const daySeconds = 86400;
const commits = 10;
const ttlDays = 7;
const groups = [
  { id: "g1", g: 1, prefix: "a_" },
  { id: "g2", g: 2, prefix: "b_" },
];
const featureNames = Array.from({ length: perGroupFeatures }, (_, j) => `f${j}`);
const labelsPath = join(root, "labels.parquet");

// ---- data: written by DuckDB straight into Delta tables (10 commits per group, each commit
// holding a tenth of the time range and committed an hour after it ends, so bitemporal reads matter)

function groupMessage(id: string) {
  return create(FeatureGroupSchema, {
    name: `projects/${project}/featureGroups/${id}/versions/1`,
    version: 1,
    schema: {
      features: [
        { name: "entity_id", type: { kind: { case: "scalar", value: ScalarType.INT64 } } },
        { name: "ts", type: { kind: { case: "scalar", value: ScalarType.TIMESTAMP } } },
        ...featureNames.map((name) => ({ name, type: { kind: { case: "scalar" as const, value: ScalarType.FLOAT } } })),
      ],
    },
    primaryKey: ["entity_id"],
    eventTime: "ts",
    ttl: { seconds: BigInt(ttlDays * 86400) },
  });
}

async function generate() {
  if (existsSync(join(dir, "READY"))) return;
  await rm(dir, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  const started = performance.now();
  const store = await createOfflineStore({ root, logger: silentLogger });
  const duckdb = await DuckDBInstance.create(":memory:", { threads: String(threads) });
  const c = await duckdb.connect();
  await c.run("SET TimeZone = 'UTC'");
  for (const { id, g } of groups) {
    await store.createTable({ project, featureGroup: id, version: 1 }, featureGroupSchemaFromWire(groupMessage(id)));
    const tableDir = join(root, project, id, "v1");
    // Version 0 was stamped "now"; put it before the data so commit times increase with versions.
    const v0 = join(tableDir, "_delta_log", "00000000000000000000.json");
    const lines = (await readFile(v0, "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    for (const l of lines) if (l.commitInfo) l.commitInfo.timestamp = t0 - 86400_000;
    await writeFile(v0, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const cols = featureNames.map((f, j) => `(((i * ${j + 3} + ${g}) % 1000) / 1000.0)::FLOAT AS ${f}`).join(", ");
    const staging = join(dir, `staging-${id}`);
    await c.run(`COPY (SELECT (i * 7919 + ${g}) % ${entities} AS entity_id, make_timestamptz((${t0 / 1000} + (i * 104729 + ${g * 31}) % ${spanS}) * 1000000) AS ts, ${cols},
      ((i * 104729 + ${g * 31}) % ${spanS}) * ${commits} // ${spanS} AS part FROM (SELECT range AS i FROM range(${perGroup}))) TO '${staging}' (FORMAT parquet, PARTITION_BY (part))`);
    for (let k = 0; k < commits; k++) {
      const [file] = await readdir(join(staging, `part=${k}`));
      const path = `part-${k}.parquet`;
      await rename(join(staging, `part=${k}`, file!), join(tableDir, path));
      const size = (await stat(join(tableDir, path))).size;
      // File stats as the offline store writes them (event-time min/max), which the query planner reads.
      const [count, minTs, maxTs] = (await c.runAndReadAll(`SELECT count(*), epoch_ms(min(ts)), epoch_ms(max(ts)) FROM '${join(tableDir, path)}'`)).getRowsJS()[0]!.map(Number) as [number, number, number];
      const stats = JSON.stringify({ numRecords: count, minValues: { ts: new Date(minTs).toISOString() }, maxValues: { ts: new Date(maxTs).toISOString() }, nullCount: { ts: 0 } });
      const committedAt = t0 + ((k + 1) * spanS * 1000) / commits + 3_600_000;
      const entry = [
        { commitInfo: { timestamp: committedAt, operation: "WRITE", operationParameters: { mode: "Append", partitionBy: "[]" }, isBlindAppend: true, engineInfo: "fti-bench", fti: { commitId: `bench-${k}`, rowsAdded: 0, rowsRemoved: 0 } } },
        { add: { path, partitionValues: {}, size, modificationTime: committedAt, dataChange: true, stats, tags: { "fti.appendedInVersion": String(k + 1) } } },
      ];
      await writeFile(join(tableDir, "_delta_log", `${String(k + 1).padStart(20, "0")}.json`), entry.map((a) => JSON.stringify(a)).join("\n") + "\n");
    }
    await rm(staging, { recursive: true, force: true });
  }
  await c.run(`COPY (SELECT (i * 104723) % ${entities} AS entity_id, make_timestamptz((${t0 / 1000} + ${daySeconds} + (i * 7907) % ${spanS - daySeconds}) * 1000000) AS ts, i % 7 = 0 AS label
    FROM (SELECT range AS i FROM range(${labels}))) TO '${labelsPath}' (FORMAT parquet)`);
  c.closeSync();
  duckdb.closeSync();
  store.close();
  await writeFile(join(dir, "READY"), "");
  console.log(`generated ${labels} labels, ${history} history rows in ${((performance.now() - started) / 1000).toFixed(1)} s under ${dir}`);
}

// ---- phases, each in its own process

function metadataCache(): MetadataCache {
  const view = create(FeatureViewSchema, {
    name: `projects/${project}/featureViews/bench/versions/1`,
    version: 1,
    root: { featureGroup: groupMessage("g1").name, features: featureNames, prefix: "a_" },
    joins: [{ selection: { featureGroup: groupMessage("g2").name, features: featureNames, prefix: "b_" }, keys: [{ left: "entity_id", right: "entity_id" }] }],
    servingKeys: ["entity_id"],
    outputSchema: { features: groups.flatMap(({ prefix }) => featureNames.map((f) => ({ name: prefix + f, type: { kind: { case: "scalar" as const, value: ScalarType.FLOAT } } }))) },
  });
  const missing = async () => {
    throw new Error("not in the benchmark");
  };
  return {
    featureView: async () => view,
    featureGroup: async (name) => groupMessage(name.split("/")[3]!),
    trainingDataset: missing,
    model: missing,
    deployment: missing,
    invalidate: () => {},
    close: async () => {},
  };
}

async function phase(name: string): Promise<{ seconds: number; rows: number; extra?: string }> {
  const engine = await createQueryEngine({ threads, memoryLimit: "3GB", tempDirectory: join(dir, "spill") });
  const store = await createOfflineStore({ root, duckdb: engine.instance, logger: silentLogger });
  const deps = { metadata: metadataCache(), store, engine, logger: silentLogger };
  const started = performance.now();
  let rows = 0;
  let extra: string | undefined;
  if (name === "warm") {
    // Reads every file once so the first measured phase does not pay for a cold page cache.
    await engine.withConnection(undefined, (c) => c.run(`SELECT count(*) FROM read_parquet('${root}/${project}/*/v1/part-*.parquet')`));
  } else if (name === "raw") {
    await engine.withConnection(undefined, async (c) => {
      const files = (id: string) => `read_parquet('${join(root, project, id, "v1")}/part-*.parquet')`;
      const select = groups.flatMap(({ prefix }, i) => featureNames.map((f) => `${"ab"[i]}.${f} AS ${prefix}${f}`)).join(", ");
      const out = join(dir, "raw.parquet");
      await c.run(`COPY (SELECT l.*, ${select} FROM read_parquet('${labelsPath}') l
        ASOF LEFT JOIN ${files("g1")} a ON l.entity_id = a.entity_id AND l.ts >= a.ts
        ASOF LEFT JOIN ${files("g2")} b ON l.entity_id = b.entity_id AND l.ts >= b.ts) TO '${out}' (FORMAT parquet)`);
      rows = Number((await c.runAndReadAll(`SELECT count(*) FROM '${out}'`)).getRowsJS()[0]![0]);
    });
  } else if (name === "join") {
    const plan = await loadViewPlan(deps.metadata, `projects/${project}/featureViews/bench/versions/1`, "feature_view");
    const scans = await scanGroups(store, plan.groups, { field: "options" });
    await engine.withConnection(undefined, async (c) => {
      const entities = await parquetEntitySource(c, labelsPath, "ts", "entity_rows");
      const query = pointInTimeSql({ plan, scans, entities, bitemporal: true, includeLabels: true });
      const out = join(dir, "ours.parquet");
      await c.run(`COPY (${query.sql}) TO '${out}' (FORMAT parquet)`);
      rows = Number((await c.runAndReadAll(`SELECT count(*) FROM '${out}'`)).getRowsJS()[0]![0]);
    });
  } else if (name === "stream") {
    const plan = await loadViewPlan(deps.metadata, `projects/${project}/featureViews/bench/versions/1`, "feature_view");
    let bytes = 0;
    for await (const batch of readFeatureView(deps, { plan, entities: { kind: "parquet", path: labelsPath, field: "entity_rows" }, options: { bitemporal: true, batchSize: 10_000 } as never, optionsField: "options", includeLabels: true })) {
      bytes += batch.length;
      rows++;
    }
    extra = `${rows} messages, ${(bytes / 2 ** 20).toFixed(0)} MiB encoded`;
    rows = labels;
  } else if (name === "dataset" || name === "dataset-split") {
    const td = create(TrainingDatasetSchema, {
      name: `projects/${project}/featureViews/bench/versions/1/trainingDatasets/${Date.now() % 100000}`,
      featureView: `projects/${project}/featureViews/bench/versions/1`,
      rows: { case: "entityRowsUri", value: labelsPath },
      bitemporal: true,
      ...(name === "dataset-split" ? { split: { kind: { case: "random", value: { seed: 1n, fractions: [{ name: "train", fraction: 0.8 }, { name: "test", fraction: 0.2 }] } } } } : {}),
    });
    const built = await buildTrainingDataset({ ...deps, offlineRoot: root }, td, async () => {}, new AbortController().signal);
    rows = built.splits.reduce((n, s) => n + Number(s.rowCount), 0);
    await rm(fileURLToPath(built.location), { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  store.close();
  engine.close();
  return { seconds, rows, extra };
}

if (args.phase) {
  const result = await phase(args.phase);
  console.log(JSON.stringify({ ...result, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

await generate();
const self = fileURLToPath(import.meta.url);
const common = ["--labels", String(labels), "--history", String(history), "--entities", String(entities), "--features", String(features), "--threads", String(threads), "--dir", dir];
function run(name: string) {
  const child = spawnSync(process.execPath, [...process.execArgv, self, ...common, "--phase", name], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const line = child.stdout.trim().split("\n").at(-1)!;
  return JSON.parse(line) as { seconds: number; rows: number; maxRssMB: number; extra?: string };
}
const results: Record<string, { seconds: number; rows: number; maxRssMB: number; extra?: string }> = {};
run("warm");
// This machine is shared and noisy: every phase runs twice, in alternation, and keeps its best.
for (const name of ["raw", "join", "stream", "dataset", "dataset-split", "raw", "join", "stream", "dataset", "dataset-split"]) {
  const r = run(name);
  if (!results[name] || r.seconds < results[name]!.seconds) results[name] = r;
}
const python = "/usr/bin/python3";
try {
  const out = execFileSync(python, [join(fileURLToPath(new URL(".", import.meta.url)), "pandas_asof.py"), String(labels), String(history), String(entities), String(features)], { encoding: "utf8" });
  results.pandas = JSON.parse(out.trim().split("\n").at(-1)!);
} catch (err) {
  console.log(`pandas baseline skipped: ${(err as Error).message.split("\n")[0]} (apt-get install -y python3-pandas)`);
}

console.log(`\npoint-in-time join: ${labels} labels × ${history} history rows (${entities} entities, ${features} float features, 2 groups × ${commits} commits), ${threads} DuckDB threads`);
const raw = results.raw!;
const fmt = (name: string, label: string) => {
  const r = results[name];
  if (!r) return;
  const ratio = r.seconds / raw.seconds;
  console.log(`  ${label.padEnd(44)} ${r.seconds.toFixed(2).padStart(7)} s  ${ratio.toFixed(2)}× raw   peak RSS ${r.maxRssMB.toFixed(0).padStart(6)} MB   ${r.rows} rows${r.extra ? `, ${r.extra}` : ""}`);
};
fmt("raw", "raw DuckDB ASOF LEFT JOIN → Parquet");
fmt("join", "ours, TTL + bitemporal, join → Parquet");
fmt("stream", "ours, TTL + bitemporal, streamed out");
fmt("dataset", "ours, TTL + bitemporal, training dataset");
fmt("dataset-split", "  the same, split 80/20 at random");
fmt("pandas", "pandas merge_asof (join only, TTL)");
const ok = (cond: boolean) => (cond ? "met" : "MISSED");
const stream = results.stream!;
const joined = results.join!;
console.log(`\ntargets: join ≤ 1.3× raw: ${ok(joined.seconds <= 1.3 * raw.seconds)} (${(joined.seconds / raw.seconds).toFixed(2)}×); streamed ≤ 1.3× raw: ${ok(stream.seconds <= 1.3 * raw.seconds)} (${(stream.seconds / raw.seconds).toFixed(2)}×); dataset ≤ 1.3× raw: ${ok(results.dataset!.seconds <= 1.3 * raw.seconds)} (${(results.dataset!.seconds / raw.seconds).toFixed(2)}×)`);
if (results.pandas) console.log(`         streamed ≥ 2× faster than pandas: ${ok(2 * stream.seconds <= results.pandas.seconds)} (${(results.pandas.seconds / stream.seconds).toFixed(2)}×); peak RSS below pandas': ${ok(stream.maxRssMB < results.pandas.maxRssMB && results.dataset!.maxRssMB < results.pandas.maxRssMB)}`);
