// Request decoding without protobuf-es's reflection: fromBinary builds a
// ReflectMessageImpl and Maps for every message and looks fields up by number.
// Decoders here are built once per message type; on anything they do not handle
// exactly they give up and fromBinary decodes, so results and errors are its own.
import { fromBinary, protoInt64, ScalarType, type DescField, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { scalarZeroValue } from "@bufbuild/protobuf/reflect";
import { getTextEncoding } from "@bufbuild/protobuf/wire";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { compiledCodecSupports, IMPLICIT, WIRE_BIT32, WIRE_BIT64, WIRE_LENGTH, WIRE_VARINT, wireTypeOf } from "./message-support.js";

type Decoder<D extends DescMessage> = (bytes: Uint8Array) => MessageShape<D>;
type Msg = Record<string, unknown>;

/**
 * Decodes `schema` messages exactly as `fromBinary(schema, bytes)` does, only
 * faster. Built once per schema.
 */
export function messageDecoder<D extends DescMessage>(schema: D): Decoder<D> {
  let decode = decoders.get(schema);
  if (decode === undefined) {
    const fast = fastMessageDecoder(schema);
    decode = fast === undefined ? (bytes) => fromBinary(schema, bytes) : (bytes) => fast(bytes) ?? fromBinary(schema, bytes);
    decoders.set(schema, decode);
  }
  return decode as Decoder<D>;
}

const decoders = new WeakMap<DescMessage, Decoder<DescMessage>>();

/**
 * The fast path alone (exported for tests): undefined for a schema it does not
 * handle, and its decoder returns undefined where it gives up.
 */
export function fastMessageDecoder<D extends DescMessage>(schema: D): ((bytes: Uint8Array) => MessageShape<D> | undefined) | undefined {
  if (!hostSupported || !compiledCodecSupports(schema)) return undefined;
  const plan = planOf(schema);
  return (bytes) => {
    try {
      return readMessage(plan, new Reader(bytes), bytes.length, 1, plan.create()) as MessageShape<D>;
    } catch {
      return undefined;
    }
  };
}

// Floats and 64-bit integers (bigint) are read through a scratch buffer, so little-endian hosts only.
const scratch = new ArrayBuffer(8);
const scratchBytes = new Uint8Array(scratch);
const scratchInt32 = new Int32Array(scratch);
const scratchUint32 = new Uint32Array(scratch);
const scratchFloat = new Float32Array(scratch);
const scratchDouble = new Float64Array(scratch);
const scratchInt64 = new BigInt64Array(scratch);
const scratchUint64 = new BigUint64Array(scratch);
const hostSupported = protoInt64.supported && new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const RECURSION_LIMIT = 100; // fromBinary's default

/** Thrown to abandon the fast path. */
const GIVE_UP = Symbol("give up");

// How a field is read (Field.kind).
const SCALAR = 0; // scalar or enum
const ONEOF_SCALAR = 1;
const LIST_ITEM = 2; // one scalar of a repeated field
const LIST_PACKED = 3; // packed repeated scalars
const MESSAGE = 4; // merged into the message already there, as protobuf-es does
const ONEOF_MESSAGE = 5;
const LIST_MESSAGE = 6;
const WRAPPER = 7; // google.protobuf.*Value field, unboxed to its value
const MAP_ENTRY = 8;

interface Field {
  kind: number;
  /** The property: the field's local name, or its oneof's. */
  name: string;
  /** The oneof case: the field's local name. */
  caseName: string;
  /** Scalars, list items and map values; INT32 for enums. */
  scalar: ScalarType;
  utf8Strict: boolean;
  /** Message fields, lists of messages and maps with message values. */
  message: Plan | undefined;
  mapKey: ScalarType;
  /** The value of a map entry without one. */
  mapValueZero: () => unknown;
}

interface Plan {
  /** The message as create() makes it: same own properties in the same order. */
  create: () => Msg;
  /** Fields by tag (field number << 3 | wire type), for small field numbers. */
  byTag: (Field | undefined)[];
  /** Fields by tag, for large field numbers. */
  byLargeTag: Map<number, Field>;
}

const plans = new WeakMap<DescMessage, Plan>();
const MAX_INDEXED_TAG = 1024 * 8;

function planOf(desc: DescMessage): Plan {
  let plan = plans.get(desc);
  if (plan !== undefined) return plan;
  const tags = Math.min(MAX_INDEXED_TAG, Math.max(0, ...desc.fields.map((f) => f.number + 1)) * 8);
  plan = { create: makeCreate(desc), byTag: new Array<Field | undefined>(tags).fill(undefined), byLargeTag: new Map() };
  plans.set(desc, plan); // before its fields, for recursive types
  for (const f of desc.fields) {
    for (const [wireType, field] of fieldReaders(f)) {
      const tag = f.number * 8 + wireType;
      if (tag < MAX_INDEXED_TAG) plan.byTag[tag] = field;
      else plan.byLargeTag.set(tag, field);
    }
  }
  return plan;
}

/** The wire types accepted for a field, each with how to read it. */
function fieldReaders(f: DescField): [number, Field][] {
  const field = (kind: number): Field => ({
    kind,
    name: f.oneof ? f.oneof.localName : f.localName,
    caseName: f.localName,
    scalar: f.scalar ?? ScalarType.INT32,
    utf8Strict: f.utf8Validation,
    message: f.message && planOf(f.message),
    mapKey: f.fieldKind === "map" ? f.mapKey : ScalarType.STRING,
    mapValueZero: () => undefined,
  });
  switch (f.fieldKind) {
    case "scalar":
    case "enum":
      return [[wireTypeOf(f.scalar ?? ScalarType.INT32), field(f.oneof ? ONEOF_SCALAR : SCALAR)]];
    case "message":
      return [[WIRE_LENGTH, field(f.oneof ? ONEOF_MESSAGE : isWrapperDesc(f.message) ? WRAPPER : MESSAGE)]];
    case "list": {
      if (f.listKind === "message") return [[WIRE_LENGTH, field(LIST_MESSAGE)]];
      const itemWireType = wireTypeOf(f.scalar ?? ScalarType.INT32);
      // Packed or not, whatever the field's option says (as protobuf-es).
      return itemWireType === WIRE_LENGTH
        ? [[WIRE_LENGTH, field(LIST_ITEM)]]
        : [[itemWireType, field(LIST_ITEM)], [WIRE_LENGTH, field(LIST_PACKED)]];
    }
    case "map": {
      const map = field(MAP_ENTRY);
      const valueScalar = f.scalar;
      const valueEnum = f.enum;
      const valuePlan = map.message;
      map.mapValueZero = valuePlan
        ? () => valuePlan.create()
        : valueEnum
          ? () => valueEnum.values[0]!.number
          : () => scalarZeroValue(valueScalar!, false);
      return [[WIRE_LENGTH, map]];
    }
  }
}

/**
 * A function returning a new message the way create() makes it: $typeName,
 * then each oneof ({ case: undefined }) and each field with implicit presence
 * (zero value) in declaration order. Message fields and proto3 `optional`
 * fields get no property until set. Generated as one object literal.
 */
function makeCreate(desc: DescMessage): () => Msg {
  const props = [`$typeName: ${JSON.stringify(desc.typeName)}`];
  for (const member of desc.members) {
    const key = JSON.stringify(member.localName);
    if (member.kind === "oneof") props.push(`${key}: { case: undefined }`);
    else if (member.presence === IMPLICIT) props.push(`${key}: ${zeroLiteral(member)}`);
  }
  return new Function(`return () => ({ ${props.join(", ")} });`)() as () => Msg;
}

function zeroLiteral(f: DescField): string {
  switch (f.fieldKind) {
    case "list":
      return "[]";
    case "map":
      return "{}";
    case "enum":
      return String(f.enum.values[0]!.number);
    case "message":
      throw new Error(`${f} has implicit presence`);
    case "scalar":
      switch (f.scalar) {
        case ScalarType.STRING:
          return '""';
        case ScalarType.BOOL:
          return "false";
        case ScalarType.BYTES:
          return "new Uint8Array(0)";
        case ScalarType.INT64:
        case ScalarType.UINT64:
        case ScalarType.SINT64:
        case ScalarType.FIXED64:
        case ScalarType.SFIXED64:
          return "0n";
        default:
          return "0";
      }
  }
}

/** Reads fields into `m` up to `end`, where the message must end exactly. */
function readMessage(plan: Plan, r: Reader, end: number, depth: number, m: Msg): Msg {
  if (depth > RECURSION_LIMIT) throw GIVE_UP;
  while (r.pos < end) {
    const tag = r.tag();
    const f = tag < plan.byTag.length ? plan.byTag[tag] : plan.byLargeTag.get(tag);
    if (f === undefined) throw GIVE_UP; // unknown field, or a wire type we do not expect
    switch (f.kind) {
      case SCALAR:
        m[f.name] = readScalar(r, f.scalar, f.utf8Strict);
        break;
      case ONEOF_SCALAR:
        m[f.name] = { case: f.caseName, value: readScalar(r, f.scalar, f.utf8Strict) };
        break;
      case LIST_ITEM:
        (m[f.name] as unknown[]).push(readScalar(r, f.scalar, f.utf8Strict));
        break;
      case LIST_PACKED: {
        const list = m[f.name] as unknown[];
        const packedEnd = r.lengthEnd();
        while (r.pos < packedEnd) list.push(readScalar(r, f.scalar, f.utf8Strict));
        if (r.pos !== packedEnd) throw GIVE_UP;
        break;
      }
      case MESSAGE: {
        const sub = f.message!;
        const existing = m[f.name] as Msg | undefined;
        m[f.name] = readMessage(sub, r, r.lengthEnd(), depth + 1, existing ?? sub.create());
        break;
      }
      case ONEOF_MESSAGE: {
        const sub = f.message!;
        const oneof = m[f.name] as { case: string | undefined; value?: Msg };
        const target = oneof.case === f.caseName ? oneof.value! : sub.create();
        m[f.name] = { case: f.caseName, value: readMessage(sub, r, r.lengthEnd(), depth + 1, target) };
        break;
      }
      case LIST_MESSAGE: {
        const sub = f.message!;
        (m[f.name] as unknown[]).push(readMessage(sub, r, r.lengthEnd(), depth + 1, sub.create()));
        break;
      }
      case WRAPPER: {
        const sub = f.message!;
        const wrapper = sub.create();
        if (m[f.name] !== undefined) wrapper.value = m[f.name];
        m[f.name] = readMessage(sub, r, r.lengthEnd(), depth + 1, wrapper).value;
        break;
      }
      case MAP_ENTRY:
        readMapEntry(f, r, depth, m[f.name] as Msg);
        break;
    }
  }
  if (r.pos !== end) throw GIVE_UP;
  return m;
}

const MAP_KEY_TAG = 1 * 8;
const MAP_VALUE_TAG = 2 * 8;

/**
 * One entry: key (field 1) and value (field 2), either missing or repeated
 * (the last wins; a message value is not merged, as in protobuf-es). Keys are
 * stored as protobuf-es stores them: strings and numbers as they are, bool and
 * 64-bit keys as strings.
 */
function readMapEntry(f: Field, r: Reader, depth: number, map: Msg): void {
  const end = r.lengthEnd();
  const keyTag = MAP_KEY_TAG + wireTypeOf(f.mapKey);
  const valuePlan = f.message;
  const valueTag = MAP_VALUE_TAG + (valuePlan ? WIRE_LENGTH : wireTypeOf(f.scalar));
  let key: unknown;
  let value: unknown;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === keyTag) key = readScalar(r, f.mapKey, f.utf8Strict);
    else if (tag === valueTag) {
      value = valuePlan ? readMessage(valuePlan, r, r.lengthEnd(), depth + 1, valuePlan.create()) : readScalar(r, f.scalar, f.utf8Strict);
    } else throw GIVE_UP;
  }
  if (r.pos !== end) throw GIVE_UP;
  key ??= scalarZeroValue(f.mapKey, false);
  map[typeof key === "string" || typeof key === "number" ? key : String(key)] = value === undefined ? f.mapValueZero() : value;
}

