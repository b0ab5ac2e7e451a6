// bench/record-batch — encoding a 100k-row × 22-column batch (int64 key, event
// time, 20 doubles): the direct encoder vs. protobuf-es's generated encoder of
// the same message (the baseline), and decoding back.
//   npx tsx --conditions=source bench/record-batch/main.ts [--rows 100000]
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { RecordBatchSchema } from "@fti/proto/fti/common/v1/record_batch_pb";
import { decodeRecordBatch, encodeRecordBatch, recordBatchMessage, type TypedColumn } from "@fti/record-batch";
import { numberOption } from "../options.js";

const rows = numberOption("rows", 100_000);
const columns: TypedColumn[] = [
  { name: "id", type: "int64", values: Array.from({ length: rows }, (_, r) => BigInt(r)) },
  { name: "event_time", type: "timestamp", values: Array.from({ length: rows }, (_, r) => new Date(1_700_000_000_000 + r)) },
  ...Array.from({ length: 20 }, (_, c): TypedColumn => ({ name: `f${c}`, type: "double", values: Array.from({ length: rows }, (_, r) => (r % 97 === 0 ? null : r * 0.5 + c)) })),
];
const time = (fn: () => unknown, runs = 5) => {
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
};
const message = recordBatchMessage(rows, columns);
const bytes = encodeRecordBatch(rows, columns);
const direct = time(() => encodeRecordBatch(rows, columns));
const generic = time(() => toBinary(RecordBatchSchema, message), 3);
const parse = time(() => fromBinary(RecordBatchSchema, bytes));
const toColumns = time(() => decodeRecordBatch(fromBinary(RecordBatchSchema, bytes)));
const values = rows * columns.length;
console.log(`\nbench/record-batch: ${rows.toLocaleString()} rows × ${columns.length} columns (${(bytes.length / 1e6).toFixed(1)} MB), median\n`);
console.log(`encode, generated protobuf-es (baseline)  ${generic.toFixed(1).padStart(8)} ms  ${((values / generic) * 1e3 / 1e6).toFixed(1).padStart(6)} M values/s`);
console.log(`encode, direct (encodeRecordBatch)        ${direct.toFixed(1).padStart(8)} ms  ${((values / direct) * 1e3 / 1e6).toFixed(1).padStart(6)} M values/s  ${(generic / direct).toFixed(0)}× faster`);
console.log(`decode, generated fromBinary              ${parse.toFixed(1).padStart(8)} ms`);
console.log(`decode to columns (decodeRecordBatch)     ${toColumns.toFixed(1).padStart(8)} ms`);
