// Which message types the compiled decoder and encoder handle themselves
// (messageDecoder, messageEncoder); the others go to protobuf-es whole.
import { ScalarType, type DescMessage } from "@bufbuild/protobuf";

const EDITION_PROTO3 = 999;
/** Field presence of proto3 fields without `optional`. */
export const IMPLICIT = 2;
export const WIRE_VARINT = 0, WIRE_BIT64 = 1, WIRE_LENGTH = 2, WIRE_BIT32 = 5;

/** Whether `root` and every message type it can contain are ones the compiled codecs handle. */
export function compiledCodecSupports(root: DescMessage): boolean {
  return reachableMessages(root).every(supported);
}

/** Every message type a message can contain, itself included. */
function reachableMessages(root: DescMessage): DescMessage[] {
  const seen = new Set<DescMessage>([root]);
  for (const desc of seen) {
    for (const f of desc.fields) if (f.message) seen.add(f.message);
  }
  return [...seen];
}

/**
 * Plain proto3 messages only. Not: proto2 and editions (defaults, required
 * fields, closed enums, groups, presence on the prototype chain), extensions,
 * jstype = JS_STRING, and google.protobuf.Struct fields, which protobuf-es
 * turns into JSON objects (except inside google.protobuf.Value).
 */
function supported(desc: DescMessage): boolean {
  if (desc.file.edition !== EDITION_PROTO3 || desc.proto.extensionRange.length > 0) return false;
  if (desc.members.some((m) => m.localName === "__proto__")) return false; // an object literal key would set the prototype
  return desc.fields.every(
    (f) =>
      !("delimitedEncoding" in f && f.delimitedEncoding) &&
      !("longAsString" in f && f.longAsString) &&
      (f.enum === undefined || f.enum.open) &&
      (f.fieldKind !== "scalar" && f.fieldKind !== "enum" ? true : f.getDefaultValue() === undefined) &&
      (f.message?.typeName !== "google.protobuf.Struct" || desc.typeName === "google.protobuf.Value"),
  );
}

/** The wire type of a scalar (enums are INT32). */
export function wireTypeOf(scalar: ScalarType): number {
  switch (scalar) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WIRE_LENGTH;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WIRE_BIT64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WIRE_BIT32;
    default:
      return WIRE_VARINT;
  }
}