function readScalar(r: Reader, type: ScalarType, utf8Strict: boolean): unknown {
  switch (type) {
    case ScalarType.STRING:
      return r.string(utf8Strict);
    case ScalarType.BOOL: {
      const lo = r.varint64();
      return lo !== 0 || r.hi !== 0;
    }
    case ScalarType.DOUBLE:
      r.toScratch(8);
      return scratchDouble[0];
    case ScalarType.FLOAT:
      r.toScratch(4);
      return scratchFloat[0];
    case ScalarType.INT32:
      return r.uint32() | 0;
    case ScalarType.UINT32:
      return r.uint32();
    case ScalarType.SINT32: {
      const n = r.uint32();
      return (n >>> 1) ^ -(n & 1);
    }
    case ScalarType.FIXED32:
      r.toScratch(4);
      return scratchUint32[0];
    case ScalarType.SFIXED32:
      r.toScratch(4);
      return scratchInt32[0];
    case ScalarType.INT64:
      return int64(r.varint64(), r.hi);
    case ScalarType.UINT64:
      return uint64(r.varint64(), r.hi);
    case ScalarType.SINT64: {
      let lo = r.varint64();
      let hi = r.hi;
      const sign = -(lo & 1);
      lo = ((lo >>> 1) | ((hi & 1) << 31)) ^ sign;
      hi = (hi >>> 1) ^ sign;
      return int64(lo, hi);
    }
    case ScalarType.FIXED64:
      r.toScratch(8);
      return scratchUint64[0];
    case ScalarType.SFIXED64:
      r.toScratch(8);
      return scratchInt64[0];
    case ScalarType.BYTES:
      return r.bytes();
  }
}

