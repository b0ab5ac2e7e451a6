// bench/server/encode — what encoding a response costs: protobuf-es toBinary
// (the baseline) against the server's messageEncoder, on the serving hot path's
// responses, built as online-serving builds them (feature columns appended as
// one pre-encoded unknown field by appendFeatureColumns, Predict's outputs by
// withEncodedField). Strings go through the UTF-8 encoder createServer installs.
// Both run in alternating rounds in one process, so a busy machine slows both
// alike; each figure is the median round.
//   npx tsx --conditions=source bench/server/encode.ts [--encodes 20000] [--rounds 10]
import { create, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { GetFeatureVectorsResponseSchema, PredictResponseSchema } from "@fti/proto/fti/serving/v1/serving_pb";
import { encodeRecordBatch, withEncodedField } from "@fti/record-batch";
import type { ScalarType, Value } from "@fti/schema";
import { messageEncoder, useFastUtf8Encoding } from "@fti/server";
import { appendFeatureColumns } from "../../services/online-serving/src/vector-encoding.js";
import { numberOption } from "../options.js";

const encodes = numberOption("encodes", 20_000);
const rounds = numberOption("rounds", 10);

useFastUtf8Encoding();

const FEATURE_VIEW = "projects/fraud/featureViews/fraud_view/versions/1";
const MODEL = "projects/fraud/models/fraud_model/versions/3";

/** `count` feature columns of `rows` entities, of the usual types, as the store reads return them. */
function vectorColumns(count: number, rows: number) {
  const types: ScalarType[] = ["double", "int64", "float", "string", "bool", "int32", "timestamp"];
  return Array.from({ length: count }, (_, k) => {
    const type = types[k % types.length]!;
    const values: Value[] = Array.from({ length: rows }, (_, r) => {
      if ((k + r) % 11 === 0) return null;
      switch (type) {
        case "double":
        case "float":
          return k * 0.25 + r;
        case "int64":
          return BigInt(k * 1000 + r);
        case "string":
          return `category_${(k + r) % 7}`;
        case "bool":
          return (k + r) % 2 === 0;
        case "timestamp":
          return new Date(1_718_000_000_000 + r * 1000);
        default:
          return k + r;
      }
    });
    return {
      name: `feature_${String(k).padStart(2, "0")}_${type}`,
      type,
      values,
      statuses: new Uint8Array(rows).map((_, r) => (values[r] === null ? 2 : 1)),
      eventMicros: new BigInt64Array(rows).fill(1_718_000_000_000_000n),
    };
  });
}

function featureVectorsResponse(rows: number): Message {
  const response = create(GetFeatureVectorsResponseSchema, { featureView: FEATURE_VIEW, model: MODEL });
  appendFeatureColumns(response, 3, rows, vectorColumns(50, rows), false);
  return response;
}

function predictResponse(rows: number, includeFeatures: boolean): Message {
  const response = create(PredictResponseSchema, { requestId: "0f8fad5b-d9cb-469f-a165-70867728950e", model: MODEL, deploymentRevision: 7n, featureView: FEATURE_VIEW });
  const probability = Array.from({ length: rows }, (_, r) => 0.125 + r / (4 * rows));
  withEncodedField(response, 5, encodeRecordBatch(rows, [{ name: "probability", type: "float", values: probability }]));
  if (includeFeatures) appendFeatureColumns(response, 6, rows, vectorColumns(50, rows), false);
  return response;
}

const cases: { name: string; schema: DescMessage; message: Message; scale: number }[] = [
  { name: "GetFeatureVectorsResponse, 1 × 50", schema: GetFeatureVectorsResponseSchema, message: featureVectorsResponse(1), scale: 1 },
  { name: "GetFeatureVectorsResponse, 100 × 50", schema: GetFeatureVectorsResponseSchema, message: featureVectorsResponse(100), scale: 0.1 },
  { name: "PredictResponse, 1 row", schema: PredictResponseSchema, message: predictResponse(1, false), scale: 1 },
  { name: "PredictResponse, 1 row + features", schema: PredictResponseSchema, message: predictResponse(1, true), scale: 1 },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
let sink = 0; // keeps the encodes from being optimised away

/** µs per encode over `n` encodes. */
function time(encode: (message: Message) => Uint8Array, message: Message, n: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += encode(message).length;
  return Number(process.hrtime.bigint() - start) / 1000 / n;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");

console.log(`${encodes} encodes per round (fewer for big responses), ${rounds} rounds, median round\n`);
console.log(`${"response".padEnd(38)} ${"bytes".padStart(7)} ${"toBinary µs".padStart(12)} ${"messageEncoder µs".padStart(18)} ${"speed-up".padStart(9)}`);
for (const { name, schema, message, scale } of cases) {
  const n = Math.max(1, Math.round(encodes * scale));
  const baseline = (m: Message) => toBinary(schema, m);
  const fast = messageEncoder(schema) as (m: Message) => Uint8Array;
  // Warm up both, and check they agree before timing anything.
  const bytes = baseline(message);
  if (hex(fast(message)) !== hex(bytes)) throw new Error(`${name}: messageEncoder and toBinary disagree`);
  time(baseline, message, n);
  time(fast, message, n);
  const slow: number[] = [];
  const quick: number[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      slow.push(time(baseline, message, n));
      quick.push(time(fast, message, n));
    } else {
      quick.push(time(fast, message, n));
      slow.push(time(baseline, message, n));
    }
  }
  const [s, q] = [median(slow), median(quick)];
  console.log(`${name.padEnd(38)} ${String(bytes.length).padStart(7)} ${s.toFixed(2).padStart(12)} ${q.toFixed(2).padStart(18)} ${`${(s / q).toFixed(1)}x`.padStart(9)}`);
}
if (sink === 0) console.log(sink);
