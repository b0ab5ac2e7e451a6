// bench/server/decode — what decoding a request costs: protobuf-es fromBinary
// (the baseline) against the server's messageDecoder, on the serving hot path's
// requests. Both run in alternating rounds in one process, so a busy machine
// slows both alike; each figure is the median round.
//   npx tsx --conditions=source bench/server/decode.ts [--decodes 20000] [--rounds 10]
import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { GetFeatureVectorsRequestSchema, PredictRequestSchema } from "@fti/proto/fti/serving/v1/serving_pb";
import { messageDecoder } from "@fti/server";
import { numberOption } from "../options.js";

const decodes = numberOption("decodes", 20_000);
const rounds = numberOption("rounds", 10);

const ids = (n: number) => Array.from({ length: n }, (_, i) => BigInt(1_000_000 + i * 7919));
const entities = (rows: number) => ({ rowCount: rows, columns: [{ name: "entity_id", data: { case: "int64Values" as const, value: { values: ids(rows) } } }] });

const cases: { name: string; schema: DescMessage; bytes: Uint8Array }[] = [
  {
    name: "GetFeatureVectorsRequest, 1 row",
    schema: GetFeatureVectorsRequestSchema,
    bytes: toBinary(GetFeatureVectorsRequestSchema, create(GetFeatureVectorsRequestSchema, {
      target: { case: "featureView", value: "projects/fraud/featureViews/fraud_view/versions/1" },
      entities: entities(1),
    })),
  },
  {
    name: "GetFeatureVectorsRequest, 100 rows",
    schema: GetFeatureVectorsRequestSchema,
    bytes: toBinary(GetFeatureVectorsRequestSchema, create(GetFeatureVectorsRequestSchema, {
      target: { case: "featureView", value: "projects/fraud/featureViews/fraud_view/versions/1" },
      entities: entities(100),
    })),
  },
  {
    name: "PredictRequest, 1 row",
    schema: PredictRequestSchema,
    bytes: toBinary(PredictRequestSchema, create(PredictRequestSchema, {
      deployment: "projects/fraud/deployments/fraud_model",
      entities: entities(1),
      requestData: { rowCount: 1, columns: [{ name: "amount", data: { case: "doubleValues", value: { values: [129.95] } } }] },
    })),
  },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
let sink = 0; // keeps the decodes from being optimised away

/** µs per decode over `decodes` decodes. */
function time(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < decodes; i++) sink += (decode(bytes) as { $typeName: string }).$typeName.length;
  return Number(process.hrtime.bigint() - start) / 1000 / decodes;
}

console.log(`${decodes} decodes per round, ${rounds} rounds, median round\n`);
console.log(`${"request".padEnd(36)} ${"bytes".padStart(6)} ${"fromBinary µs".padStart(14)} ${"messageDecoder µs".padStart(18)} ${"speed-up".padStart(9)}`);
for (const { name, schema, bytes } of cases) {
  const baseline = (b: Uint8Array) => fromBinary(schema, b);
  const fast = messageDecoder(schema);
  // Warm up both, and check they agree before timing anything.
  if (JSON.stringify(fast(bytes), (_, v) => (typeof v === "bigint" ? `${v}n` : v)) !== JSON.stringify(baseline(bytes), (_, v) => (typeof v === "bigint" ? `${v}n` : v))) {
    throw new Error(`${name}: messageDecoder and fromBinary disagree`);
  }
  time(baseline, bytes);
  time(fast, bytes);
  const slow: number[] = [];
  const quick: number[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      slow.push(time(baseline, bytes));
      quick.push(time(fast, bytes));
    } else {
      quick.push(time(fast, bytes));
      slow.push(time(baseline, bytes));
    }
  }
  const [s, q] = [median(slow), median(quick)];
  console.log(`${name.padEnd(36)} ${String(bytes.length).padStart(6)} ${s.toFixed(2).padStart(14)} ${q.toFixed(2).padStart(18)} ${`${(s / q).toFixed(1)}x`.padStart(9)}`);
}
if (sink === 0) console.log(sink);