/** The signed 64-bit integer of two 32-bit halves. */
function int64(lo: number, hi: number): bigint {
  scratchInt32[0] = lo;
  scratchInt32[1] = hi;
  return scratchInt64[0]!;
}

/** The unsigned 64-bit integer of two 32-bit halves. */
function uint64(lo: number, hi: number): bigint {
  scratchInt32[0] = lo;
  scratchInt32[1] = hi;
  return scratchUint64[0]!;
}

/**
 * Reads the wire format as protobuf-es's BinaryReader does, but gives up
 * (throws GIVE_UP) where that one would throw.
 */
class Reader {
  pos = 0;
  /** The high 32 bits of the last varint64(). */
  hi = 0;
  private readonly len: number;
  private readonly decodeUtf8 = getTextEncoding().decodeUtf8;

  constructor(private readonly buf: Uint8Array) {
    this.len = buf.length;
  }

  /** A tag: one uint32 varint of at most 5 bytes. */
  tag(): number {
    const b = this.buf[this.pos];
    if (b !== undefined && b < 0x80) {
      this.pos++;
      return b;
    }
    const start = this.pos;
    const tag = this.uint32();
    if (this.pos - start > 5 || (this.pos - start === 5 && this.buf[this.pos - 1]! > 0x0f)) throw GIVE_UP;
    return tag;
  }

