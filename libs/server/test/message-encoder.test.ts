// messageEncoder against toBinary: random messages of every message type we
// generate code for (and of the test files in random-messages.ts), with and
// without unknown fields; zero values everywhere; the responses' pre-encoded
// fields; and values of the wrong type, which must give toBinary's bytes or
// toBinary's error.
import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary, type DescField, type DescMessage, type Message, type UnknownField } from "@bufbuild/protobuf";
import { reflect, scalarZeroValue } from "@bufbuild/protobuf/reflect";
import { BinaryWriter, configureTextEncoding, getTextEncoding, WireType } from "@bufbuild/protobuf/wire";
import { BoolValueSchema, FileDescriptorProtoSchema, Int32ValueSchema } from "@bufbuild/protobuf/wkt";
import { ColumnSchema, RecordBatchSchema } from "@fti/proto/fti/common/v1/record_batch_pb";
import {
  FeatureColumnSchema,
  FeatureStatus,
  GetFeatureVectorsRequestSchema,
  GetFeatureVectorsResponseSchema,
  PredictRequestSchema,
  PredictResponseSchema,
} from "@fti/proto/fti/serving/v1/serving_pb";
import { fastMessageDecoder } from "../src/message-decoder.js";
import { fastMessageEncoder, messageEncoder } from "../src/message-encoder.js";
import { useFastUtf8Encoding } from "../src/text-encoding.js";
import { generatedFiles, LegacySchema, MAX_DEPTH, messagesOf, prng, randomMessage, reachesStructField, SinkSchema, StructHolderSchema, testFiles, wktFiles, type Rng } from "./random-messages.js";

const SEED = Number(process.env.ENCODER_TEST_SEED ?? 20240612);
const MESSAGES_PER_TYPE = 300;

type Msg = Record<string, unknown>;

// ------------------------------------------------------------------- helpers

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** messageEncoder's bytes are toBinary's, and (unless told otherwise) the fast path wrote them. */
function expectSameEncoding(schema: DescMessage, message: Message, context: string, fastPathExpected = true) {
  const expected = toBinary(schema, message);
  const actual = messageEncoder(schema)(message as never);
  if (!(actual instanceof Uint8Array)) throw new Error(`${context}: not a Uint8Array`);
  if (hex(actual) !== hex(expected)) throw new Error(`${context}: ${hex(actual)} vs ${hex(expected)}`);
  if (fastPathExpected) {
    const fast = fastMessageEncoder(schema)?.(message as never);
    if (fast === undefined) throw new Error(`${context}: the fast path gave up`);
    if (hex(fast) !== hex(expected)) throw new Error(`${context}: fast path ${hex(fast)} vs ${hex(expected)}`);
  }
}

