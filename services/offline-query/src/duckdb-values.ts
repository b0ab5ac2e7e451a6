// DuckDB result vectors → the in-memory values of @fti/schema, one converter
// per feature type, chosen once per column rather than per value.
import type { DuckDBBlobValue, DuckDBDataChunk, DuckDBListValue, DuckDBTimestampTZValue, DuckDBValue } from "@duckdb/node-api";
import type { FeatureType, ScalarType, ScalarValue, Value } from "@fti/schema";

type Convert = (value: DuckDBValue) => Value;

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

/** One array of values per column of a chunk, nulls as null. */
export function chunkColumns(chunk: DuckDBDataChunk, converters: readonly Convert[]): Value[][] {
  const rowCount = chunk.rowCount;
  const out: Value[][] = [];
  for (let c = 0; c < converters.length; c++) {
    const vector = chunk.getColumnVector(c);
    const convert = converters[c]!;
    const values: Value[] = new Array(rowCount);
    for (let i = 0; i < rowCount; i++) {
      const v = vector.getItem(i);
      values[i] = v === null ? null : convert(v);
    }
    out.push(values);
  }
  return out;
}
