// DuckDB result vectors → the in-memory values of @fti/schema, one converter
// per feature type, chosen once per column rather than per value; and, for
// fixed-width types, straight into typed arrays (no value objects at all).
import { DuckDBTypeId, type DuckDBBlobValue, type DuckDBListValue, type DuckDBTimestampTZValue, type DuckDBValue, type DuckDBVector } from "@duckdb/node-api";
import type { FixedWidthArray, FixedWidthType } from "@fti/record-batch";
import type { FeatureType, ScalarType, ScalarValue, Value } from "@fti/schema";

export type Convert = (value: DuckDBValue) => Value;

/** A converter for a non-null scalar, or undefined when DuckDB's JS value is already ours. */
function scalarConverter(type: ScalarType): ((value: DuckDBValue) => ScalarValue) | undefined {
  switch (type) {
    case "timestamp":
      // TIMESTAMPTZ micros; platform values are millisecond Dates.
      return (v) => new Date(Number((v as DuckDBTimestampTZValue).micros / 1000n));
    case "bytes":
      return (v) => (v as DuckDBBlobValue).bytes;
    default:
      return undefined;
  }
}

export function valueConverter(type: FeatureType): Convert {
  if (typeof type === "string") return scalarConverter(type) ?? ((v) => v as Value);
  if ("array" in type) {
    const element = scalarConverter(type.array) ?? ((v: DuckDBValue) => v as ScalarValue);
    return (v) => (v as DuckDBListValue).items.map((e) => element(e));
  }
  return (v) => Float32Array.from((v as DuckDBListValue).items as number[]);
}

// ---- fixed-width columns without boxing -----------------------------------

/** A chunk vector's own memory: its values and DuckDB's validity mask (null when no row is null). */
export interface RawVector {
  items: FixedWidthArray;
  /** uint64 words viewed as bytes, least-significant bit first: bit i%8 of byte i/8 is row i. */
  validity: Uint8Array | null;
}

/** The DuckDB types whose vectors hold exactly our wire array for each fixed-width type. */
const rawLayouts: Record<FixedWidthType, { typeIds: readonly DuckDBTypeId[]; array: Function }> = {
  bool: { typeIds: [DuckDBTypeId.BOOLEAN], array: DataView },
  int32: { typeIds: [DuckDBTypeId.INTEGER], array: Int32Array },
  int64: { typeIds: [DuckDBTypeId.BIGINT], array: BigInt64Array },
  float: { typeIds: [DuckDBTypeId.FLOAT], array: Float32Array },
  double: { typeIds: [DuckDBTypeId.DOUBLE], array: Float64Array },
  timestamp: { typeIds: [DuckDBTypeId.TIMESTAMP_TZ, DuckDBTypeId.TIMESTAMP], array: BigInt64Array },
};

/**
 * The typed array and validity mask inside a @duckdb/node-api chunk vector, or
 * undefined when the vector is not shaped as expected. The fields read here
 * (`items`, `dataView`, `validity.data`, `validity.offset`) are private in
 * @duckdb/node-api's typings but plain fields at runtime (checked against
 * 1.5.x); this is the only place that relies on them, and every check failing
 * means the caller falls back to `getItem`, so an upgrade that changes them
 * costs speed, not correctness.
 */
export function rawVector(vector: DuckDBVector, type: FixedWidthType, rowCount: number): RawVector | undefined {
  const layout = rawLayouts[type];
  if (!layout.typeIds.includes(vector.type.typeId)) return undefined;
  const v = vector as unknown as { items?: unknown; dataView?: unknown; validity?: { data?: unknown; offset?: unknown } };
  let items: FixedWidthArray;
  if (type === "bool") {
    // Booleans are one byte each (0 or 1), behind a DataView.
    const view = v.dataView;
    if (!(view instanceof DataView) || view.byteLength !== rowCount) return undefined;
    items = new Uint8Array(view.buffer, view.byteOffset, rowCount);
  } else {
    if (!(v.items instanceof layout.array) || (v.items as FixedWidthArray).length !== rowCount) return undefined;
    items = v.items as FixedWidthArray;
  }
  const mask = v.validity;
  if (!mask || typeof mask !== "object" || mask.offset !== 0) return undefined;
  if (mask.data === null) return { items, validity: null };
  if (!(mask.data instanceof BigUint64Array) || mask.data.length * 64 < rowCount) return undefined;
  return { items, validity: new Uint8Array(mask.data.buffer, mask.data.byteOffset, mask.data.byteLength) };
}

/** How chunk columns were copied, for tests and profiling: by block copy, or value by value through `getItem`. */
export const fixedWidthCopies = { fast: 0, fallback: 0 };

/**
 * Copies rows [from, from + n) of a chunk vector into `column` at row `at`:
 * a block copy of the values and a bit copy of nulls when the vector's memory
 * is reachable, else value by value. Null rows get 0 (the wire's placeholder)
 * and a cleared validity bit; `column.validity` is created at the first null.
 */
export function copyFixedWidth(vector: DuckDBVector, column: FixedWidthBuilder, from: number, n: number, at: number, rowCount: number): void {
  const raw = rawVector(vector, column.type, rowCount);
  const data = column.data;
  if (raw) {
    fixedWidthCopies.fast++;
    (data as Float64Array).set(raw.items.subarray(from, from + n) as Float64Array, at);
    const mask = raw.validity;
    if (mask) {
      for (let i = 0; i < n; i++) {
        const r = from + i;
        // Whole bytes of valid rows are skipped eight at a time.
        if ((r & 7) === 0 && i + 8 <= n && mask[r >> 3] === 0xff) {
          i += 7;
          continue;
        }
        if ((mask[r >> 3]! & (1 << (r & 7))) === 0) setNull(column, at + i);
      }
    }
  } else {
    fixedWidthCopies.fallback++;
    for (let i = 0; i < n; i++) {
      const v = vector.getItem(from + i);
      if (v === null) setNull(column, at + i);
      else data[at + i] = fromDuckDB(column.type, v) as never;
    }
  }
  // Platform timestamps are milliseconds (the Date values the rest of the
  // platform reads): sub-millisecond digits are dropped, as the value path does.
  if (column.type === "timestamp") {
    const micros = data as BigInt64Array;
    for (let i = at; i < at + n; i++) {
      const m = micros[i]!;
      const rest = m % 1000n;
      if (rest !== 0n) micros[i] = m - rest;
    }
  }
}

/** A fixed-width column being filled, chunk by chunk, up to its capacity. */
export interface FixedWidthBuilder {
  type: FixedWidthType;
  data: FixedWidthArray;
  validity?: Uint8Array;
}

function setNull(column: FixedWidthBuilder, row: number) {
  if (!column.validity) column.validity = new Uint8Array(Math.ceil(column.data.length / 8)).fill(0xff);
  column.validity[row >> 3]! &= ~(1 << (row & 7));
  column.data[row] = (column.type === "int64" || column.type === "timestamp" ? 0n : 0) as never;
}

function fromDuckDB(type: FixedWidthType, v: DuckDBValue): number | bigint {
  switch (type) {
    case "bool":
      return v ? 1 : 0;
    case "timestamp":
      return (v as DuckDBTimestampTZValue).micros;
    default:
      return v as number | bigint;
  }
}
