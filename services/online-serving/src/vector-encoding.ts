// FeatureColumn messages written as protobuf bytes directly into one buffer
// per response: sizes are computed first, then every column's values block,
// statuses (one byte each: every FeatureStatus fits a one-byte varint) and
// event times are written in place. The messages become the occurrences of
// the response's repeated field as one already-encoded unknown field that
// protobuf-es writes verbatim (it writes the first tag; the buffer holds the
// others), skipping the generic encoder, which on a 1 × 50 read cost more CPU
// than the two store reads. One entry, not one per column: 50 entries and
// their buffer views were a measurable share of a small response's garbage.
import type { Message } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { encodeRecordBatch, utf8Name } from "@fti/record-batch";
import type { ScalarType, Value } from "@fti/schema";
import type { VectorColumn } from "./feature-vectors.js";

/** Column.data field numbers and fixed widths of the scalar types. */
const dataField: Record<ScalarType, number> = { bool: 3, int32: 4, int64: 5, float: 6, double: 7, string: 8, bytes: 9, timestamp: 10 };
const fixedWidth: Partial<Record<ScalarType, number>> = { bool: 1, int32: 4, int64: 8, float: 4, double: 8, timestamp: 8 };

const varintSize = (v: number) => (v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5);
const delimited = (size: number) => 1 + varintSize(size) + size;

