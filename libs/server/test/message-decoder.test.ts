// messageDecoder against fromBinary: random messages of every message type we
// generate code for (and of a test file using every proto3 feature: see
// random-messages.ts), hand-made encodings protobuf-es's own writer never
// produces, and broken input.
import { describe, expect, it } from "vitest";
import { create, equals, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { RecordBatchSchema, ColumnSchema } from "@fti/proto/fti/common/v1/record_batch_pb";
import { GetFeatureVectorsRequestSchema, PredictRequestSchema } from "@fti/proto/fti/serving/v1/serving_pb";
import { fastMessageDecoder, messageDecoder } from "../src/message-decoder.js";
import { concat, generatedFiles, LegacySchema, messagesOf, prng, randomMessage, reachesStructField, SinkSchema, StructHolderSchema, testFiles, wktFiles } from "./random-messages.js";

const SEED = Number(process.env.DECODER_TEST_SEED ?? 20240611);
const MESSAGES_PER_TYPE = 200;

// ------------------------------------------------------------------ comparing

/** The first difference between two decoded values: own keys in order, types, -0, NaN, bytes. */
function difference(a: unknown, b: unknown, path = "message"): string | undefined {
  if (typeof a !== typeof b) return `${path}: ${typeof a} vs ${typeof b}`;
  if (typeof a === "number") return Object.is(a, b) ? undefined : `${path}: ${a} vs ${b}`;
  if (typeof a !== "object" || a === null || b === null) return a === b ? undefined : `${path}: ${String(a)} vs ${String(b)}`;
  const o = b as Record<string | symbol, unknown>;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(o)) return `${path}: different prototypes`;
  if (a instanceof Uint8Array) {
    const c = o as unknown as Uint8Array;
    if (a.length !== c.length || a.some((x, i) => x !== c[i])) return `${path}: bytes [${a}] vs [${c}]`;
    // Both views of the input, not copies.
    if (a.length > 0 && (a.buffer !== c.buffer || a.byteOffset !== c.byteOffset)) return `${path}: different views`;
    return undefined;
  }
  const keysA = Reflect.ownKeys(a).map(String);
  const keysB = Reflect.ownKeys(o).map(String);
  if (keysA.join() !== keysB.join()) return `${path}: keys [${keysA}] vs [${keysB}]`;
  for (const key of Reflect.ownKeys(a)) {
    const d = difference((a as Record<string | symbol, unknown>)[key], o[key], `${path}.${String(key)}`);
    if (d) return d;
  }
  return undefined;
}

/** messageDecoder's result is fromBinary's, and the fast path took it. */
function expectSameDecoding(schema: DescMessage, bytes: Uint8Array, context: string, fastPathExpected = true) {
  const expected = fromBinary(schema, bytes);
  const actual = messageDecoder(schema)(bytes);
  const d = difference(actual, expected);
  if (d) throw new Error(`${context}: ${d}`);
  // equals() says the same about the two as about two fromBinary results (it has NaN != NaN).
  if (equals(schema, actual, expected) !== equals(schema, fromBinary(schema, bytes), expected)) throw new Error(`${context}: equals() differs`);
  if (fastPathExpected && fastMessageDecoder(schema)?.(bytes) === undefined) throw new Error(`${context}: the fast path gave up on well-formed input`);
}