  /** A uint32 varint: the low 32 bits of a varint of up to 10 bytes (as protobuf-es's varint32read). */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const b = buf[pos++]!;
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return this.end(pos, result);
    }
    let b = buf[pos++]!;
    result |= (b & 0x0f) << 28;
    for (let read = 5; (b & 0x80) !== 0 && read < 10; read++) b = buf[pos++]!;
    if ((b & 0x80) !== 0) throw GIVE_UP;
    return this.end(pos, result >>> 0);
  }

  /** A 64-bit varint: returns the low 32 bits, sets `hi` (as protobuf-es's varint64read). */
  varint64(): number {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        this.hi = 0;
        return this.end(pos, lo);
      }
    }
    b = buf[pos++]!;
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x70) >> 4;
    if ((b & 0x80) !== 0) {
      for (let shift = 3; ; shift += 7) {
        if (shift > 31) throw GIVE_UP;
        b = buf[pos++]!;
        hi |= (b & 0x7f) << shift;
        if ((b & 0x80) === 0) break;
      }
    }
    this.hi = hi;
    return this.end(pos, lo);
  }

  /** Reads a length; returns where the data it announces ends. */
  lengthEnd(): number {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.len) throw GIVE_UP;
    return end;
  }

  /** Copies the next `n` bytes (a fixed-width value, little-endian) to the scratch buffer. */
  toScratch(n: number): void {
    const buf = this.buf;
    const start = this.pos;
    this.end(start + n, 0);
    for (let i = 0; i < n; i++) scratchBytes[i] = buf[start + i]!;
  }

  /** A view of the input, as protobuf-es returns (subarray, not a copy). */
  bytes(): Uint8Array {
    const end = this.lengthEnd();
    const start = this.pos;
    this.pos = end;
    return this.buf.subarray(start, end);
  }

  /**
   * UTF-8 with protobuf-es's own decoder. Short ASCII strings (names, ids) are
   * decoded by hand: the same string, without TextDecoder's fixed cost.
   */
  string(strict: boolean): string {
    const end = this.lengthEnd();
    const start = this.pos;
    const buf = this.buf;
    this.pos = end;
    if (end - start <= 12) {
      let s = "";
      for (let i = start; i < end; i++) {
        const c = buf[i]!;
        if (c >= 0x80) return this.decodeUtf8(buf.subarray(start, end), strict);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return this.decodeUtf8(buf.subarray(start, end), strict);
  }

  /** Moves to `pos`, giving up past the end of the input; returns `value`. */
  private end<T>(pos: number, value: T): T {
    if (pos > this.len) throw GIVE_UP;
    this.pos = pos;
    return value;
  }
}
