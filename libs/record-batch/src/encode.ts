// In-memory columns → wire RecordBatch, two ways:
// - `recordBatchMessage` builds the generated message (small batches, clients);
// - `encodeRecordBatch` writes the protobuf bytes directly: each fixed-width
//   column is one typed array copied as a block, so a 100k-row × 20-feature
//   batch encodes in milliseconds instead of the ~1.5 s the generic encoder
//   takes. Both produce the same bytes (the tests check it).
//   It also takes fixed-width columns already held as typed arrays
//   (`FixedWidthColumn`, e.g. copied from DuckDB's vectors): their array is
//   written as is, with no per-value loop or boxing, and the bytes are the
//   same as for the equal `values`.
import { endianness } from "node:os";
import { create } from "@bufbuild/protobuf";
import { RecordBatchSchema, type Column, type RecordBatch } from "@fti/proto/fti/common/v1/record_batch_pb";
import type { FeatureType, ScalarType, ScalarValue, Value } from "@fti/schema";

if (endianness() !== "LE") throw new Error("@fti/record-batch writes typed arrays as protobuf's little-endian fixed-width values; this CPU is big-endian");

export interface TypedColumn {
  name: string;
  type: FeatureType;
  /** One value per row; null for a missing value. */
  values: readonly Value[];
}

export type FixedWidthType = "bool" | "int32" | "int64" | "float" | "double" | "timestamp";
export type FixedWidthArray = Uint8Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

/**
 * A fixed-width column held as its wire array: bool → Uint8Array of 0/1,
 * int32 → Int32Array, int64 → BigInt64Array, float → Float32Array,
 * double → Float64Array, timestamp → BigInt64Array of epoch microseconds.
 * `data` has at least rowCount entries (extra ones are ignored); entries at
 * null rows must be 0, the wire's placeholder. `validity` is the wire bitmap
 * (bit i%8 of byte i/8 set when row i has a value); omitted when no row is null.
 */
export interface FixedWidthColumn {
  name: string;
  type: FixedWidthType;
  data: FixedWidthArray;
  validity?: Uint8Array;
}

const fixedWidthArrays: Record<FixedWidthType, new (n: number) => FixedWidthArray> = {
  bool: Uint8Array,
  int32: Int32Array,
  int64: BigInt64Array,
  float: Float32Array,
  double: Float64Array,
  timestamp: BigInt64Array,
};

export function isFixedWidthType(type: FeatureType): type is FixedWidthType {
  return typeof type === "string" && type in fixedWidthArrays;
}

/** An array of `n` zeros of the type's wire array. */
export function fixedWidthArray(type: FixedWidthType, n: number): FixedWidthArray {
  return new fixedWidthArrays[type](n);
}

export function isFixedWidthColumn(column: TypedColumn | FixedWidthColumn): column is FixedWidthColumn {
  return "data" in column;
}

/** A fixed-width column's values in @fti/schema's form (timestamps as millisecond Dates, like the decoder). */
export function fixedWidthValues(column: Omit<FixedWidthColumn, "name">, rowCount: number): Value[] {
  const { type, data, validity } = column;
  const out: Value[] = new Array(rowCount);
  for (let i = 0; i < rowCount; i++) {
    if (validity && (validity[i >> 3]! & (1 << (i & 7))) === 0) out[i] = null;
    else if (type === "bool") out[i] = data[i] !== 0;
    else if (type === "timestamp") out[i] = new Date(Number((data[i] as bigint) / 1000n));
    else out[i] = data[i]!;
  }
  return out;
}

// ---- direct encoder -------------------------------------------------------

