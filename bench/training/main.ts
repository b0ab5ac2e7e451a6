// Training benchmark: the built-in histogram GBDT (100 trees, depth 6) on
// synthetic Parquet data (default 100k rows × 50 features, label with
// interactions and noise), beside scikit-learn's HistGradientBoostingClassifier
// with the same hyperparameters on the same rows, in the same run.
// Target: test AUC within 0.01 of scikit-learn's, training time within 3×.
//
//   npx tsx --conditions=source bench/training/main.ts [--rows 100000] [--features 50] [--trees 100] [--sklearn-threads 1]
//
// Our trainer is single-threaded; scikit-learn runs with --sklearn-threads
// OpenMP threads (default 1, the like-for-like comparison; 0 = its default).
import { execFileSync } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { auc } from "../../services/training-runner/src/evaluation.js";
import { readSplit, withDuckDb } from "../../services/training-runner/src/dataset.js";
import { scoreWithOnnx } from "../../services/training-runner/src/onnx-scoring.js";
import { trainGbdt } from "../../services/training-runner/src/trainers/gbdt.js";

const { values } = parseArgs({ options: { rows: { type: "string", default: "100000" }, features: { type: "string", default: "50" }, trees: { type: "string", default: "100" }, "sklearn-threads": { type: "string", default: "1" } } });
const rows = Number(values.rows);
const features = Number(values.features);
const trees = Number(values.trees);
const depth = 6;
const learningRate = 0.1;
const minSamplesLeaf = 20;

const dir = await mkdtemp(join(tmpdir(), "fti-bench-training-"));
try {
  // The data: 50 uniform features; the label depends on 8 of them with interactions, plus noise.
  const names = Array.from({ length: features }, (_, i) => `f${i}`);
  const files: Record<string, string> = {};
  await withDuckDb(async (run) => {
    await run("SELECT setseed(0.5)");
    await run(`CREATE TABLE data AS SELECT *, (2 * f0 - 1.5 * f1 * f2 + sin(3 * f3) + f4 * f5 - abs(f6) + 0.5 * f7 + noise) > 0 AS label, id % 5 = 0 AS is_test
               FROM (SELECT range AS id, ${names.map((n) => `random() * 2 - 1 AS ${n}`).join(", ")}, random() * 1.5 - 0.75 AS noise FROM range(${rows}))`);
    for (const split of ["train", "test"]) {
      await mkdir(join(dir, split));
      files[split] = join(dir, split, "part-0.parquet");
      await run(`COPY (SELECT ${names.join(", ")}, label FROM data WHERE is_test = ${split === "test"}) TO '${files[split]}' (FORMAT parquet)`);
    }
  });

  let t = performance.now();
  const train = await readSplit("train", [files.train!], "label", names, []);
  const test = await readSplit("test", [files.test!], "label", names, []);
  const readSeconds = (performance.now() - t) / 1000;

  t = performance.now();
  const model = await trainGbdt(train, { objective: "binary", numTrees: trees, maxDepth: depth, learningRate, minSamplesLeaf, l2: 0 }, { signal: new AbortController().signal, progress() {}, log() {} });
  const ourSeconds = (performance.now() - t) / 1000;
  const onnx = model.toOnnx({ featureNames: names });
  const ourAuc = auc(test.y, await scoreWithOnnx(onnx, test.x, test.rows, test.features, "classification"))!;

  // Same rows for scikit-learn, as raw arrays.
  const labels = (y: Float64Array) => Uint8Array.from(y);
  await writeFile(join(dir, "x_train.f32"), new Uint8Array(train.x.buffer));
  await writeFile(join(dir, "y_train.u8"), labels(train.y));
  await writeFile(join(dir, "x_test.f32"), new Uint8Array(test.x.buffer));
  await writeFile(join(dir, "y_test.u8"), labels(test.y));
  const threads = values["sklearn-threads"]!;
  const env = threads === "0" ? process.env : { ...process.env, OMP_NUM_THREADS: threads };
  const script = fileURLToPath(new URL("./sklearn_hgb.py", import.meta.url));
  const sklearn = JSON.parse(execFileSync("/usr/bin/python3", [script, dir, String(features), String(trees), String(depth), String(learningRate), String(minSamplesLeaf)], { env, encoding: "utf8" })) as { seconds: number; auc: number };

  const ratio = ourSeconds / sklearn.seconds;
  const aucGap = sklearn.auc - ourAuc;
  console.log(`GBDT ${trees} trees, depth ${depth}, lr ${learningRate}, min leaf ${minSamplesLeaf}: ${train.rows} train / ${test.rows} test rows × ${features} features (Parquet read ${readSeconds.toFixed(2)} s)`);
  console.log(`  fti (TypeScript, 1 thread)          ${ourSeconds.toFixed(2)} s  test AUC ${ourAuc.toFixed(4)} (scored with onnxruntime)`);
  console.log(`  scikit-learn HistGradientBoosting   ${sklearn.seconds.toFixed(2)} s  test AUC ${sklearn.auc.toFixed(4)} (OMP threads: ${threads === "0" ? "default" : threads})`);
  console.log(`  time ${ratio.toFixed(2)}× scikit-learn (target ≤ 3×): ${ratio <= 3 ? "met" : "MISSED"}; AUC gap ${aucGap.toFixed(4)} (target ≤ 0.01): ${aucGap <= 0.01 ? "met" : "MISSED"}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
