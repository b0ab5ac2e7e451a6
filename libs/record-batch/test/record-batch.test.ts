import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { RecordBatchSchema } from "@fti/proto/fti/common/v1/record_batch_pb";
import { IngestRequestSchema } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import { FeatureSchemaSchema } from "@fti/proto/fti/common/v1/types_pb";
import { InvalidArgumentError } from "@fti/errors";
import type { Value } from "@fti/schema";
import { decodeRecordBatch, encodeRecordBatch, withEncodedField, featureTypeFromWire, featureTypeToWire, featuresFromWire, recordBatchMessage, type TypedColumn } from "../src/index.js";

const t = (ms: number) => new Date(ms);
const columns: TypedColumn[] = [
  { name: "ok", type: "bool", values: [true, null, false, true, false, true, true, false, true] },
  { name: "n32", type: "int32", values: [1, -2, null, 2147483647, -2147483648, 0, 5, 6, 7] },
  { name: "n64", type: "int64", values: [1n, null, -(2n ** 63n), 2n ** 63n - 1n, 0n, 5n, 6n, 7n, 8n] },
  { name: "f", type: "float", values: [1.5, 0.25, null, -3, 0, 1, 2, 3, 4] },
  { name: "d", type: "double", values: [Math.PI, null, -1e300, 0, 1, 2, 3, 4, 5] },
  { name: "s", type: "string", values: ["a", "", null, "héllo ✓", "x", "y", "z", "w", "v"] },
  { name: "b", type: "bytes", values: [new Uint8Array([1, 2]), null, new Uint8Array(0), new Uint8Array([255]), new Uint8Array([0]), new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3]), new Uint8Array([4])] },
  { name: "ts", type: "timestamp", values: [t(0), t(1_700_000_000_123), null, t(-1000), t(1), t(2), t(3), t(4), t(5)] },
  { name: "arr", type: { array: "double" }, values: [[1, 2], [], null, [3], [4, 5, 6], [7], [], [8], [9]] },
  { name: "tags", type: { array: "string" }, values: [["a"], ["b", "c"], [], null, ["d"], [], ["e"], ["f"], ["g"]] },
  { name: "emb", type: { embedding: 3 }, values: [Float32Array.of(1, 2, 3), null, Float32Array.of(0.5, 0, -1), Float32Array.of(0, 0, 0), Float32Array.of(1, 1, 1), Float32Array.of(2, 2, 2), Float32Array.of(3, 3, 3), Float32Array.of(4, 4, 4), Float32Array.of(5, 5, 5)] },
];
const rowCount = 9;

describe("encodeRecordBatch", () => {
  it("writes exactly the bytes the generated encoder writes", () => {
    const direct = encodeRecordBatch(rowCount, columns);
    const generic = toBinary(RecordBatchSchema, recordBatchMessage(rowCount, columns));
    expect(Buffer.from(direct).equals(Buffer.from(generic))).toBe(true);
  });

  it("round-trips every type, nulls included, through the generated decoder", () => {
    const decoded = decodeRecordBatch(fromBinary(RecordBatchSchema, encodeRecordBatch(rowCount, columns)));
    expect(decoded.rowCount).toBe(rowCount);
    for (const c of columns) {
      const expected = c.values.map((v: Value) => (c.type === "float" && typeof v === "number" ? Math.fround(v) : v));
      // Nulls inside array rows come back as empty arrays on the wire only when null: keep nulls null.
      expect(decoded.columns[c.name], c.name).toEqual(expected);
    }
  });

  it("handles an empty batch and an all-null column", () => {
    expect(Buffer.from(encodeRecordBatch(0, [{ name: "x", type: "double", values: [] }])).equals(Buffer.from(toBinary(RecordBatchSchema, recordBatchMessage(0, [{ name: "x", type: "double", values: [] }]))))).toBe(true);
    const nulls: TypedColumn[] = [{ name: "x", type: "double", values: [null, null, null] }];
    expect(decodeRecordBatch(fromBinary(RecordBatchSchema, encodeRecordBatch(3, nulls))).columns.x).toEqual([null, null, null]);
  });

  it("embeds pre-encoded bytes as an ordinary field of a response message", () => {
    const batch = encodeRecordBatch(rowCount, columns);
    const message = withEncodedField(create(IngestRequestSchema, { featureGroup: "projects/p/featureGroups/g/versions/1", batchId: "b1" }), 3, batch);
    const parsed = fromBinary(IngestRequestSchema, toBinary(IngestRequestSchema, message));
    expect(parsed.batchId).toBe("b1");
    expect(decodeRecordBatch(parsed.rows!).columns.s).toEqual(columns.find((c) => c.name === "s")!.values);
  });
});

describe("decodeRecordBatch", () => {
  it("names the column and the problem for malformed batches", () => {
    const bad = create(RecordBatchSchema, {
      rowCount: 3,
      columns: [
        { name: "a", data: { case: "doubleValues", value: { values: [1, 2] } } },
        { name: "a", data: { case: "doubleValues", value: { values: [1, 2, 3] } } },
        { name: "v", validity: new Uint8Array([1, 2]), data: { case: "int32Values", value: { values: [1, 2, 3] } } },
      ],
    });
    const err = (() => {
      try {
        decodeRecordBatch(bad);
      } catch (e) {
        return e as InvalidArgumentError;
      }
    })();
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err!.violations.map((v) => v.field)).toEqual(["rows.columns[0].double_values", "rows.columns[1].name", "rows.columns[2].validity"]);
  });

  it("drops sub-millisecond digits of timestamps (event times are kept to the millisecond)", () => {
    const b = create(RecordBatchSchema, { rowCount: 1, columns: [{ name: "t", data: { case: "timestampValues", value: { micros: [1_700_000_000_123_999n] } } }] });
    expect(decodeRecordBatch(b).columns.t).toEqual([new Date(1_700_000_000_123)]);
  });
});

describe("feature types", () => {
  it("map both ways and reject a missing type naming the field", () => {
    for (const type of ["bool", "int64", "timestamp", { array: "string" as const }, { embedding: 16 }] as const) expect(featureTypeFromWire(featureTypeToWire(type), "t")).toEqual(type);
    const schema = create(FeatureSchemaSchema, { features: [{ name: "a", type: featureTypeToWire("double"), nullable: false }, { name: "b" }] });
    expect(() => featuresFromWire(schema.features, "feature_group.schema.features")).toThrow("feature_group.schema.features[1].type");
  });
});
