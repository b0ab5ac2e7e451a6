import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { RecordBatchSchema } from "@fti/proto/fti/common/v1/record_batch_pb";
import { IngestRequestSchema } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import { FeatureSchemaSchema } from "@fti/proto/fti/common/v1/types_pb";
import { InvalidArgumentError } from "@fti/errors";
import type { Value } from "@fti/schema";
import {
  ColumnBuilder,
  decodeRecordBatch,
  encodeRecordBatch,
  withEncodedField,
  featureTypeFromWire,
  featureTypeToWire,
  featuresFromWire,
  fixedWidthArray,
  fixedWidthValues,
  isFixedWidthType,
  recordBatchMessage,
  type FixedWidthColumn,
  type TypedColumn,
} from "../src/index.js";

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

/** The fixed-width columns of `cols` as typed arrays (zeros at nulls), the way a columnar reader holds them. */
function asFixedWidth(cols: readonly TypedColumn[], n: number, opts: { spare?: number; dirtyTail?: boolean; fullBitmap?: boolean } = {}): (TypedColumn | FixedWidthColumn)[] {
  return cols.map((c) => {
    if (!isFixedWidthType(c.type)) return c;
    const data = fixedWidthArray(c.type, n + (opts.spare ?? 0));
    // Spare entries past the last row hold junk: the encoder must ignore them.
    for (let i = n; i < data.length; i++) data[i] = (c.type === "int64" || c.type === "timestamp" ? 7n : 7) as never;
    const validity = new Uint8Array(Math.ceil(n / 8) + (opts.spare ? 1 : 0)).fill(opts.dirtyTail ? 0xff : 0);
    if (!opts.dirtyTail) for (let i = 0; i < n; i++) validity[i >> 3]! |= 1 << (i & 7);
    c.values.forEach((v, i) => {
      if (v === null) validity[i >> 3]! &= ~(1 << (i & 7));
      else data[i] = (c.type === "bool" ? (v ? 1 : 0) : c.type === "timestamp" ? BigInt((v as Date).getTime()) * 1000n : v) as never;
    });
    const hasNull = c.values.some((v) => v === null);
    return { name: c.name, type: c.type, data, ...(hasNull || opts.fullBitmap ? { validity } : {}) };
  });
}

describe("encodeRecordBatch from typed arrays", () => {
  it("writes exactly the bytes of the same values, nulls and every scalar type included", () => {
    const expected = Buffer.from(encodeRecordBatch(rowCount, columns));
    expect(Buffer.from(encodeRecordBatch(rowCount, asFixedWidth(columns, rowCount))).equals(expected)).toBe(true);
    // Longer arrays, set bits past the last row, and a bitmap with no null are normalized away.
    expect(Buffer.from(encodeRecordBatch(rowCount, asFixedWidth(columns, rowCount, { spare: 5, dirtyTail: true, fullBitmap: true }))).equals(expected)).toBe(true);
  });

  it("matches for all-valid, all-null and empty columns", () => {
    const cols: TypedColumn[] = [
      { name: "d", type: "double", values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] },
      { name: "n", type: "int64", values: new Array(11).fill(null) },
      { name: "t", type: "timestamp", values: Array.from({ length: 11 }, (_, i) => (i % 3 ? t(i * 1000) : null)) },
    ];
    expect(Buffer.from(encodeRecordBatch(11, asFixedWidth(cols, 11, { fullBitmap: true }))).equals(Buffer.from(encodeRecordBatch(11, cols)))).toBe(true);
    const empty: TypedColumn[] = [{ name: "x", type: "float", values: [] }];
    expect(Buffer.from(encodeRecordBatch(0, asFixedWidth(empty, 0))).equals(Buffer.from(encodeRecordBatch(0, empty)))).toBe(true);
  });

  it("boxes typed columns back into the decoder's values", () => {
    for (const c of asFixedWidth(columns, rowCount)) if ("data" in c) expect(fixedWidthValues(c, rowCount), c.name).toEqual(decodeRecordBatch(fromBinary(RecordBatchSchema, encodeRecordBatch(rowCount, [c]))).columns[c.name]);
  });

  it("rejects an array of the wrong type or too short", () => {
    expect(() => encodeRecordBatch(2, [{ name: "x", type: "double", data: new Float32Array(2) }])).toThrow("Float64Array");
    expect(() => encodeRecordBatch(3, [{ name: "x", type: "double", data: new Float64Array(2) }])).toThrow("2 values for 3 rows");
  });
});

describe("ColumnBuilder", () => {
  it("builds, value by value and past its first capacity, exactly the batch of the same values", () => {
    // Capacity 2: every column grows several times over 9 rows.
    const builders = columns.map((c) => new ColumnBuilder(c.name, c.type, 2));
    for (let i = 0; i < rowCount; i++) builders.forEach((b, j) => b.append(columns[j]!.values[i]!));
    expect(builders.map((b) => b.length)).toEqual(columns.map(() => rowCount));
    const built = builders.map((b) => b.column());
    // Fixed-width columns are held as typed arrays, the rest as values.
    expect(built.filter((c) => "data" in c).map((c) => c.name)).toEqual(["ok", "n32", "n64", "f", "d", "ts"]);
    expect(Buffer.from(encodeRecordBatch(rowCount, built)).equals(Buffer.from(encodeRecordBatch(rowCount, columns)))).toBe(true);
  });

  it("carries no bitmap without a null, and an all-null column decodes to nulls", () => {
    const valid = new ColumnBuilder("d", "double");
    const nulls = new ColumnBuilder("n", "int64");
    for (let i = 0; i < 100; i++) {
      valid.append(i / 2);
      nulls.append(null);
    }
    expect((valid.column() as FixedWidthColumn).validity).toBeUndefined();
    const decoded = decodeRecordBatch(fromBinary(RecordBatchSchema, encodeRecordBatch(100, [valid.column(), nulls.column()])));
    expect(decoded.columns.d).toEqual(Array.from({ length: 100 }, (_, i) => i / 2));
    expect(decoded.columns.n).toEqual(new Array(100).fill(null));
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