type Outcome = { bytes: string } | { error: string };
function outcome(encode: () => Uint8Array): Outcome {
  try {
    return { bytes: hex(encode()) };
  } catch (e) {
    return { error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
}

/** Both encode to the same bytes, or both throw the same error. */
function expectSameOutcome(schema: DescMessage, message: unknown, context: string) {
  const expected = outcome(() => toBinary(schema, message as Message));
  const actual = outcome(() => messageEncoder(schema)(message as never));
  expect(actual, context).toEqual(expected);
}

/** Random unknown fields: every wire type, small and huge field numbers, empty and long data. */
function randomUnknown(rng: Rng): UnknownField[] {
  const fields: UnknownField[] = [];
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const no = rng.pick([1, 3, 15, 16, 2047, 2048, 100_000, 536_870_911, 1 + rng.int(536_870_911)]);
    const w = new BinaryWriter();
    const wireType = rng.pick([WireType.Varint, WireType.Bit64, WireType.LengthDelimited, WireType.Bit32]);
    if (wireType === WireType.Varint) w.uint64(rng.u64());
    else if (wireType === WireType.Bit64) w.fixed64(rng.u64());
    else if (wireType === WireType.Bit32) w.fixed32(rng.u32());
    else w.bytes(new Uint8Array(rng.pick([0, 1, 40, 200])).map(() => rng.int(256)));
    fields.push({ no, wireType, data: w.finish() });
  }
  return fields;
}

/** Gives some of the messages in `value` (itself or nested anywhere) random unknown fields. */
function addUnknown(rng: Rng, value: unknown): void {
  if (typeof value !== "object" || value === null || value instanceof Uint8Array) return;
  for (const v of Array.isArray(value) ? value : Object.values(value)) addUnknown(rng, v);
  if ("$typeName" in value && rng.chance(0.3)) (value as Message).$unknown = randomUnknown(rng);
}

function zeroValue(f: DescField, depth: number): unknown {
  if (f.message) return reflect(f.message, zeroMessage(f.message, depth + 1));
  if (f.enum) return f.enum.values[0]!.number;
  return scalarZeroValue(f.scalar!, false);
}

/**
 * Every field set to its zero value: omitted with implicit presence, written
 * for proto3 `optional`, oneofs, wrappers, list items and map entries.
 */
function zeroMessage(desc: DescMessage, depth = 0): Message {
  const msg = reflect(desc);
  for (const member of desc.members) {
    const f = member.kind === "oneof" ? member.fields[0]! : member;
    if (f.message && depth >= MAX_DEPTH) continue;
    switch (f.fieldKind) {
      case "list":
        msg.get(f).add(zeroValue(f, depth));
        break;
      case "map":
        msg.get(f).set(scalarZeroValue(f.mapKey, false) as never, zeroValue(f, depth));
        break;
      default:
        msg.set(f, zeroValue(f, depth));
    }
  }
  return msg.message;
}

/** As withEncodedField (libs/record-batch): a length-delimited field's bytes, length first. */
function encodedField(no: number, bytes: Uint8Array): UnknownField {
  return { no, wireType: WireType.LengthDelimited, data: new BinaryWriter().bytes(bytes).finish() };
}

/**
 * As appendFeatureColumns (services/online-serving): all occurrences of a
 * repeated message field as one unknown field, the first occurrence's tag
 * left to the writer, every later one's in the data.
 */
function concatenatedOccurrences(no: number, messages: Uint8Array[]): UnknownField {
  const w = new BinaryWriter();
  messages.forEach((m, i) => {
    if (i > 0) w.tag(no, WireType.LengthDelimited);
    w.bytes(m);
  });
  return { no, wireType: WireType.LengthDelimited, data: w.finish() };
}

function featureColumn(i: number, rows: number): Uint8Array {
  const values = Array.from({ length: rows }, (_, r) => i * 1.5 + r);
  return toBinary(
    FeatureColumnSchema,
    create(FeatureColumnSchema, {
      values: { name: `feature_${i}`, data: { case: "doubleValues", value: { values } } },
      statuses: Array.from({ length: rows }, () => FeatureStatus.PRESENT),
      eventTimeMicros: Array.from({ length: rows }, (_, r) => 1_718_000_000_000_000n + BigInt(r)),
    }),
  );
}

function featureVectorsResponse(columns: number, rows: number) {
  const response = create(GetFeatureVectorsResponseSchema, { featureView: "projects/fraud/featureViews/fraud_view/versions/1", model: "projects/fraud/models/fraud_model/versions/3" });
  response.$unknown = [concatenatedOccurrences(3, Array.from({ length: columns }, (_, i) => featureColumn(i, rows)))];
  return response;
}

function predictResponse() {
  const response = create(PredictResponseSchema, {
    requestId: "0f8fad5b-d9cb-469f-a165-70867728950e",
    model: "projects/fraud/models/fraud_model/versions/3",
    deploymentRevision: 7n,
    featureView: "projects/fraud/featureViews/fraud_view/versions/1",
  });
  const outputs = toBinary(RecordBatchSchema, create(RecordBatchSchema, { rowCount: 1, columns: [{ name: "probability", data: { case: "floatValues", value: { values: [0.25] } } }] }));
  response.$unknown = [encodedField(5, outputs), concatenatedOccurrences(6, [featureColumn(0, 1), featureColumn(1, 1)])];
  return response;
}

// --------------------------------------------------------------------- tests

describe("random messages of every type encode as with toBinary", () => {
  it("finds our generated files", () => {
    expect(generatedFiles.length).toBeGreaterThan(20);
    expect(generatedFiles.flatMap(messagesOf)).toContain(GetFeatureVectorsResponseSchema);
  });

  for (const file of [...generatedFiles, ...wktFiles, ...testFiles]) {
    it(file.name, () => {
      let seed = SEED;
      for (const schema of messagesOf(file)) {
        const fastPath = fastMessageEncoder(schema) !== undefined;
        // The decoder's rules: what falls back in proto3 files is only types holding a Struct field.
        expect(fastPath, schema.typeName).toBe(fastMessageDecoder(schema) !== undefined);
        if (file.edition === 999 && !fastPath) expect(reachesStructField(schema), `${schema.typeName} falls back`).toBe(true);
        for (let i = 0; i < MESSAGES_PER_TYPE; i++) {
          const rng = prng(++seed);
          const context = `${schema.typeName}, seed ${seed}`;
          const message = randomMessage(rng, schema);
          expectSameEncoding(schema, message, context, fastPath);
          if (i % 3 === 0) {
            addUnknown(rng, message);
            expectSameEncoding(schema, message, `${context}, unknown fields`, fastPath);
          }
        }
      }
    });
  }

  it("encodes empty messages and zero values everywhere", () => {
    for (const file of [...generatedFiles, ...wktFiles, ...testFiles]) {
      for (const schema of messagesOf(file)) {
        const fastPath = fastMessageEncoder(schema) !== undefined;
        if (file.edition === 999) {
          expectSameEncoding(schema, create(schema), `${schema.typeName}, empty`, fastPath);
          expect(toBinary(schema, create(schema))).toHaveLength(0);
          expectSameEncoding(schema, zeroMessage(schema), `${schema.typeName}, zeros`, fastPath);
        } else {
          // proto2 required fields unset: toBinary throws
          expectSameOutcome(schema, create(schema), `${schema.typeName}, empty`);
          expectSameOutcome(schema, zeroMessage(schema), `${schema.typeName}, zeros`);
        }
      }
    }
    // Implicit presence omits zeros; optional, oneof, wrappers and list items write them.
    const sink = messageEncoder(SinkSchema)(zeroMessage(SinkSchema) as never);
    expect(fromBinary(SinkSchema, sink)).toMatchObject({ optInt32: 0, optString: "", wInt64: 0n, wString: "", rDouble: [0], choice: { case: "oString", value: "" } });
  });
});

describe("what responses hold", () => {
  it("takes the fast path for the serving responses and every type the decoder handles", () => {
    for (const schema of [GetFeatureVectorsResponseSchema, PredictResponseSchema, FeatureColumnSchema, RecordBatchSchema, ColumnSchema, SinkSchema, GetFeatureVectorsRequestSchema, PredictRequestSchema]) {
      expect(fastMessageEncoder(schema), schema.typeName).toBeDefined();
    }
    for (const schema of [...generatedFiles, ...wktFiles, ...testFiles].flatMap(messagesOf)) {
      if (fastMessageDecoder(schema)) expect(fastMessageEncoder(schema), schema.typeName).toBeDefined();
    }
    expectSameEncoding(GetFeatureVectorsResponseSchema, featureVectorsResponse(50, 1), "GetFeatureVectorsResponse");
    expectSameEncoding(PredictResponseSchema, predictResponse(), "PredictResponse");
  });

  it("writes unknown fields last and verbatim: many occurrences in one, as the vector encoder does", () => {
    const response = featureVectorsResponse(50, 3);
    expectSameEncoding(GetFeatureVectorsResponseSchema, response, "50 columns");
    const decoded = fromBinary(GetFeatureVectorsResponseSchema, messageEncoder(GetFeatureVectorsResponseSchema)(response));
    expect(decoded.features).toHaveLength(50);
    expect(decoded.features[49]!.values!.name).toBe("feature_49");
    expect(decoded.featureView).toBe(response.featureView);

    const predict = messageEncoder(PredictResponseSchema)(predictResponse());
    expect(fromBinary(PredictResponseSchema, predict)).toMatchObject({ deploymentRevision: 7n, outputs: { rowCount: 1 }, features: [{ values: { name: "feature_0" } }, { values: { name: "feature_1" } }] });

    // Several unknown fields, after the known ones (whatever their numbers), in their order.
    const m = create(PredictResponseSchema, { requestId: "r", featureView: "v" });
    m.$unknown = [
      { no: 536_870_911, wireType: WireType.Varint, data: new Uint8Array([0x96, 0x01]) },
      { no: 1, wireType: WireType.LengthDelimited, data: new Uint8Array([1, 0x78]) },
      { no: 7, wireType: WireType.Bit32, data: new Uint8Array([1, 2, 3, 4]) },
      encodedField(5, new Uint8Array(300).fill(7)),
    ];
    expectSameEncoding(PredictResponseSchema, m, "several unknown fields");
    const bytes = messageEncoder(PredictResponseSchema)(m);
    expect(hex(bytes.subarray(0, 6))).toBe("0a0172220176"); // request_id, feature_view
    expect(hex(bytes.subarray(6, 13))).toBe("f8ffffff0f9601"); // field 536870911 varint: a 5-byte tag
  });

  it("writes the responses identically with the server's UTF-8 encoder installed", () => {
    const original = getTextEncoding();
    useFastUtf8Encoding();
    try {
      const rng = prng(SEED - 1);
      expectSameEncoding(GetFeatureVectorsResponseSchema, featureVectorsResponse(50, 1), "GetFeatureVectorsResponse");
      expectSameEncoding(PredictResponseSchema, predictResponse(), "PredictResponse");
      for (let i = 0; i < 100; i++) expectSameEncoding(SinkSchema, randomMessage(rng, SinkSchema), `Sink ${i}`);
    } finally {
      configureTextEncoding(original);
    }
  });
});

describe("values at the edges", () => {
  const encode = messageEncoder(SinkSchema);
  const sink = (init: Msg) => create(SinkSchema, init);

  it("negative int32 and enums: 10-byte varints", () => {
    const m = sink({ sInt32: -1 });
    expectSameEncoding(SinkSchema, m, "int32 -1");
    expect(hex(encode(m as never))).toBe("28ffffffffffffffffff01");
    for (const init of [{ sInt32: -0x80000000 }, { color: -1 }, { rInt32: [-1, 1, -0x80000000] }, { colors: [-1, 0, 1] }, { optInt32: -5 }, { mInt32double: { "-1": 0.5 } }, { sSint32: -0x80000000 }, { sSfixed32: -1 }]) {
      expectSameEncoding(SinkSchema, sink(init), JSON.stringify(init));
    }
  });

  it("very large field numbers", () => {
    for (const farthest of [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n)]) expectSameEncoding(SinkSchema, sink({ farthest, far: "x" }), `farthest ${farthest}`);
    expect(hex(encode(sink({ farthest: -1n }) as never))).toBe("f8ffffff0f01");
  });

  it("-0, NaN and infinities", () => {
    const nanWithPayload = new Float64Array(new Uint8Array([1, 0, 0, 0, 0, 0, 0xf8, 0x7f]).buffer)[0]!;
    for (const x of [-0, 0, NaN, nanWithPayload, Infinity, -Infinity, Number.MIN_VALUE, 3.4028234663852886e38]) {
      expectSameEncoding(SinkSchema, sink({ sDouble: x, sFloat: x, rDouble: [x], rFloat: [x], wDouble: x, wFloat: x }), `${x}`);
    }
    // Implicit presence: +0 is omitted, -0 written.
    expect(encode(sink({ sDouble: 0 }) as never)).toHaveLength(0);
    expect(hex(encode(sink({ sDouble: -0 }) as never))).toBe("090000000000000080");
  });

  it("64-bit integers given as bigint, number or string, as create() keeps them", () => {
    for (const init of [
      { sInt64: 5, sUint64: "18446744073709551615", sSint64: -3, sFixed64: "12", sSfixed64: -7 },
      { sInt64: "0", sUint64: 0, sSint64: "-0" }, // zero: not written
      { rInt64: [1, "2", 3n, -4], rUint64: ["0", 2 ** 53], rFixed64: [1, "2"], rSfixed64: [-1, "-2"], rSint64: [-1, "-2"] },
      { choice: { case: "oInt64", value: "-9223372036854775808" }, wInt64: "9223372036854775807", wUint64: 18446744073709551615n },
      { mInt64sink: { "-3": {}, "9223372036854775807": { sInt32: 1 } }, mFixed64string: { "0": "", "18446744073709551615": "x" }, mSint64sfixed64: { "-1": -1n } },
    ]) {
      expectSameEncoding(SinkSchema, sink(init), JSON.stringify(init, (_, v) => (typeof v === "bigint" ? `${v}n` : v)));
    }
  });

  it("strings: ASCII, long, non-ASCII, lone surrogates", () => {
    for (const s of ["", "a", "x".repeat(255), "x".repeat(256), "x".repeat(257), "x".repeat(5000), "é", "x".repeat(256) + "é", "\ud800", "a\udc00b", "😀", "\u007f\u0080", "日本語".repeat(100)]) {
      expectSameEncoding(SinkSchema, sink({ sString: s, rString: [s, s], optString: s, choice: { case: "oString", value: s }, wString: s, mStringstring: { [s]: s }, far: s }), JSON.stringify(s.slice(0, 20)));
    }
  });

  it("map keys as protobuf-es orders them (integer-like first) and encodes them", () => {
    const m = sink({ mStringstring: { b: "1", "2": "2", a: "3", "1": "4" }, mBoolbytes: { true: new Uint8Array([1]), false: new Uint8Array(0) }, mUint32bool: { "4294967295": true, "0": false }, mFixed32uint64: { "7": 1n } });
    expectSameEncoding(SinkSchema, m, "maps");
    expect(Object.keys((fromBinary(SinkSchema, encode(m as never)) as unknown as Msg).mStringstring as object)).toEqual(["1", "2", "b", "a"]);
  });

  it("wrappers, nested and repeated messages, oneof messages", () => {
    const child = { sString: "child", children: [{ sInt32: 1 }, {}], choice: { case: "oMsg", value: { sBool: true } } };
    const init = { child, children: [child, {}, child], choice: { case: "oWrapper", value: create(BoolValueSchema, { value: false }) }, wBool: false, wBytes: new Uint8Array(0), wList: [{ value: 0 }, { value: -1 }], optMsg: { child } };
    expectSameEncoding(SinkSchema, sink(init), "nested");
    expectSameEncoding(SinkSchema, sink({ choice: { case: "oWrapper", value: { value: true } } }), "oneof wrapper");
    // A 3-level message with a long string: length prefixes of several bytes.
    expectSameEncoding(SinkSchema, sink({ child: { child: { sString: "é".repeat(20_000) } } }), "long nested");
  });
});

