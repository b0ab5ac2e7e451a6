// messageDecoder against fromBinary: random messages of every message type we
// generate code for (and of a test file using every proto3 feature), hand-made
// encodings protobuf-es's own writer never produces, and broken input.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import {
  create,
  createFileRegistry,
  equals,
  fromBinary,
  ScalarType,
  toBinary,
  type DescEnum,
  type DescField,
  type DescFile,
  type DescMessage,
  type Message,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import { nestedTypes, reflect, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorProtoSchema,
  file_google_protobuf_any,
  file_google_protobuf_api,
  file_google_protobuf_descriptor,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_type,
  file_google_protobuf_wrappers,
  type DescriptorProtoSchema,
  type FieldDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import { RecordBatchSchema, ColumnSchema } from "@fti/proto/fti/common/v1/record_batch_pb";
import { GetFeatureVectorsRequestSchema, PredictRequestSchema } from "@fti/proto/fti/serving/v1/serving_pb";
import { fastMessageDecoder, messageDecoder } from "../src/message-decoder.js";

const SEED = Number(process.env.DECODER_TEST_SEED ?? 20240611);
const MESSAGES_PER_TYPE = 200;
const MAX_DEPTH = 3;

// ---------------------------------------------------------------- the schemas

const genDir = join(dirname(fileURLToPath(import.meta.url)), "../../proto/src/gen");
const generatedFiles: DescFile[] = [];
for (const path of readdirSync(genDir, { recursive: true, encoding: "utf8" }).filter((p) => p.endsWith("_pb.ts")).sort()) {
  const module = (await import(pathToFileURL(join(genDir, path)).href)) as Record<string, unknown>;
  for (const value of Object.values(module)) {
    if ((value as { kind?: unknown } | null)?.kind === "file") generatedFiles.push(value as DescFile);
  }
}

const wktFiles = [
  file_google_protobuf_any,
  file_google_protobuf_api,
  file_google_protobuf_descriptor, // proto2: falls back
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_type,
  file_google_protobuf_wrappers,
];

// A proto3 file with every scalar type, repeated and map flavour, proto3
// optional, oneofs, wrappers, recursion and odd field numbers; and a proto2 one.
type FieldInit = MessageInitShape<typeof FieldDescriptorProtoSchema>;
function field(name: string, number: number, type: Type, more: FieldInit = {}): FieldInit {
  return { name, number, type, label: Label.OPTIONAL, jsonName: name, ...more };
}
const scalarTypes: [string, Type][] = [
  ["double", Type.DOUBLE], ["float", Type.FLOAT], ["int64", Type.INT64], ["uint64", Type.UINT64], ["int32", Type.INT32],
  ["fixed64", Type.FIXED64], ["fixed32", Type.FIXED32], ["bool", Type.BOOL], ["string", Type.STRING], ["bytes", Type.BYTES],
  ["uint32", Type.UINT32], ["sfixed32", Type.SFIXED32], ["sfixed64", Type.SFIXED64], ["sint32", Type.SINT32], ["sint64", Type.SINT64],
];
const sinkMaps: [string, number, Type, Type, string?][] = [
  ["StringString", 50, Type.STRING, Type.STRING],
  ["Int32Double", 51, Type.INT32, Type.DOUBLE],
  ["Int64Sink", 52, Type.INT64, Type.MESSAGE, ".test.v1.Sink"],
  ["BoolBytes", 53, Type.BOOL, Type.BYTES],
  ["Uint64Color", 54, Type.UINT64, Type.ENUM, ".test.v1.Color"],
  ["Sint32Float", 55, Type.SINT32, Type.FLOAT],
  ["Fixed64String", 56, Type.FIXED64, Type.STRING],
  ["StringWrapper", 57, Type.STRING, Type.MESSAGE, ".google.protobuf.Int32Value"],
  ["Sfixed32Int64", 58, Type.SFIXED32, Type.INT64],
  ["Uint32Bool", 59, Type.UINT32, Type.BOOL],
  ["Sint64Sfixed64", 62, Type.SINT64, Type.SFIXED64],
  ["Fixed32Uint64", 63, Type.FIXED32, Type.UINT64],
];
const sink: MessageInitShape<typeof DescriptorProtoSchema> = {
  name: "Sink",
  field: [
    ...scalarTypes.map(([name, type], i) => field(`s_${name}`, 1 + i, type)),
    ...scalarTypes.map(([name, type], i) => field(`r_${name}`, 21 + i, type, { label: Label.REPEATED })),
    field("unpacked_ints", 36, Type.SINT32, { label: Label.REPEATED, options: { packed: false } }),
    field("unpacked_doubles", 37, Type.DOUBLE, { label: Label.REPEATED, options: { packed: false } }),
    field("color", 40, Type.ENUM, { typeName: ".test.v1.Color" }),
    field("colors", 41, Type.ENUM, { typeName: ".test.v1.Color", label: Label.REPEATED }),
    field("opt_int32", 42, Type.INT32, { oneofIndex: 1, proto3Optional: true }),
    field("opt_string", 43, Type.STRING, { oneofIndex: 2, proto3Optional: true }),
    field("opt_msg", 44, Type.MESSAGE, { typeName: ".test.v1.Sink", oneofIndex: 3, proto3Optional: true }),
    ...sinkMaps.map(([name, number]) => field(`m_${name.toLowerCase()}`, number, Type.MESSAGE, { label: Label.REPEATED, typeName: `.test.v1.Sink.${name}Entry` })),
    field("child", 60, Type.MESSAGE, { typeName: ".test.v1.Sink" }),
    field("children", 61, Type.MESSAGE, { typeName: ".test.v1.Sink", label: Label.REPEATED }),
    field("o_string", 70, Type.STRING, { oneofIndex: 0 }),
    field("o_msg", 71, Type.MESSAGE, { typeName: ".test.v1.Sink", oneofIndex: 0 }),
    field("o_int64", 72, Type.INT64, { oneofIndex: 0 }),
    field("o_bytes", 73, Type.BYTES, { oneofIndex: 0 }),
    field("o_wrapper", 74, Type.MESSAGE, { typeName: ".google.protobuf.BoolValue", oneofIndex: 0 }),
    ...["Double", "Int64", "String", "Bytes", "UInt64", "Float", "Bool", "UInt32", "Int32"].map((w, i) =>
      field(`w_${w.toLowerCase()}`, 80 + i, Type.MESSAGE, { typeName: `.google.protobuf.${w}Value` }),
    ),
    field("w_list", 89, Type.MESSAGE, { typeName: ".google.protobuf.Int32Value", label: Label.REPEATED }),
    field("time", 90, Type.MESSAGE, { typeName: ".google.protobuf.Timestamp" }),
    field("any", 91, Type.MESSAGE, { typeName: ".google.protobuf.Any" }),
    field("value", 92, Type.MESSAGE, { typeName: ".google.protobuf.Value" }),
    field("list_value", 93, Type.MESSAGE, { typeName: ".google.protobuf.ListValue" }),
    field("constructor", 100, Type.STRING),
    field("far", 2000, Type.STRING),
    field("farthest", 536870911, Type.SINT64),
  ],
  oneofDecl: [{ name: "choice" }, { name: "_opt_int32" }, { name: "_opt_string" }, { name: "_opt_msg" }],
  nestedType: sinkMaps.map(([name, , key, value, typeName]) => ({
    name: `${name}Entry`,
    field: [field("key", 1, key), field("value", 2, value, typeName ? { typeName } : {})],
    options: { mapEntry: true },
  })),
};
const testRegistry = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "test/v1/sink.proto",
    package: "test.v1",
    syntax: "proto3",
    dependency: ["google/protobuf/wrappers.proto", "google/protobuf/timestamp.proto", "google/protobuf/any.proto", "google/protobuf/struct.proto"],
    enumType: [{ name: "Color", value: [{ name: "COLOR_UNSPECIFIED", number: 0 }, { name: "COLOR_RED", number: 1 }, { name: "COLOR_NEG", number: -1 }] }],
    messageType: [sink, { name: "StructHolder", field: [field("s", 1, Type.MESSAGE, { typeName: ".google.protobuf.Struct" }), field("n", 2, Type.INT32)] }],
  }),
  (name) => wktFiles.find((f) => f.proto.name === name),
);
const legacyRegistry = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "test/v1/legacy.proto",
    package: "test.v1",
    syntax: "proto2",
    messageType: [
      {
        name: "Legacy",
        field: [
          field("a", 1, Type.INT32, { defaultValue: "5" }),
          field("b", 2, Type.STRING),
          field("c", 3, Type.INT32, { label: Label.REPEATED }),
          field("child", 4, Type.MESSAGE, { typeName: ".test.v1.Legacy" }),
        ],
      },
    ],
  }),
  () => undefined,
);
const testFiles = [testRegistry.getFile("test/v1/sink.proto")!, legacyRegistry.getFile("test/v1/legacy.proto")!];
const SinkSchema = testRegistry.getMessage("test.v1.Sink")!;
const StructHolderSchema = testRegistry.getMessage("test.v1.StructHolder")!;
const LegacySchema = legacyRegistry.getMessage("test.v1.Legacy")!;

