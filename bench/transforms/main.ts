// Per-row cost of compiled on-demand expressions and fitted transformations,
// beside hand-written JavaScript computing the same values in the same run.
//   npx tsx --conditions=source bench/transforms/main.ts
// Target: a simple expression well under 1 µs per vector.
import { create } from "@bufbuild/protobuf";
import { TransformationSchema, type Transformation } from "@fti/proto/fti/registry/v1/transformations_pb";
import type { Row, Value } from "@fti/schema";
// Relative until @fti/transforms is linked into node_modules by npm install.
import { compileOnDemandFeatures, compileTransformations, fitTransformations, type Column, type Columns } from "@fti/transforms";

const rowCount = 100_000;
const rounds = 20;

const inputs: Column[] = [
  { name: "amount", type: "double" },
  { name: "avg_amount_30d", type: "double" },
  { name: "request_time", type: "timestamp" },
  { name: "last_login_time", type: "timestamp" },
];
let seed = 1;
const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
const rows: Row[] = Array.from({ length: rowCount }, () => ({
  amount: rand() * 1000,
  avg_amount_30d: rand() < 0.1 ? 0 : rand() * 500,
  request_time: new Date(1.7e12 + rand() * 1e9),
  last_login_time: rand() < 0.05 ? null : new Date(1.7e12 + rand() * 1e9),
}));
const columns: Columns = Object.fromEntries(inputs.map((c) => [c.name, rows.map((r) => r[c.name]!)]));

/** Best-of-rounds nanoseconds per row of `run` over all rows. */
function time(run: () => unknown): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    run();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / rowCount);
  }
  return best;
}

const cases: { name: string; expression: string; baseline: (r: Row) => Value }[] = [
  {
    name: "ratio",
    expression: "amount / nullif(avg_amount_30d, 0)",
    baseline: (r) => {
      const a = r.amount as number | null, b = r.avg_amount_30d as number | null;
      return a === null || b === null || b === 0 ? null : a / b;
    },
  },
  {
    name: "hours since login",
    expression: "hours_between(request_time, last_login_time)",
    baseline: (r) => (r.request_time && r.last_login_time ? ((r.request_time as Date).getTime() - (r.last_login_time as Date).getTime()) / 3_600_000 : null),
  },
  {
    name: "bucketed score",
    expression: "case when amount / nullif(avg_amount_30d, 0) > 3 then 2 when coalesce(hours_between(request_time, last_login_time), 0) < 1 then 1 else 0 end",
    baseline: (r) => {
      const a = r.amount as number, b = r.avg_amount_30d as number;
      if (b !== 0 && a / b > 3) return 2;
      const h = r.last_login_time ? ((r.request_time as Date).getTime() - (r.last_login_time as Date).getTime()) / 3_600_000 : 0;
      return h < 1 ? 1 : 0;
    },
  },
];

console.log(`on-demand features, ${rowCount} rows, best of ${rounds} (ns per row)`);
console.log("feature".padEnd(20), "vector".padStart(8), "batch".padStart(8), "hand JS".padStart(8), "vector/JS".padStart(10));
for (const c of cases) {
  const program = compileOnDemandFeatures([{ name: "f", type: c.name === "bucketed score" ? "int32" : "double", expression: c.expression }], inputs);
  let sink = 0;
  const vector = time(() => {
    for (const r of rows) if (program.evaluateVector(r)[0] !== null) sink++;
  });
  const batch = time(() => program.evaluateBatch(columns, rowCount));
  const baseline = time(() => {
    for (const r of rows) if (c.baseline(r) !== null) sink++;
  });
  // Same answers, or the timing means nothing.
  for (let i = 0; i < 1000; i++) if (program.evaluateVector(rows[i]!)[0] !== c.baseline(rows[i]!)) throw new Error(`${c.name}: row ${i} differs`);
  console.log(c.name.padEnd(20), vector.toFixed(1).padStart(8), batch.toFixed(1).padStart(8), baseline.toFixed(1).padStart(8), `${(vector / baseline).toFixed(2)}×`.padStart(10), sink > 0 ? "" : "!");
}

// Fitted transformations: standard scaling of one column, per vector.
const scale = create(TransformationSchema, { feature: "amount", output: "amount_std", kind: { case: "standardScaler", value: {} } }) as Transformation;
const fitted = fitTransformations([scale], inputs, columns);
const pipeline = compileTransformations(fitted, inputs);
const { mean, stddev } = fitted[0]!.params.value as { mean: number; stddev: number };
const applyVector = time(() => {
  for (const r of rows) pipeline.applyVector(r);
});
const applyBatch = time(() => pipeline.applyBatch(columns, rowCount));
const handScale = time(() => {
  for (const r of rows) ({ ...r, amount_std: r.amount === null ? null : ((r.amount as number) - mean) / stddev });
});
console.log("\nstandard scaler (ns per row)");
console.log(`applyVector ${applyVector.toFixed(1)}  applyBatch ${applyBatch.toFixed(1)}  hand JS (row copy + scale) ${handScale.toFixed(1)}  vector/JS ${(applyVector / handScale).toFixed(2)}×`);