/** Protobuf bytes under construction: a list of chunks, concatenated once at the end. */
class Chunks {
  readonly parts: Uint8Array[] = [];
  size = 0;
  /** Tags and lengths written since the last chunk: they become one chunk, not one each. */
  private pending: number[] = [];
  push(bytes: Uint8Array) {
    this.flush();
    this.parts.push(bytes);
    this.size += bytes.length;
  }
  varint(value: number) {
    while (value > 127) {
      this.pending.push((value % 128) | 128);
      value = Math.floor(value / 128);
      this.size++;
    }
    this.pending.push(value);
    this.size++;
  }
  tag(field: number, wireType: 0 | 2) {
    this.varint(field * 8 + wireType);
  }
  /** A length-delimited field holding raw bytes. */
  bytes(field: number, data: Uint8Array) {
    this.tag(field, 2);
    this.varint(data.length);
    this.push(data);
  }
  /** A length-delimited field holding a nested message, without copying it. */
  message(field: number, inner: Chunks) {
    this.tag(field, 2);
    this.varint(inner.size);
    this.flush();
    inner.flush();
    for (const p of inner.parts) this.parts.push(p);
    this.size += inner.size;
  }
  concat(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
  private flush() {
    if (this.pending.length === 0) return;
    this.parts.push(new Uint8Array(this.pending));
    this.pending.length = 0;
  }
}

/**
 * Column names as UTF-8, encoded once: batches of one source carry the same
 * names every time (a view's features, a model's outputs). Bounded.
 */
const utf8Names = new Map<string, Uint8Array>();
export function utf8Name(name: string): Uint8Array {
  let bytes = utf8Names.get(name);
  if (!bytes) {
    if (utf8Names.size >= 10_000) utf8Names.clear();
    utf8Names.set(name, (bytes = utf8.encode(name)));
  }
  return bytes;
}

const asBytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const utf8 = new TextEncoder();

/** Field numbers of Column.data, by scalar type. */
const dataField: Record<ScalarType, number> = { bool: 3, int32: 4, int64: 5, float: 6, double: 7, string: 8, bytes: 9, timestamp: 10 };

/** Writes a RecordBatch's protobuf bytes directly from typed columns (values, or typed arrays for fixed-width ones). */
export function encodeRecordBatch(rowCount: number, columns: readonly (TypedColumn | FixedWidthColumn)[]): Uint8Array {
  const out = new Chunks();
  if (rowCount > 0) {
    out.tag(1, 0);
    out.varint(rowCount);
  }
  for (const c of columns) out.message(2, isFixedWidthColumn(c) ? encodeFixedWidthColumn(c, rowCount) : encodeColumn(c.name, c.type, c.values, rowCount, true));
  return out.concat();
}

function encodeFixedWidthColumn(c: FixedWidthColumn, rowCount: number): Chunks {
  if (c.data.length < rowCount) throw new Error(`column "${c.name}" has ${c.data.length} values for ${rowCount} rows`);
  if (!(c.data instanceof fixedWidthArrays[c.type])) throw new Error(`column "${c.name}" of type ${c.type} needs a ${fixedWidthArrays[c.type].name}`);
  const col = new Chunks();
  if (c.name) col.bytes(1, utf8Name(c.name));
  const validity = c.validity && wireValidity(c.validity, rowCount);
  if (validity) col.bytes(2, validity);
  const data = new Chunks();
  if (rowCount > 0) data.bytes(1, asBytes(c.data.subarray(0, rowCount)));
  col.message(dataField[c.type], data);
  return col;
}

/**
 * A caller's bitmap as the value encoder writes it: undefined when every row
 * is valid (the wire then carries no bitmap), else exactly ceil(n/8) bytes with
 * the bits past the last row cleared (copied only when they were not).
 */
function wireValidity(bitmap: Uint8Array, n: number): Uint8Array | undefined {
  const bytes = Math.ceil(n / 8);
  if (bitmap.length < bytes) throw new Error(`a validity bitmap of ${bitmap.length} bytes for ${n} rows`);
  const tail = n % 8 ? (1 << (n % 8)) - 1 : 0xff;
  let allValid = true;
  for (let i = 0; i < bytes - 1 && allValid; i++) allValid = bitmap[i] === 0xff;
  if (bytes > 0 && (bitmap[bytes - 1]! & tail) !== tail) allValid = false;
  if (allValid) return undefined;
  let out = bitmap.subarray(0, bytes);
  if ((out[bytes - 1]! & ~tail) !== 0) {
    out = out.slice();
    out[bytes - 1]! &= tail;
  }
  return out;
}

function encodeColumn(name: string, type: FeatureType, values: readonly Value[], rowCount: number, withValidity: boolean): Chunks {
  const col = new Chunks();
  if (name) col.bytes(1, utf8Name(name));
  if (withValidity) {
    const validity = validityOf(values, rowCount);
    if (validity) col.bytes(2, validity);
  }
  const data = new Chunks();
  if (typeof type === "string") {
    scalarData(data, type, values, rowCount);
    col.message(dataField[type], data);
  } else if ("array" in type) {
    const offsets = new Uint32Array(rowCount + 1);
    const elements: ScalarValue[] = [];
    for (let i = 0; i < rowCount; i++) {
      const v = values[i] as ScalarValue[] | null;
      if (v) for (const e of v) elements.push(e);
      offsets[i + 1] = elements.length;
    }
    data.bytes(1, asBytes(offsets));
    data.message(2, encodeColumn("", type.array, elements, elements.length, false));
    col.message(11, data);
  } else {
    const d = type.embedding;
    const flat = new Float32Array(rowCount * d);
    for (let i = 0; i < rowCount; i++) {
      const v = values[i] as Float32Array | null;
      if (v) flat.set(v, i * d);
    }
    data.tag(1, 0);
    data.varint(d);
    if (flat.length) data.bytes(2, asBytes(flat));
    col.message(12, data);
  }
  return col;
}

/** The packed or repeated values of one scalar column, as field 1 of its *Column message. */
function scalarData(data: Chunks, type: ScalarType, values: readonly Value[], n: number) {
  if (n === 0) return;
  switch (type) {
    case "bool": {
      const a = new Uint8Array(n);
      for (let i = 0; i < n; i++) a[i] = values[i] === true ? 1 : 0;
      return data.bytes(1, a);
    }
    case "int32": {
      const a = new Int32Array(n);
      for (let i = 0; i < n; i++) a[i] = (values[i] as number | null) ?? 0;
      return data.bytes(1, asBytes(a));
    }
    case "int64": {
      const a = new BigInt64Array(n);
      for (let i = 0; i < n; i++) a[i] = (values[i] as bigint | null) ?? 0n;
      return data.bytes(1, asBytes(a));
    }
    case "float": {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = (values[i] as number | null) ?? 0;
      return data.bytes(1, asBytes(a));
    }
    case "double": {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = (values[i] as number | null) ?? 0;
      return data.bytes(1, asBytes(a));
    }
    case "timestamp": {
      const a = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i] as Date | null;
        a[i] = v ? BigInt(v.getTime()) * 1000n : 0n;
      }
      return data.bytes(1, asBytes(a));
    }
    case "string":
      for (let i = 0; i < n; i++) data.bytes(1, utf8.encode((values[i] as string | null) ?? ""));
      return;
    case "bytes":
      for (let i = 0; i < n; i++) data.bytes(1, (values[i] as Uint8Array | null) ?? new Uint8Array(0));
      return;
  }
}