class Writer {
  readonly buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  varint(v: number) {
    while (v > 127) {
      this.buf[this.pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }
  /** Length and bytes; short ones copied by hand (cheaper than TypedArray.set). */
  bytes(bytes: Uint8Array) {
    const n = bytes.length;
    this.varint(n);
    if (n > 32) this.buf.set(bytes, this.pos);
    else for (let i = 0; i < n; i++) this.buf[this.pos + i] = bytes[i]!;
    this.pos += n;
  }
  tag(field: number) {
    this.buf[this.pos++] = (field << 3) | WireType.LengthDelimited;
  }
}

/**
 * Sizes of each column's parts, computed before anything is written: reused
 * arrays, not an object per column (fifty of those were a tenth of a one-entity
 * response's garbage). The event loop runs one encoding at a time.
 */
let sizes = { nulls: new Int32Array(64), inner: new Int32Array(64), column: new Int32Array(64), size: new Int32Array(64) };
const names: Uint8Array[] = [];

/** Appends one FeatureColumn per column to `message`'s repeated field `fieldNumber`. */
export function appendFeatureColumns(message: Message, fieldNumber: number, rowCount: number, columns: readonly VectorColumn[], includeEventTimes: boolean): void {
  const n = rowCount;
  const count = columns.length;
  if (count === 0) return;
  if (sizes.size.length < count) {
    const length = Math.max(count, 2 * sizes.size.length);
    sizes = { nulls: new Int32Array(length), inner: new Int32Array(length), column: new Int32Array(length), size: new Int32Array(length) };
  }
  const { nulls, inner, column, size } = sizes;
  // Arrays and embeddings (rare) are encoded whole, up front.
  let fallbacks: (Uint8Array | undefined)[] | undefined;
  // Every occurrence after the first carries its own tag in the buffer.
  const tag = (fieldNumber << 3) | WireType.LengthDelimited;
  let total = (count - 1) * varintSize(tag);
  for (let k = 0; k < count; k++) {
    const c = columns[k]!;
    if (typeof c.type !== "string") {
      const bytes = fallbackColumn(c, n, includeEventTimes);
      (fallbacks ??= [])[k] = bytes;
      total += bytes.length;
      continue;
    }
    nulls[k] = countNulls(c.values, n);
    const width = fixedWidth[c.type];
    let values = 0;
    if (width !== undefined) values = n > 0 ? delimited(n * width) : 0;
    else for (let i = 0; i < n; i++) values += delimited(c.values[i] === null ? 0 : c.type === "string" ? Buffer.byteLength(c.values[i] as string) : (c.values[i] as Uint8Array).length);
    inner[k] = values;
    names[k] = utf8Name(c.name);
    column[k] = delimited(names[k]!.length) + (nulls[k] ? delimited(Math.ceil(n / 8)) : 0) + delimited(values);
    size[k] = delimited(column[k]!) + (n > 0 ? delimited(n) : 0) + (includeEventTimes && n > 0 ? delimited(8 * n) : 0);
    total += varintSize(size[k]!) + size[k]!;
  }
  const w = new Writer(total);
  for (let k = 0; k < count; k++) {
    if (k > 0) w.varint(tag);
    const fallback = fallbacks?.[k];
    if (fallback) {
      w.buf.set(fallback, w.pos);
      w.pos += fallback.length;
      continue;
    }
    const c = columns[k]!;
    const type = c.type as ScalarType;
    const name = names[k]!;
    w.varint(size[k]!);
    w.tag(1);
    w.varint(column[k]!);
    w.tag(1);
    w.bytes(name);
    if (nulls[k]) writeValidity(w, c.values, n);
    w.tag(dataField[type]);
    w.varint(inner[k]!);
    if (n > 0) writeValues(w, type, c.values, n);
    if (n > 0) {
      w.tag(2);
      w.varint(n);
      for (let i = 0; i < n; i++) w.buf[w.pos++] = c.statuses[i]!;
    }
    if (includeEventTimes && n > 0) {
      w.tag(3);
      w.varint(8 * n);
      w.buf.set(new Uint8Array(c.eventMicros.buffer, c.eventMicros.byteOffset, 8 * n), w.pos);
      w.pos += 8 * n;
    }
  }
  (message.$unknown ??= []).push({ no: fieldNumber, wireType: WireType.LengthDelimited, data: w.buf.subarray(0, w.pos) });
}

function countNulls(values: readonly Value[], n: number): number {
  let nulls = 0;
  for (let i = 0; i < n; i++) if (values[i] === null || values[i] === undefined) nulls++;
  return nulls;
}

function writeValidity(w: Writer, values: readonly Value[], n: number) {
  const bytes = Math.ceil(n / 8);
  w.tag(2);
  w.varint(bytes);
  const at = w.pos;
  w.buf.fill(0, at, at + bytes);
  for (let i = 0; i < n; i++) if (values[i] !== null && values[i] !== undefined) w.buf[at + (i >> 3)]! |= 1 << (i & 7);
  w.pos += bytes;
}

function writeValues(w: Writer, type: ScalarType, values: readonly Value[], n: number) {
  const width = fixedWidth[type];
  if (width !== undefined) {
    w.tag(1);
    w.varint(n * width);
  }
  const b = w.buf;
  for (let i = 0; i < n; i++) {
    const v = values[i] ?? null;
    switch (type) {
      case "bool": b[w.pos++] = v === true ? 1 : 0; break;
      case "int32": b.writeInt32LE((v as number | null) ?? 0, w.pos); w.pos += 4; break;
      case "int64": b.writeBigInt64LE((v as bigint | null) ?? 0n, w.pos); w.pos += 8; break;
      case "float": b.writeFloatLE((v as number | null) ?? 0, w.pos); w.pos += 4; break;
      case "double": b.writeDoubleLE((v as number | null) ?? 0, w.pos); w.pos += 8; break;
      case "timestamp": b.writeBigInt64LE(v ? BigInt((v as Date).getTime()) * 1000n : 0n, w.pos); w.pos += 8; break;
      case "string": {
        const s = (v as string | null) ?? "";
        w.tag(1);
        w.varint(Buffer.byteLength(s));
        w.pos += b.write(s, w.pos, "utf8");
        break;
      }
      case "bytes": {
        const bytes = (v as Uint8Array | null) ?? new Uint8Array(0);
        w.tag(1);
        w.varint(bytes.length);
        b.set(bytes, w.pos);
        w.pos += bytes.length;
        break;
      }
    }
  }
}

/**
 * Arrays and embeddings (rare in vectors) go through @fti/record-batch's
 * encoder: its RecordBatch holds the one Column as field 2, which is the
 * FeatureColumn's field 1 once renumbered. Returns the length-prefixed message.
 */
function fallbackColumn(c: VectorColumn, n: number, includeEventTimes: boolean): Uint8Array {
  const batch = encodeRecordBatch(n, [c]);
  // Skip RecordBatch.row_count (field 1) if present; what follows is field 2: tag, length, Column.
  let at = 0;
  if (batch[0] === 0x08) {
    at = 1;
    while (batch[at++]! & 0x80);
  }
  const column = batch.subarray(at + 1); // drop tag 2 (0x12); keep the length and the Column
  const times = n > 0 ? Buffer.from(c.eventMicros.buffer, c.eventMicros.byteOffset, 8 * n) : Buffer.alloc(0);
  const statuses = Buffer.from(c.statuses.subarray(0, n));
  const parts = [Buffer.from([0x0a]), column, ...(n > 0 ? [Buffer.from([0x12]), varint(n), statuses] : []), ...(includeEventTimes && n > 0 ? [Buffer.from([0x1a]), varint(8 * n), times] : [])];
  const body = Buffer.concat(parts);
  return Buffer.concat([varint(body.length), body]);
}

function varint(v: number): Buffer {
  const out: number[] = [];
  while (v > 127) {
    out.push((v & 127) | 128);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}
