// Response encoding without protobuf-es's reflection: toBinary wraps every
// message in a ReflectMessage, writes through a BinaryWriter that collects
// chunks in arrays and forks for every length-delimited value, then copies it
// all once more. Encoders here are built once per message type: a first pass
// sizes the message (keeping each nested message's size and each string's
// length, in the order the second pass needs them), a second writes it into one
// buffer of exactly that size: a Buffer from Node's pool (Buffer.allocUnsafe),
// so small responses share a slab as grpc-js's own Buffers do. Unknown fields
// ($unknown: pre-encoded fields on the hot path) go last, tag then bytes
// verbatim, as toBinary writes them. On anything they do not handle exactly
// they give up and toBinary encodes, so results and errors are its own.
import { protoInt64, ScalarType, toBinary, type DescField, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { isScalarZeroValue } from "@bufbuild/protobuf/reflect";
import { getTextEncoding } from "@bufbuild/protobuf/wire";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { compiledCodecSupports, IMPLICIT, WIRE_BIT32, WIRE_BIT64, WIRE_LENGTH, WIRE_VARINT, wireTypeOf } from "./message-support.js";

type Encoder<D extends DescMessage> = (message: MessageShape<D>) => Uint8Array;
type Msg = Record<string, unknown>;

/**
 * Encodes `schema` messages exactly as `toBinary(schema, message)` does, only
 * faster. Built once per schema.
 */
export function messageEncoder<D extends DescMessage>(schema: D): Encoder<D> {
  let encode = encoders.get(schema) as Encoder<D> | undefined;
  if (encode === undefined) {
    const fast = fastMessageEncoder(schema);
    encode = fast === undefined ? (message) => toBinary(schema, message) : (message) => fast(message) ?? toBinary(schema, message);
    encoders.set(schema, encode as Encoder<DescMessage>);
  }
  return encode;
}

const encoders = new WeakMap<DescMessage, Encoder<DescMessage>>();

/**
 * The fast path alone (exported for tests): undefined for a schema it does not
 * handle, and its encoder returns undefined where it gives up.
 */
export function fastMessageEncoder<D extends DescMessage>(schema: D): ((message: MessageShape<D>) => Uint8Array | undefined) | undefined {
  if (!protoInt64.supported || !compiledCodecSupports(schema)) return undefined;
  const plan = planOf(schema);
  return (message) => {
    try {
      return encode(plan, message as unknown as Msg);
    } catch {
      return undefined;
    } finally {
      out = EMPTY;
      if (stringCount > 0) strings.fill(undefined, 0, stringCount);
    }
  };
}

const INT64_MIN = -(2n ** 63n), INT64_MAX = 2n ** 63n - 1n, UINT64_MAX = 2n ** 64n - 1n;
const FLOAT32_MAX = 3.4028234663852886e38;
/**
 * ASCII strings up to this long are checked and copied by hand; longer ones
 * with Buffer.byteLength and Buffer's latin1 write (the same bytes), whose
 * fixed cost of a native call is less than a loop over the characters.
 */
const MAX_HAND_STRING = 16;

/** Thrown to abandon the fast path. */
const GIVE_UP = Symbol("give up");

// How a field is written (Field.kind), each as toBinary decides whether it is set.
const SCALAR = 0; // implicit presence: omitted when isScalarZeroValue
const ENUM = 1; // implicit presence: omitted when the enum's first value
const OPTIONAL = 2; // proto3 `optional` scalar or enum: written when an own property, not undefined
const ONEOF_SCALAR = 3;
const MESSAGE = 4; // written when an own property, not undefined
const ONEOF_MESSAGE = 5;
const WRAPPER = 6; // google.protobuf.*Value field, held unboxed: a message with the value at field 1 (omitted when zero)
const LIST_PACKED = 7; // one length-delimited run, omitted when empty
const LIST = 8; // one tag per item
const LIST_MESSAGE = 9;
const MAP = 10; // one entry per own key, in Object.keys order; key and value always written

interface Field {
  kind: number;
  /** The property: the field's local name, or its oneof's. */
  name: string;
  /** The oneof case: the field's local name. */
  caseName: string;
  /** Tag (field number << 3 | wire type) of the field; for a packed list, its length-delimited tag. */
  tag: number;
  /** Scalars, list items, map values, a wrapper's value; INT32 for enums. */
  scalar: ScalarType;
  /** ENUM: the value that is not written. */
  enumZero: number;
  /** Message fields, lists of messages and maps with message values. */
  message: Plan | undefined;
  mapKey: ScalarType;
  /** Maps: tags of the entry's key (field 1) and value (field 2); wrappers: of the value (field 1). */
  keyTag: number;
  valueTag: number;
}

interface Plan {
  typeName: string;
  /** In field number order, as toBinary writes them. */
  fields: Field[];
}

const plans = new WeakMap<DescMessage, Plan>();

function planOf(desc: DescMessage): Plan {
  let plan = plans.get(desc);
  if (plan !== undefined) return plan;
  plan = { typeName: desc.typeName, fields: [] };
  plans.set(desc, plan); // before its fields, for recursive types
  plan.fields = [...desc.fields].sort((a, b) => a.number - b.number).map(fieldWriter);
  return plan;
}

function fieldWriter(f: DescField): Field {
  const scalar = f.scalar ?? ScalarType.INT32;
  const field = (kind: number, wireType: number): Field => ({
    kind,
    name: f.oneof ? f.oneof.localName : f.localName,
    caseName: f.localName,
    tag: tagOf(f.number, wireType),
    scalar,
    enumZero: f.enum ? f.enum.values[0]!.number : 0,
    message: f.message && planOf(f.message),
    mapKey: f.fieldKind === "map" ? f.mapKey : ScalarType.STRING,
    keyTag: 0,
    valueTag: 0,
  });
  switch (f.fieldKind) {
    case "scalar":
    case "enum":
      if (f.oneof) return field(ONEOF_SCALAR, wireTypeOf(scalar));
      if (f.presence !== IMPLICIT) return field(OPTIONAL, wireTypeOf(scalar));
      return field(f.fieldKind === "enum" ? ENUM : SCALAR, wireTypeOf(scalar));
    case "message": {
      if (f.oneof) return field(ONEOF_MESSAGE, WIRE_LENGTH);
      if (!isWrapperDesc(f.message)) return field(MESSAGE, WIRE_LENGTH);
      const wrapper = field(WRAPPER, WIRE_LENGTH);
      wrapper.scalar = f.message.fields[0]!.scalar!;
      wrapper.valueTag = tagOf(1, wireTypeOf(wrapper.scalar));
      return wrapper;
    }
    case "list":
      if (f.listKind === "message") return field(LIST_MESSAGE, WIRE_LENGTH);
      return f.packed ? field(LIST_PACKED, WIRE_LENGTH) : field(LIST, wireTypeOf(scalar));
    case "map": {
      const map = field(MAP, WIRE_LENGTH);
      map.keyTag = tagOf(1, wireTypeOf(f.mapKey));
      map.valueTag = tagOf(2, f.mapKind === "message" ? WIRE_LENGTH : wireTypeOf(scalar));
      return map;
    }
  }
}

/** As BinaryWriter.tag(). */
function tagOf(fieldNo: number, wireType: number): number {
  return ((fieldNo << 3) | wireType) >>> 0;
}

// ------------------------------------------------------------ encoding state
// One encoding at a time: encode() runs to completion, synchronously.

/**
 * Lengths found by the size pass, in the order the write pass meets them: every
 * nested message, map entry, packed list and string.
 */
let lengths = new Int32Array(256);
let lengthCount = 0;
let lengthAt = 0;
/** Non-ASCII strings, encoded during the size pass, in order. */
const strings: (Uint8Array | undefined)[] = [];
let stringCount = 0;
let stringAt = 0;
const EMPTY = Buffer.alloc(0);
/** The message being written. */
let out = EMPTY;
let pos = 0;
/** 64-bit integers are split into two int32 halves here, as protoInt64.enc does. */
const view = new DataView(new ArrayBuffer(8));
let lo = 0;
let hi = 0;

function encode(plan: Plan, m: Msg): Uint8Array {
  lengthCount = stringCount = 0;
  const size = sizeMessage(plan, m);
  // Node's pool for small sizes: `new Uint8Array` costs about a microsecond (a zeroed
  // backing store of its own), several times the rest of a small response.
  const bytes = (out = Buffer.allocUnsafe(size));
  pos = lengthAt = stringAt = 0;
  writeMessage(plan, m);
  // The two passes disagreeing would be a bug here: toBinary then encodes.
  if (pos !== size || lengthAt !== lengthCount || stringAt !== stringCount) throw GIVE_UP;
  return bytes;
}

/** Reserves a slot in `lengths`, to be filled when the value is sized. */
function reserveLength(): number {
  if (lengthCount === lengths.length) {
    const grown = new Int32Array(2 * lengths.length);
    grown.set(lengths);
    lengths = grown;
  }
  return lengthCount++;
}

/** A length-delimited value of `length` bytes with its tag and length prefix. */
function delimited(tag: number, length: number): number {
  return varintSize(tag) + varintSize(length) + length;
}

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Size of the varint of the 64 bits in `lo`, `hi`. */
function varint64Size(): number {
  if (hi === 0) return varintSize(lo >>> 0);
  return Math.ceil((64 - Math.clz32(hi)) / 7);
}

/** Splits a 64-bit value (bigint, or a number or string protobuf-es would accept) into `lo`, `hi`. */
function split64(value: unknown, signed: boolean): void {
  const v = typeof value === "bigint" ? value : typeof value === "number" || typeof value === "string" ? BigInt(value) : undefined;
  if (v === undefined || (signed ? v < INT64_MIN || v > INT64_MAX : v < 0n || v > UINT64_MAX)) throw GIVE_UP;
  view.setBigInt64(0, v, true);
  lo = view.getInt32(0, true);
  hi = view.getInt32(4, true);
}

/** Zigzag of `lo`, `hi`, in place (as BinaryWriter.sint64). */
function zigzag64(): void {
  const sign = hi >> 31;
  const newLo = (lo << 1) ^ sign;
  hi = ((hi << 1) | (lo >>> 31)) ^ sign;
  lo = newLo;
}

// ----------------------------------------------------------------- size pass

function sizeMessage(plan: Plan, m: Msg): number {
  if (typeof m !== "object" || m === null || m.$typeName !== plan.typeName) throw GIVE_UP;
  let size = 0;
  for (const f of plan.fields) {
    switch (f.kind) {
      case SCALAR: {
        const v = m[f.name];
        if (!isScalarZeroValue(f.scalar, v)) size += varintSize(f.tag) + scalarSize(f.scalar, v);
        break;
      }
      case ENUM: {
        const v = m[f.name];
        if (v !== f.enumZero) size += varintSize(f.tag) + scalarSize(ScalarType.INT32, v);
        break;
      }
      case OPTIONAL: {
        const v = m[f.name];
        if (v !== undefined && Object.hasOwn(m, f.name)) size += varintSize(f.tag) + scalarSize(f.scalar, v);
        break;
      }
      case ONEOF_SCALAR: {
        const oneof = m[f.name] as { case: unknown; value: unknown };
        if (oneof.case === f.caseName) size += varintSize(f.tag) + scalarSize(f.scalar, oneof.value);
        break;
      }
      case MESSAGE: {
        const v = m[f.name];
        if (v !== undefined && Object.hasOwn(m, f.name)) size += nestedSize(f.tag, f.message!, v);
        break;
      }
      case ONEOF_MESSAGE: {
        const oneof = m[f.name] as { case: unknown; value: unknown };
        if (oneof.case === f.caseName) size += nestedSize(f.tag, f.message!, oneof.value);
        break;
      }
      case WRAPPER: {
        const v = m[f.name];
        if (v === undefined || !Object.hasOwn(m, f.name)) break;
        const slot = reserveLength();
        const inner = isScalarZeroValue(f.scalar, v) ? 0 : varintSize(f.valueTag) + scalarSize(f.scalar, v);
        lengths[slot] = inner;
        size += delimited(f.tag, inner);
        break;
      }
      case LIST_PACKED: {
        const list = arrayOf(m[f.name]);
        if (list.length === 0) break;
        const slot = reserveLength();
        let inner = 0;
        for (let i = 0; i < list.length; i++) inner += scalarSize(f.scalar, list[i]);
        lengths[slot] = inner;
        size += delimited(f.tag, inner);
        break;
      }
      case LIST: {
        const list = arrayOf(m[f.name]);
        for (let i = 0; i < list.length; i++) size += varintSize(f.tag) + scalarSize(f.scalar, list[i]);
        break;
      }
      case LIST_MESSAGE: {
        const list = arrayOf(m[f.name]);
        for (let i = 0; i < list.length; i++) size += nestedSize(f.tag, f.message!, list[i]);
        break;
      }
      case MAP: {
        const map = m[f.name] as Msg;
        for (const key of Object.keys(map)) {
          const value = map[key];
          const slot = reserveLength();
          let entry = varintSize(f.keyTag) + scalarSize(f.mapKey, mapKey(f.mapKey, key));
          entry += f.message ? nestedSize(f.valueTag, f.message, value) : varintSize(f.valueTag) + scalarSize(f.scalar, value);
          lengths[slot] = entry;
          size += delimited(f.tag, entry);
        }
        break;
      }
    }
  }
  return size + unknownSize(m.$unknown);
}

/** A nested message with its tag and length. */
function nestedSize(tag: number, plan: Plan, m: unknown): number {
  const slot = reserveLength();
  const size = sizeMessage(plan, m as Msg);
  lengths[slot] = size;
  return delimited(tag, size);
}

function arrayOf(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw GIVE_UP;
  return value;
}

/**
 * A map key as protobuf-es hands it to the writer: the object key parsed back
 * to a number, boolean or bigint (mapKeyToReflect). Keys it cannot parse make
 * its writer throw.
 */
function mapKey(type: ScalarType, key: string): unknown {
  switch (type) {
    case ScalarType.STRING:
      return key;
    case ScalarType.BOOL:
      if (key === "true") return true;
      if (key === "false") return false;
      throw GIVE_UP;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return BigInt(key); // range-checked by split64
    default: {
      const n = Number.parseInt(key);
      if (!Number.isFinite(n)) throw GIVE_UP;
      return n;
    }
  }
}

/** The unknown fields, written last: tag then the bytes as they are. */
function unknownSize(unknown: unknown): number {
  if (unknown === undefined || unknown === null) return 0;
  if (!Array.isArray(unknown)) throw GIVE_UP;
  let size = 0;
  for (const u of unknown as { no: unknown; wireType: unknown; data: unknown }[]) {
    if (typeof u.no !== "number" || typeof u.wireType !== "number" || !(u.data instanceof Uint8Array)) throw GIVE_UP;
    size += varintSize(tagOf(u.no, u.wireType)) + u.data.length;
  }
  return size;
}

/** Size of a scalar value without its tag. Values are checked by the write pass. */
function scalarSize(type: ScalarType, v: unknown): number {
  switch (type) {
    case ScalarType.STRING: {
      const length = stringLength(v);
      return varintSize(length) + length;
    }
    case ScalarType.BYTES:
      if (!(v instanceof Uint8Array)) throw GIVE_UP;
      return varintSize(v.length) + v.length;
    case ScalarType.BOOL:
      return 1;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 8;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return 4;
    case ScalarType.INT32:
      return (v as number) < 0 ? 10 : varintSize(v as number);
    case ScalarType.UINT32:
      return varintSize(v as number);
    case ScalarType.SINT32:
      return varintSize((((v as number) << 1) ^ ((v as number) >> 31)) >>> 0);
    case ScalarType.INT64:
      split64(v, true);
      return varint64Size();
    case ScalarType.UINT64:
      split64(v, false);
      return varint64Size();
    case ScalarType.SINT64:
      split64(v, true);
      zigzag64();
      return varint64Size();
  }
}

/**
 * The UTF-8 length of a string, recorded in `lengths`. ASCII strings are copied
 * as they are; any other is encoded now with protobuf-es's encodeUtf8 and kept
 * in `strings`. The write pass tells them apart by their length: UTF-8 is
 * longer than the string exactly when it is not ASCII.
 */
function stringLength(s: unknown): number {
  if (typeof s !== "string") throw GIVE_UP;
  const slot = reserveLength();
  const n = s.length;
  if (n <= MAX_HAND_STRING) {
    let i = 0;
    while (i < n && s.charCodeAt(i) < 0x80) i++;
    if (i === n) return (lengths[slot] = n);
  } else if (Buffer.byteLength(s, "utf8") === n) {
    return (lengths[slot] = n);
  }
  const bytes = getTextEncoding().encodeUtf8(s);
  strings[stringCount++] = bytes;
  return (lengths[slot] = bytes.length);
}

// ---------------------------------------------------------------- write pass
// Visits what the size pass visited, in the same order, with the same tests.

function writeMessage(plan: Plan, m: Msg): void {
  for (const f of plan.fields) {
    switch (f.kind) {
      case SCALAR: {
        const v = m[f.name];
        if (!isScalarZeroValue(f.scalar, v)) writeScalar(f.tag, f.scalar, v);
        break;
      }
      case ENUM: {
        const v = m[f.name];
        if (v !== f.enumZero) writeScalar(f.tag, ScalarType.INT32, v);
        break;
      }
      case OPTIONAL: {
        const v = m[f.name];
        if (v !== undefined && Object.hasOwn(m, f.name)) writeScalar(f.tag, f.scalar, v);
        break;
      }
      case ONEOF_SCALAR: {
        const oneof = m[f.name] as { case: unknown; value: unknown };
        if (oneof.case === f.caseName) writeScalar(f.tag, f.scalar, oneof.value);
        break;
      }
      case MESSAGE: {
        const v = m[f.name];
        if (v !== undefined && Object.hasOwn(m, f.name)) writeNested(f.tag, f.message!, v as Msg);
        break;
      }
      case ONEOF_MESSAGE: {
        const oneof = m[f.name] as { case: unknown; value: unknown };
        if (oneof.case === f.caseName) writeNested(f.tag, f.message!, oneof.value as Msg);
        break;
      }
      case WRAPPER: {
        const v = m[f.name];
        if (v === undefined || !Object.hasOwn(m, f.name)) break;
        writeVarint(f.tag);
        writeVarint(lengths[lengthAt++]!);
        if (!isScalarZeroValue(f.scalar, v)) writeScalar(f.valueTag, f.scalar, v);
        break;
      }
      case LIST_PACKED: {
        const list = m[f.name] as unknown[];
        if (list.length === 0) break;
        writeVarint(f.tag);
        writeVarint(lengths[lengthAt++]!);
        for (let i = 0; i < list.length; i++) writeValue(f.scalar, list[i]);
        break;
      }
      case LIST: {
        const list = m[f.name] as unknown[];
        for (let i = 0; i < list.length; i++) writeScalar(f.tag, f.scalar, list[i]);
        break;
      }
      case LIST_MESSAGE: {
        const list = m[f.name] as Msg[];
        for (let i = 0; i < list.length; i++) writeNested(f.tag, f.message!, list[i]!);
        break;
      }
      case MAP: {
        const map = m[f.name] as Msg;
        for (const key of Object.keys(map)) {
          const value = map[key];
          writeVarint(f.tag);
          writeVarint(lengths[lengthAt++]!);
          writeScalar(f.keyTag, f.mapKey, mapKey(f.mapKey, key));
          if (f.message) writeNested(f.valueTag, f.message, value as Msg);
          else writeScalar(f.valueTag, f.scalar, value);
        }
        break;
      }
    }
  }
  const unknown = m.$unknown as { no: number; wireType: number; data: Uint8Array }[] | undefined | null;
  if (unknown) for (const u of unknown) {
    writeVarint(tagOf(u.no, u.wireType));
    writeBytes(u.data);
  }
}

function writeNested(tag: number, plan: Plan, m: Msg): void {
  writeVarint(tag);
  writeVarint(lengths[lengthAt++]!);
  writeMessage(plan, m);
}

function writeScalar(tag: number, type: ScalarType, v: unknown): void {
  writeVarint(tag);
  writeValue(type, v);
}

/**
 * A scalar value, checked as BinaryWriter checks it (where it would throw, or
 * write something other than a plain value's bytes, we give up).
 */
function writeValue(type: ScalarType, v: unknown): void {
  switch (type) {
    case ScalarType.STRING:
      writeString(v as string);
      break;
    case ScalarType.BYTES:
      writeVarint((v as Uint8Array).length);
      writeBytes(v as Uint8Array);
      break;
    case ScalarType.BOOL:
      if (typeof v !== "boolean") throw GIVE_UP;
      out[pos++] = v ? 1 : 0;
      break;
    case ScalarType.DOUBLE:
      if (typeof v !== "number") throw GIVE_UP;
      view.setFloat64(0, v, true);
      copyView(8);
      break;
    case ScalarType.FLOAT:
      if (typeof v !== "number" || (Number.isFinite(v) && (v > FLOAT32_MAX || v < -FLOAT32_MAX))) throw GIVE_UP;
      view.setFloat32(0, v, true);
      copyView(4);
      break;
    case ScalarType.INT32:
      if (((v as number) | 0) !== v) throw GIVE_UP;
      writeInt32(v as number);
      break;
    case ScalarType.UINT32:
      if (((v as number) >>> 0) !== v) throw GIVE_UP;
      writeVarint(v as number);
      break;
    case ScalarType.SINT32:
      if (((v as number) | 0) !== v) throw GIVE_UP;
      writeVarint((((v as number) << 1) ^ ((v as number) >> 31)) >>> 0);
      break;
    case ScalarType.FIXED32:
      if (((v as number) >>> 0) !== v) throw GIVE_UP;
      writeFixed32(v as number);
      break;
    case ScalarType.SFIXED32:
      if (((v as number) | 0) !== v) throw GIVE_UP;
      writeFixed32(v as number);
      break;
    case ScalarType.INT64:
      split64(v, true);
      writeVarint64();
      break;
    case ScalarType.UINT64:
      split64(v, false);
      writeVarint64();
      break;
    case ScalarType.SINT64:
      split64(v, true);
      zigzag64();
      writeVarint64();
      break;
    case ScalarType.FIXED64:
      split64(v, false);
      writeFixed32(lo);
      writeFixed32(hi);
      break;
    case ScalarType.SFIXED64:
      split64(v, true);
      writeFixed32(lo);
      writeFixed32(hi);
      break;
  }
}

// The writers below keep `out` and `pos` in locals: module variables are
// reloaded on every iteration of a loop.

/** An unsigned 32-bit varint. */
function writeVarint(v: number): void {
  const o = out;
  let p = pos;
  while (v > 0x7f) {
    o[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  o[p++] = v;
  pos = p;
}

/** A signed 32-bit varint: negative numbers sign-extended to 10 bytes (as varint32write). */
function writeInt32(v: number): void {
  if (v >= 0) {
    writeVarint(v);
    return;
  }
  const o = out;
  let p = pos;
  for (let i = 0; i < 9; i++) {
    o[p++] = (v & 0x7f) | 0x80;
    v >>= 7;
  }
  o[p++] = 1;
  pos = p;
}

/** The varint of `lo`, `hi` (as varint64write). */
function writeVarint64(): void {
  if (hi === 0) {
    writeVarint(lo >>> 0);
    return;
  }
  const o = out;
  let p = pos;
  for (let i = 0; i < 28; i += 7) o[p++] = ((lo >>> i) & 0x7f) | 0x80;
  const split = ((lo >>> 28) & 0x0f) | ((hi & 0x07) << 4);
  pos = p;
  if (hi >> 3 === 0) {
    o[pos++] = split;
    return;
  }
  o[pos++] = split | 0x80;
  writeVarint(hi >>> 3);
}

function writeFixed32(v: number): void {
  const o = out;
  const p = pos;
  o[p] = v;
  o[p + 1] = v >>> 8;
  o[p + 2] = v >>> 16;
  o[p + 3] = v >>> 24;
  pos = p + 4;
}

function copyView(n: number): void {
  const o = out;
  const p = pos;
  for (let i = 0; i < n; i++) o[p + i] = view.getUint8(i);
  pos = p + n;
}

function writeBytes(bytes: Uint8Array): void {
  const o = out;
  const p = pos;
  const n = bytes.length;
  if (n > 32) o.set(bytes, p);
  else for (let i = 0; i < n; i++) o[p + i] = bytes[i]!;
  pos = p + n;
}

function writeString(s: string): void {
  const length = lengths[lengthAt++]!;
  writeVarint(length);
  if (length !== s.length) {
    writeBytes(strings[stringAt++]!);
  } else if (length <= MAX_HAND_STRING) {
    const o = out;
    const p = pos;
    for (let i = 0; i < length; i++) o[p + i] = s.charCodeAt(i);
    pos = p + length;
  } else {
    pos += out.write(s, pos, "latin1");
  }
}
