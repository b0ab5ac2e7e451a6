// The direct PredictionLog encoder against the generated code: the same bytes
// as protobuf-es writes for the same message, for the usual and the odd cases.
import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { PredictionLogSchema } from "@fti/proto/fti/events/v1/events_pb";
import { encodeRecordBatch, recordBatchMessage, type TypedColumn } from "@fti/record-batch";
import { encodePredictionLog, type PredictionLogFields } from "../src/prediction-log-encoding.js";

const entities: TypedColumn[] = [{ name: "card", type: "int64", values: [1n, 2n, 3n] }];
const features: TypedColumn[] = [
  { name: "amount", type: "double", values: [1.5, null, -2] },
  { name: "country", type: "string", values: ["fr", "ü", null] },
];
const outputs: TypedColumn[] = [{ name: "score", type: "float", values: [0.25, 0.5, 0.75] }];

function fields(over: Partial<PredictionLogFields> = {}): PredictionLogFields {
  return {
    model: "projects/p/models/m/versions/2",
    featureView: "projects/p/featureViews/v/versions/1",
    shadow: false,
    requestIds: ["r1", "r2", "r2"],
    timeMs: [1_700_000_000_123, 1_700_000_000_124, 1_700_000_000_124],
    latencyMicros: [812, 90, 90],
    entities: encodeRecordBatch(3, entities),
    features: encodeRecordBatch(3, features),
    outputs: encodeRecordBatch(3, outputs),
    ...over,
  };
}

/** What protobuf-es writes for the same fields. */
function generated(f: PredictionLogFields, rows: number, batches = { entities, features, outputs }): Uint8Array {
  return toBinary(
    PredictionLogSchema,
    create(PredictionLogSchema, {
      model: f.model,
      featureView: f.featureView,
      shadow: f.shadow,
      requestIds: [...f.requestIds],
      timeMicros: f.timeMs.map((ms) => BigInt(Math.round(ms * 1000))),
      latencyMicros: f.latencyMicros.map((us) => Math.min(0xffffffff, Math.max(0, Math.round(us)))),
      entities: recordBatchMessage(rows, batches.entities),
      features: recordBatchMessage(rows, batches.features),
      outputs: recordBatchMessage(rows, batches.outputs),
    }),
  );
}

describe("encodePredictionLog", () => {
  it("writes the bytes protobuf-es writes", () => {
    const f = fields();
    expect(Buffer.from(encodePredictionLog(f)).equals(Buffer.from(generated(f, 3)))).toBe(true);
    const log = fromBinary(PredictionLogSchema, encodePredictionLog(f));
    expect(log.requestIds).toEqual(["r1", "r2", "r2"]);
    expect(log.timeMicros).toEqual([1_700_000_000_123_000n, 1_700_000_000_124_000n, 1_700_000_000_124_000n]);
    expect(log.latencyMicros).toEqual([812, 90, 90]);
    expect(log.features?.rowCount).toBe(3);
  });

  it("shadow logs, non-ASCII and long request ids, empty names, times before the epoch and past 2^32 µs", () => {
    const f = fields({
      model: "",
      shadow: true,
      requestIds: ["", "é".repeat(100), "x".repeat(300)],
      timeMs: [-1_000, 0, 5_000_000.4],
      latencyMicros: [0, 2 ** 32 + 5, 16_384],
    });
    expect(Buffer.from(encodePredictionLog(f)).equals(Buffer.from(generated(f, 3)))).toBe(true);
    const log = fromBinary(PredictionLogSchema, encodePredictionLog(f));
    expect(log.shadow).toBe(true);
    expect(log.model).toBe("");
    expect(log.requestIds[1]).toBe("é".repeat(100));
    expect(log.timeMicros).toEqual([-1_000_000n, 0n, 5_000_000_400n]);
    expect(log.latencyMicros).toEqual([0, 0xffffffff, 16_384]);
  });

  it("a log of no rows", () => {
    const none = { entities: [] as TypedColumn[], features: [] as TypedColumn[], outputs: [] as TypedColumn[] };
    const f = fields({ requestIds: [], timeMs: [], latencyMicros: [], entities: encodeRecordBatch(0, []), features: encodeRecordBatch(0, []), outputs: encodeRecordBatch(0, []) });
    expect(Buffer.from(encodePredictionLog(f)).equals(Buffer.from(generated(f, 0, none)))).toBe(true);
  });

  it("refuses per-row lists of different lengths", () => {
    expect(() => encodePredictionLog(fields({ latencyMicros: [1] }))).toThrow(/3 request ids, 3 times, 1 latencies/);
  });
});