type Outcome = { value: unknown } | { error: string };
function outcome(decode: () => unknown): Outcome {
  try {
    return { value: decode() };
  } catch (e) {
    return { error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
}

/** Both decode to the same message, or both throw the same error. */
function expectSameOutcome(schema: DescMessage, bytes: Uint8Array, context: string) {
  const expected = outcome(() => fromBinary(schema, bytes));
  const actual = outcome(() => messageDecoder(schema)(bytes));
  if ("error" in expected || "error" in actual) {
    if (!("error" in expected && "error" in actual) || expected.error !== actual.error) {
      throw new Error(`${context}: ${JSON.stringify("error" in actual ? actual : "decoded")} vs ${JSON.stringify("error" in expected ? expected : "decoded")}`);
    }
    return;
  }
  const d = difference(actual.value, expected.value);
  if (d) throw new Error(`${context}: ${d}`);
}

/** The top-level fields of an encoded message, each with its tag. */
function splitFields(bytes: Uint8Array): Uint8Array[] {
  const reader = new BinaryReader(bytes);
  const fields: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [no, wireType] = reader.tag();
    reader.skip(wireType, no);
    fields.push(bytes.subarray(start, reader.pos));
  }
  return fields;
}

// ---------------------------------------------------------------------- tests

describe("random messages of every type decode as with fromBinary", () => {
  it("finds our generated files", () => {
    expect(generatedFiles.length).toBeGreaterThan(20);
    expect(generatedFiles.flatMap(messagesOf)).toContain(GetFeatureVectorsRequestSchema);
  });

  for (const file of [...generatedFiles, ...wktFiles, ...testFiles]) {
    it(file.name, () => {
      let seed = SEED;
      for (const schema of messagesOf(file)) {
        const fastPath = fastMessageDecoder(schema) !== undefined;
        // What falls back in proto3 files: only types holding a Struct field.
        if (file.edition === 999 && !fastPath) expect(reachesStructField(schema), `${schema.typeName} falls back`).toBe(true);
        for (let i = 0; i < MESSAGES_PER_TYPE; i++) {
          const rng = prng(++seed);
          const context = `${schema.typeName}, seed ${seed}`;
          const bytes = toBinary(schema, randomMessage(rng, schema));
          expectSameDecoding(schema, bytes, context, fastPath);
          // The same fields in another order, and read from a Buffer (as grpc-js hands them over).
          const fields = splitFields(bytes);
          const shuffled = fields.map((f) => [rng.next(), f] as const).sort((x, y) => x[0] - y[0]).map(([, f]) => f);
          expectSameDecoding(schema, concat(shuffled), `${context}, shuffled`, fastPath);
          if (i % 10 === 0) expectSameDecoding(schema, Buffer.from(bytes), `${context}, Buffer`, fastPath);
        }
      }
    });
  }

  it("takes the fast path for the serving requests and the test file", () => {
    for (const schema of [GetFeatureVectorsRequestSchema, PredictRequestSchema, RecordBatchSchema, SinkSchema]) {
      expect(fastMessageDecoder(schema), schema.typeName).toBeDefined();
    }
  });
});

describe("encodings protobuf-es does not write", () => {
  const decode = messageDecoder(GetFeatureVectorsRequestSchema);

  it("reads repeated scalars unpacked, packed, and both mixed", () => {
    const w = new BinaryWriter();
    w.tag(1, WireType.Varint).uint32(2); // row_count
    w.tag(2, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string("entity_id");
    w.tag(5, WireType.LengthDelimited).fork(); // int64_values: repeated sfixed64
    w.tag(1, WireType.Bit64).sfixed64(7n).tag(1, WireType.Bit64).sfixed64(-8n);
    w.tag(1, WireType.LengthDelimited).fork().sfixed64(9n).sfixed64(2n ** 62n).join();
    w.tag(1, WireType.Bit64).sfixed64(-(2n ** 63n));
    w.join().join();
    const bytes = new BinaryWriter().tag(3, WireType.LengthDelimited).bytes(w.finish()).finish();
    expectSameDecoding(GetFeatureVectorsRequestSchema, bytes, "unpacked");
    const column = decode(bytes).entities!.columns[0]!;
    expect(column.data.case).toBe("int64Values");
    expect(column.data.value).toMatchObject({ values: [7n, -8n, 9n, 2n ** 62n, -(2n ** 63n)] });

    // Packed where the field says unpacked, and an unpacked enum list.
    const sinkBytes = new BinaryWriter()
      .tag(36, WireType.LengthDelimited).fork().sint32(-1).sint32(5).join()
      .tag(36, WireType.Varint).sint32(-70000)
      .tag(41, WireType.Varint).int32(-1)
      .tag(41, WireType.LengthDelimited).fork().int32(1).int32(99).join()
      .finish();
    expectSameDecoding(SinkSchema, sinkBytes, "sink unpacked");
    expect(messageDecoder(SinkSchema)(sinkBytes)).toMatchObject({ unpackedInts: [-1, 5, -70000], colors: [-1, 1, 99] });
  });

  it("merges a message field that occurs twice, and replaces a scalar", () => {
    const entities = (rowCount: number, name: string) => toBinary(RecordBatchSchema, create(RecordBatchSchema, { rowCount, columns: [{ name, data: { case: "doubleValues", value: { values: [rowCount] } } }] }));
    const bytes = new BinaryWriter()
      .tag(9, WireType.LengthDelimited).string("first")
      .tag(3, WireType.LengthDelimited).bytes(entities(1, "a"))
      .tag(1, WireType.LengthDelimited).string("fraud_view")
      .tag(3, WireType.LengthDelimited).bytes(entities(0, "b")) // row_count 0 is not written: stays 1
      .tag(9, WireType.LengthDelimited).string("second")
      .tag(2, WireType.LengthDelimited).string("fraud_deployment") // the other oneof case wins
      .finish();
    expectSameDecoding(GetFeatureVectorsRequestSchema, bytes, "twice");
    const request = decode(bytes);
    expect(request.requestId).toBe("second");
    expect(request.target).toEqual({ case: "deployment", value: "fraud_deployment" });
    expect(request.entities!.rowCount).toBe(1);
    expect(request.entities!.columns.map((c) => c.name)).toEqual(["a", "b"]);

    // A oneof message: merged when the case is the same, replaced when not.
    const column = (data: object) => toBinary(ColumnSchema, create(ColumnSchema, { data } as never));
    const merged = concat([column({ case: "doubleValues", value: { values: [1] } }), column({ case: "doubleValues", value: { values: [2] } })]);
    expectSameDecoding(ColumnSchema, merged, "oneof merge");
    expect(messageDecoder(ColumnSchema)(merged).data.value).toMatchObject({ values: [1, 2] });
    const replaced = concat([column({ case: "doubleValues", value: { values: [1] } }), column({ case: "floatValues", value: { values: [2] } }), column({ case: "doubleValues", value: { values: [3] } })]);
    expectSameDecoding(ColumnSchema, replaced, "oneof replace");
    expect(messageDecoder(ColumnSchema)(replaced).data.value).toMatchObject({ values: [3] });
  });

  it("merges wrappers and reads map entries as protobuf-es does", () => {
    const bytes = new BinaryWriter()
      .tag(80, WireType.LengthDelimited).fork().tag(1, WireType.Bit64).double(2.5).join()
      .tag(80, WireType.LengthDelimited).fork().join() // empty: keeps 2.5
      .tag(81, WireType.LengthDelimited).fork().join() // empty: 0n
      .tag(50, WireType.LengthDelimited).fork().tag(2, WireType.LengthDelimited).string("no key").join()
      .tag(50, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string("no value").join()
      .tag(50, WireType.LengthDelimited).fork().tag(2, WireType.LengthDelimited).string("v").tag(1, WireType.LengthDelimited).string("k").tag(1, WireType.LengthDelimited).string("k2").join()
      .tag(53, WireType.LengthDelimited).fork().tag(1, WireType.Varint).bool(true).join()
      .tag(52, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int64(-3n).join()
      .tag(52, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int64(4n)
      .tag(2, WireType.LengthDelimited).fork().tag(5, WireType.Varint).int32(1).join()
      .tag(2, WireType.LengthDelimited).fork().tag(2, WireType.Bit32).float(1).join() // a second value replaces, not merges
      .join()
      .tag(54, WireType.LengthDelimited).fork().tag(1, WireType.Varint).uint64(2n ** 64n - 1n).join()
      .finish();
    expectSameDecoding(SinkSchema, bytes, "maps");
    const m = messageDecoder(SinkSchema)(bytes) as Record<string, unknown>;
    expect(m.wDouble).toBe(2.5);
    expect(m.wInt64).toBe(0n);
    expect(m.mStringstring).toEqual({ "": "no key", "no value": "", k2: "v" });
    expect(Object.keys(m.mBoolbytes as object)).toEqual(["true"]);
    expect(Object.keys(m.mInt64sink as object)).toEqual(["4", "-3"]); // integer-like keys first, as in any JS object
    expect((m.mInt64sink as Record<string, Record<string, unknown>>)["4"]).toMatchObject({ sInt32: 0, sFloat: 1 });
    expect(m.mUint64color).toEqual({ "18446744073709551615": 0 });
  });

  it("leaves unknown fields to fromBinary, which keeps them in $unknown", () => {
    const known = toBinary(PredictRequestSchema, create(PredictRequestSchema, { deployment: "d", requestId: "r" }));
    const bytes = concat([known, new BinaryWriter().tag(99, WireType.Varint).uint32(5).tag(100, WireType.LengthDelimited).string("x").finish()]);
    expect(fastMessageDecoder(PredictRequestSchema)!(bytes)).toBeUndefined();
    expectSameDecoding(PredictRequestSchema, bytes, "unknown", false);
    expect(messageDecoder(PredictRequestSchema)(bytes).$unknown).toHaveLength(2);
  });

  it("leaves unsupported schemas to fromBinary", () => {
    for (const schema of [StructHolderSchema, LegacySchema, FileDescriptorProtoSchema]) {
      expect(fastMessageDecoder(schema), schema.typeName).toBeUndefined();
      const rng = prng(SEED);
      for (let i = 0; i < 50; i++) expectSameDecoding(schema, toBinary(schema, randomMessage(rng, schema)), schema.typeName, false);
    }
    expect(messageDecoder(StructHolderSchema)(toBinary(StructHolderSchema, create(StructHolderSchema, { s: { a: [1, "x", null] } } as never)))).toMatchObject({ s: { a: [1, "x", null] } });
    expect((messageDecoder(LegacySchema)(new Uint8Array(0)) as unknown as { a: number }).a).toBe(5);
  });

  it("is built once per schema", () => {
    expect(messageDecoder(PredictRequestSchema)).toBe(messageDecoder(PredictRequestSchema));
  });
});

describe("malformed input: the same message or the same error as fromBinary", () => {
  const rng = prng(SEED + 1);
  const samples = [GetFeatureVectorsRequestSchema, PredictRequestSchema, SinkSchema].flatMap((schema) =>
    Array.from({ length: 20 }, () => ({ schema, bytes: toBinary(schema, randomMessage(rng, schema)) })),
  );

  it("truncated buffers", () => {
    for (const [n, { schema, bytes }] of samples.entries()) {
      for (let length = 0; length < bytes.length; length += 1 + (bytes.length >> 6)) expectSameOutcome(schema, bytes.subarray(0, length), `sample ${n} cut at ${length}`);
    }
  });

  it("wrong and invalid wire types", () => {
    const request = toBinary(PredictRequestSchema, create(PredictRequestSchema, { deployment: "d", includeFeatures: true, entities: { rowCount: 1 } }));
    for (let wireType = 0; wireType < 8; wireType++) {
      for (const fieldNo of [1, 2, 5]) {
        // field 1 (string), 2 (message) and 5 (bool) with every wire type, followed by valid fields
        const w = new BinaryWriter().uint32(((fieldNo << 3) | wireType) >>> 0).raw(new Uint8Array([3, 0x61, 0x62, 0x63, 0, 0, 0, 0]));
        expectSameOutcome(PredictRequestSchema, concat([w.finish(), request]), `field ${fieldNo} wire type ${wireType}`);
        expectSameOutcome(PredictRequestSchema, concat([request, w.finish()]), `field ${fieldNo} wire type ${wireType} last`);
      }
    }
  });

  it("invalid UTF-8, sub-messages overrunning their length, varints too long", () => {
    const cases: [string, DescMessage, Uint8Array][] = [
      ["invalid UTF-8", PredictRequestSchema, new Uint8Array([0x0a, 2, 0xc3, 0x28])],
      ["invalid UTF-8, long", PredictRequestSchema, concat([new Uint8Array([0x0a, 40]), new Uint8Array(39).fill(0x61), new Uint8Array([0xff])])],
      // entities declared 3 bytes long, but its second field runs on; fromBinary reads on regardless
      ["overrun", PredictRequestSchema, new Uint8Array([0x12, 3, 0x08, 7, 0x12, 3, 0x0a, 1, 0x78, 0x22, 1, 0x72])],
      ["packed overrun", SinkSchema, new Uint8Array([0xaa, 0x01, 1, 0x80, 0x01])],
      ["varint of 11 bytes", SinkSchema, new Uint8Array([0x18, ...new Array(10).fill(0xff), 1])],
      ["varint of 10 bytes, high bits set", SinkSchema, new Uint8Array([0x18, ...new Array(9).fill(0xff), 0x7f])],
      ["int32 of 10 bytes", SinkSchema, new Uint8Array([0x28, ...new Array(9).fill(0xff), 0x01])],
      ["tag of 6 bytes", SinkSchema, new Uint8Array([0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 1])],
      ["field number 0", SinkSchema, new Uint8Array([0x00, 1])],
      ["map entry with a third field", SinkSchema, new Uint8Array([0x92, 0x03, 4, 0x18, 1, 0x0a, 0])],
    ];
    for (const [name, schema, bytes] of cases) expectSameOutcome(schema, bytes, name);
  });

  it("nesting past the recursion limit", () => {
    // Column -> ListColumn -> Column ...: depth 2n + 1 for n lists.
    for (const lists of [48, 49, 50, 60]) {
      let column = toBinary(ColumnSchema, create(ColumnSchema, { name: "leaf" }));
      for (let i = 0; i < lists; i++) {
        const list = new BinaryWriter().tag(2, WireType.LengthDelimited).bytes(column).finish();
        column = new BinaryWriter().tag(11, WireType.LengthDelimited).bytes(list).finish();
      }
      expectSameOutcome(ColumnSchema, column, `${lists} nested lists`);
    }
  });

  it("random mutations", () => {
    for (let i = 0; i < 3000; i++) {
      const { schema, bytes } = rng.pick(samples);
      const mutated = Array.from(bytes);
      for (let edits = 1 + rng.int(3); edits > 0; edits--) {
        const at = rng.int(mutated.length + 1);
        const op = rng.int(4);
        if (op === 0) mutated[at] = rng.int(256);
        else if (op === 1) mutated.splice(at, 0, rng.int(256));
        else if (op === 2) mutated.splice(at, 1);
        else mutated[at] = (mutated[at] ?? 0) ^ (1 << rng.int(8));
      }
      expectSameOutcome(schema, new Uint8Array(mutated), `mutation ${i}`);
    }
  });
});
