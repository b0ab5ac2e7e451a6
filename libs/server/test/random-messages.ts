// Shared by the message decoder and encoder tests: every message type we
// generate code for (and a test file using every proto3 feature, and a proto2
// one), and seeded random messages of any of them.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { create, createFileRegistry, ScalarType, type DescEnum, type DescField, type DescFile, type DescMessage, type Message, type MessageInitShape } from "@bufbuild/protobuf";
import { nestedTypes, reflect, type ReflectMessage } from "@bufbuild/protobuf/reflect";
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

/** How deep randomMessage nests messages. */
export const MAX_DEPTH = 3;

// ---------------------------------------------------------------- the schemas

const genDir = join(dirname(fileURLToPath(import.meta.url)), "../../proto/src/gen");
export const generatedFiles: DescFile[] = [];
for (const path of readdirSync(genDir, { recursive: true, encoding: "utf8" }).filter((p) => p.endsWith("_pb.ts")).sort()) {
  const module = (await import(pathToFileURL(join(genDir, path)).href)) as Record<string, unknown>;
  for (const value of Object.values(module)) {
    if ((value as { kind?: unknown } | null)?.kind === "file") generatedFiles.push(value as DescFile);
  }
}

export const wktFiles = [
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
export const testFiles = [testRegistry.getFile("test/v1/sink.proto")!, legacyRegistry.getFile("test/v1/legacy.proto")!];
export const SinkSchema = testRegistry.getMessage("test.v1.Sink")!;
export const StructHolderSchema = testRegistry.getMessage("test.v1.StructHolder")!;
export const LegacySchema = legacyRegistry.getMessage("test.v1.Legacy")!;

export function messagesOf(file: DescFile): DescMessage[] {
  return [...nestedTypes(file)].filter((t): t is DescMessage => t.kind === "message");
}

// ------------------------------------------------------------ random messages

/** mulberry32: a small seeded PRNG, so a failure reproduces with its seed. */
export function prng(seed: number) {
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
export type Rng = ReturnType<typeof prng>;

const STRINGS = ["", "a", "fraud_view", "entity_id", "héllo", "日本語のテキスト", "😀 emoji", "\u0000nul", "\uFEFFbom", "tab\tnew\nline", "x".repeat(32), "y".repeat(33), "é".repeat(40), "ascii then ü"];

export function randomString(rng: Rng): string {
  if (rng.chance(0.6)) return rng.pick(STRINGS);
  const length = rng.pick([1, 5, 31, 32, 33, 80]);
  let s = "";
  for (let i = 0; i < length; i++) {
    s += rng.chance(0.8) ? String.fromCharCode(0x20 + rng.int(0x5f)) : String.fromCodePoint(rng.pick([0x7f, 0x80, 0x7ff, 0x800, 0xfffd, 0x10000, 0x10ffff, 0xa0 + rng.int(0xd000)]));
  }
  return s;
}

export function randomScalar(rng: Rng, type: ScalarType): unknown {
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

export function randomEnum(rng: Rng, e: DescEnum): number {
  // Open enums take any int32 value.
  return e.open && rng.chance(0.2) ? rng.u32() | 0 : rng.pick(e.values).number;
}

export function randomValue(rng: Rng, f: DescField, depth: number): unknown {
  if (f.message) return reflect(f.message, randomMessage(rng, f.message, depth + 1));
  if (f.enum) return randomEnum(rng, f.enum);
  return randomScalar(rng, f.scalar!);
}

const REQUIRED = 3; // proto2 field presence LEGACY_REQUIRED: toBinary insists

/** A random subset of the fields, each with a random value; messages nest up to MAX_DEPTH. */
export function randomMessage(rng: Rng, desc: DescMessage, depth = 0): Message {
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

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Decoders that reach google.protobuf.Struct as a field: protobuf-es makes it a JSON object. */
export function reachesStructField(desc: DescMessage, seen = new Set<DescMessage>()): boolean {
  if (seen.has(desc)) return false;
  seen.add(desc);
  return desc.fields.some((f) => (f.message?.typeName === "google.protobuf.Struct" && desc.typeName !== "google.protobuf.Value") || (f.message !== undefined && reachesStructField(f.message, seen)));
}