describe("unexpected values: toBinary's bytes or toBinary's error", () => {
  const good = () => create(SinkSchema, { sString: "x", child: { sInt32: 1 } }) as unknown as Msg;
  const cases: [string, (m: Msg) => void][] = [
    ["int32 1.5", (m) => (m.sInt32 = 1.5)],
    ["int32 as a string", (m) => (m.sInt32 = "7")],
    ["int32 out of range", (m) => (m.sInt32 = 2 ** 31)],
    ["uint32 -1", (m) => (m.sUint32 = -1)],
    ["float out of range", (m) => (m.sFloat = 1e39)],
    ["double as a string", (m) => (m.sDouble = "1.5")],
    ["bool as a number", (m) => (m.sBool = 1)],
    ["string as a number", (m) => (m.sString = 5)],
    ["bytes as an array", (m) => (m.sBytes = [1, 2])],
    ["int64 1.5", (m) => (m.sInt64 = 1.5)],
    ["int64 out of range", (m) => (m.sInt64 = 2n ** 63n)],
    ["uint64 -1", (m) => (m.sUint64 = -1n)],
    ["int64 not a number", (m) => (m.sInt64 = "x")],
    ["implicit field undefined", (m) => (m.sInt32 = undefined)],
    ["enum undefined", (m) => (m.color = undefined)],
    ["list not an array", (m) => (m.rInt32 = undefined)],
    ["list with a hole", (m) => (m.rDouble = [1, , 2])],
    ["list item of the wrong type", (m) => (m.rString = ["a", 1])],
    ["message of another type", (m) => (m.child = create(ColumnSchema))],
    ["message null", (m) => (m.child = null)],
    ["list of messages with undefined", (m) => (m.children = [undefined])],
    ["oneof with no value", (m) => (m.choice = { case: "oInt64" })],
    ["oneof missing", (m) => (m.choice = undefined)],
    ["wrapper as a message", (m) => (m.wInt32 = create(Int32ValueSchema, { value: 1 }))],
    ["map value undefined", (m) => (m.mInt64sink = { "1": undefined })],
    ["map key not a number", (m) => (m.mInt32double = { x: 1 })],
    ["map key not a bool", (m) => (m.mBoolbytes = { yes: new Uint8Array(1) })],
    ["map key out of range", (m) => (m.mSint64sfixed64 = { "9223372036854775808": 1n })],
    ["unknown fields not an array", (m) => (m.$unknown = {})],
    ["unknown field data an array", (m) => (m.$unknown = [{ no: 5, wireType: 0, data: [1] }])],
    ["unknown field number a string", (m) => (m.$unknown = [{ no: "5", wireType: 0, data: new Uint8Array([1]) }])],
    ["nested message's $typeName", (m) => ((m.child as Msg).$typeName = "test.v1.Other")],
  ];
  for (const [name, mutate] of cases) {
    it(name, () => {
      const m = good();
      mutate(m);
      expect(fastMessageEncoder(SinkSchema)!(m as never), "the fast path gives up").toBeUndefined();
      expectSameOutcome(SinkSchema, m, name);
      // And the next message is fine again.
      expectSameEncoding(SinkSchema, good() as never, `after ${name}`);
    });
  }

  it("the wrong message altogether", () => {
    expectSameOutcome(SinkSchema, create(ColumnSchema, { name: "x" }), "a Column as a Sink");
    expectSameOutcome(GetFeatureVectorsResponseSchema, undefined, "undefined");
  });
});

describe("schemas the fast path leaves to toBinary", () => {
  it("Struct fields, proto2, descriptor.proto", () => {
    for (const schema of [StructHolderSchema, LegacySchema, FileDescriptorProtoSchema]) {
      expect(fastMessageEncoder(schema), schema.typeName).toBeUndefined();
      const rng = prng(SEED);
      for (let i = 0; i < 50; i++) expectSameEncoding(schema, randomMessage(rng, schema), schema.typeName, false);
    }
    expectSameEncoding(StructHolderSchema, create(StructHolderSchema, { s: { a: [1, "x", null] } } as never), "struct", false);
  });

  it("is built once per schema", () => {
    expect(messageEncoder(PredictResponseSchema)).toBe(messageEncoder(PredictResponseSchema));
  });
});