function messagesOf(file: DescFile): DescMessage[] {
  return [...nestedTypes(file)].filter((t): t is DescMessage => t.kind === "message");
}

// ------------------------------------------------------------ random messages

/** mulberry32: a small seeded PRNG, so a failure reproduces with its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p: number) => next() < p,
    pick: <T,>(items: readonly T[]): T => items[int(items.length)]!,
    u32: () => int(0x100000000),
    u64: () => (BigInt(int(0x100000000)) << 32n) | BigInt(int(0x100000000)),
  };
}
type Rng = ReturnType<typeof prng>;

const STRINGS = ["", "a", "fraud_view", "entity_id", "héllo", "日本語のテキスト", "😀 emoji", "\u0000nul", "\uFEFFbom", "tab\tnew\nline", "x".repeat(32), "y".repeat(33), "é".repeat(40), "ascii then ü"];

function randomString(rng: Rng): string {
  if (rng.chance(0.6)) return rng.pick(STRINGS);
  const length = rng.pick([1, 5, 31, 32, 33, 80]);
  let s = "";
  for (let i = 0; i < length; i++) {
    s += rng.chance(0.8) ? String.fromCharCode(0x20 + rng.int(0x5f)) : String.fromCodePoint(rng.pick([0x7f, 0x80, 0x7ff, 0x800, 0xfffd, 0x10000, 0x10ffff, 0xa0 + rng.int(0xd000)]));
  }
  return s;
}

function randomScalar(rng: Rng, type: ScalarType): unknown {
  switch (type) {
    case ScalarType.DOUBLE:
      return rng.pick([0, -0, NaN, Infinity, -Infinity, 1, -1.5, Number.MAX_VALUE, Number.MIN_VALUE, -1e300, (rng.next() - 0.5) * 1e6]);
    case ScalarType.FLOAT:
      return rng.pick([0, -0, NaN, Infinity, -Infinity, 1, -1.5, 3.4028234663852886e38, 1.401298464324817e-45, Math.fround((rng.next() - 0.5) * 1e6)]);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return rng.pick([0, 1, -1, 127, 128, -128, 0x7fffffff, -0x80000000, rng.u32() | 0]);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return rng.pick([0, 1, 127, 128, 0xffffffff, rng.u32()]);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return rng.pick([0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n, -(2n ** 53n) - 1n, 1718000000000000n, BigInt.asIntN(64, rng.u64()), BigInt(rng.u32() | 0)]);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return rng.pick([0n, 1n, 2n ** 64n - 1n, 2n ** 53n + 1n, 2n ** 63n, rng.u64(), BigInt(rng.u32())]);
    case ScalarType.BOOL:
      return rng.chance(0.5);
    case ScalarType.STRING:
      return randomString(rng);
    case ScalarType.BYTES: {
      const bytes = new Uint8Array(rng.pick([0, 1, 3, 16, 70]));
      for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
      return bytes;
    }
  }
}

function randomEnum(rng: Rng, e: DescEnum): number {
  // Open enums take any int32 value.
  return e.open && rng.chance(0.2) ? rng.u32() | 0 : rng.pick(e.values).number;
}

function randomValue(rng: Rng, f: DescField, depth: number): unknown {
  if (f.message) return reflect(f.message, randomMessage(rng, f.message, depth + 1));
  if (f.enum) return randomEnum(rng, f.enum);
  return randomScalar(rng, f.scalar!);
}

const REQUIRED = 3; // proto2 field presence LEGACY_REQUIRED: toBinary insists

/** A random subset of the fields, each with a random value; messages nest up to MAX_DEPTH. */
function randomMessage(rng: Rng, desc: DescMessage, depth = 0): Message {
  const msg: ReflectMessage = reflect(desc);
  for (const member of desc.members) {
    if (rng.chance(0.4) && !(member.kind === "field" && member.presence === REQUIRED)) continue;
    const f = member.kind === "oneof" ? rng.pick(member.fields) : member;
    // Nested messages get fewer the deeper they are, or the messages grow huge.
    if (f.message && (depth >= MAX_DEPTH || rng.chance(depth / MAX_DEPTH))) continue;
    const count = f.message ? rng.pick([0, 1, 2, 3]) >> depth : rng.pick([0, 1, 2, 3, 5, 17]);
    switch (f.fieldKind) {
      case "list": {
        const list = msg.get(f);
        for (let i = count; i > 0; i--) list.add(randomValue(rng, f, depth));
        break;
      }
      case "map": {
        const map = msg.get(f);
        for (let i = count; i > 0; i--) map.set(randomScalar(rng, f.mapKey) as never, randomValue(rng, f, depth));
        break;
      }
      default:
        msg.set(f, randomValue(rng, f, depth));
    }
  }
  return msg.message;
}

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

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Decoders that reach google.protobuf.Struct as a field: protobuf-es makes it a JSON object. */
function reachesStructField(desc: DescMessage, seen = new Set<DescMessage>()): boolean {
  if (seen.has(desc)) return false;
  seen.add(desc);
  return desc.fields.some((f) => (f.message?.typeName === "google.protobuf.Struct" && desc.typeName !== "google.protobuf.Value") || (f.message !== undefined && reachesStructField(f.message, seen)));
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