/** The validity bitmap, or undefined when no value is null. */
function validityOf(values: readonly Value[], n: number): Uint8Array | undefined {
  let bitmap: Uint8Array | undefined;
  for (let i = 0; i < n; i++) {
    if (values[i] !== null && values[i] !== undefined) continue;
    if (!bitmap) {
      bitmap = new Uint8Array(Math.ceil(n / 8)).fill(0xff);
      // Bits past the last row stay 0, as Arrow does.
      if (n % 8) bitmap[bitmap.length - 1] = (1 << (n % 8)) - 1;
    }
    bitmap[i >> 3]! &= ~(1 << (i & 7));
  }
  return bitmap;
}

// ---- generated-message form ----------------------------------------------------

/** The same batch as a generated message (for small batches and for clients). */
export function recordBatchMessage(rowCount: number, columns: readonly TypedColumn[]): RecordBatch {
  return create(RecordBatchSchema, { rowCount, columns: columns.map((c) => columnMessage(c.name, c.type, c.values, rowCount, true)) });
}

function columnMessage(name: string, type: FeatureType, values: readonly Value[], n: number, withValidity: boolean): Column {
  const validity = withValidity ? validityOf(values, n) ?? new Uint8Array(0) : new Uint8Array(0);
  const placeholder = <T>(v: Value, zero: T) => (v === null || v === undefined ? zero : (v as T));
  let data: Column["data"];
  if (typeof type === "string") {
    switch (type) {
      case "bool": data = { case: "boolValues", value: { $typeName: "fti.common.v1.BoolColumn", values: values.map((v) => placeholder(v, false)) } }; break;
      case "int32": data = { case: "int32Values", value: { $typeName: "fti.common.v1.Int32Column", values: values.map((v) => placeholder(v, 0)) } }; break;
      case "int64": data = { case: "int64Values", value: { $typeName: "fti.common.v1.Int64Column", values: values.map((v) => placeholder(v, 0n)) } }; break;
      case "float": data = { case: "floatValues", value: { $typeName: "fti.common.v1.FloatColumn", values: values.map((v) => Math.fround(placeholder(v, 0))) } }; break;
      case "double": data = { case: "doubleValues", value: { $typeName: "fti.common.v1.DoubleColumn", values: values.map((v) => placeholder(v, 0)) } }; break;
      case "string": data = { case: "stringValues", value: { $typeName: "fti.common.v1.StringColumn", values: values.map((v) => placeholder(v, "")) } }; break;
      case "bytes": data = { case: "bytesValues", value: { $typeName: "fti.common.v1.BytesColumn", values: values.map((v) => placeholder(v, new Uint8Array(0))) } }; break;
      case "timestamp": data = { case: "timestampValues", value: { $typeName: "fti.common.v1.TimestampColumn", micros: values.map((v) => (v ? BigInt((v as Date).getTime()) * 1000n : 0n)) } }; break;
    }
  } else if ("array" in type) {
    const offsets = [0];
    const elements: ScalarValue[] = [];
    for (let i = 0; i < n; i++) {
      for (const e of (values[i] as ScalarValue[] | null) ?? []) elements.push(e);
      offsets.push(elements.length);
    }
    data = { case: "listValues", value: { $typeName: "fti.common.v1.ListColumn", offsets, elements: columnMessage("", type.array, elements, elements.length, false) } };
  } else {
    const flat = new Float32Array(n * type.embedding);
    for (let i = 0; i < n; i++) if (values[i]) flat.set(values[i] as Float32Array, i * type.embedding);
    data = { case: "embeddingValues", value: { $typeName: "fti.common.v1.EmbeddingColumn", dimension: type.embedding, values: Array.from(flat) } };
  }
  return { $typeName: "fti.common.v1.Column", name, validity, data };
}
