// How feature values travel into and out of DuckDB. Scalar timestamps are
// staged as DOUBLE epoch milliseconds (exact below 2^53, and a plain number
// per value instead of two BigInts and an object), then written to Parquet as
// TIMESTAMPTZ, which DuckDB stores as microseconds with isAdjustedToUTC=true:
// Delta's "timestamp".
import { DuckDBTimestampValue, blobValue, listValue, type DuckDBValue } from "@duckdb/node-api";
import type { FeatureType, ScalarType, ScalarValue, Value } from "@fti/schema";

const sqlScalar: Record<ScalarType, string> = {
  bool: "BOOLEAN",
  int32: "INTEGER",
  int64: "BIGINT",
  float: "FLOAT",
  double: "DOUBLE",
  string: "VARCHAR",
  bytes: "BLOB",
  timestamp: "TIMESTAMP",
};

/** The column type of a staging table. */
export function stagingSqlType(type: FeatureType): string {
  if (type === "timestamp") return "DOUBLE";
  if (typeof type === "string") return sqlScalar[type];
  if ("array" in type) return `${sqlScalar[type.array]}[]`;
  return "FLOAT[]";
}

/** The DuckDB type of a column as the store's Parquet files hold it: timestamps are UTC-adjusted, read back as TIMESTAMPTZ. */
export function parquetSqlType(type: FeatureType): string {
  const scalar = (t: ScalarType) => (t === "timestamp" ? "TIMESTAMPTZ" : sqlScalar[t]);
  if (typeof type === "string") return scalar(type);
  if ("array" in type) return `${scalar(type.array)}[]`;
  return "FLOAT[]";
}

/** The expression that turns a staging column into its Parquet form (timestamps become UTC-adjusted). */
export function parquetExpression(name: string, type: FeatureType): string {
  const column = quoteIdent(name);
  if (type === "timestamp") return `${stagedTimestamp(column)} AS ${column}`;
  if (typeof type === "object" && "array" in type && type.array === "timestamp") return `${column}::TIMESTAMPTZ[] AS ${column}`;
  return column;
}

/** The TIMESTAMPTZ of a staged (epoch milliseconds) timestamp column expression. */
export function stagedTimestamp(expression: string): string {
  return `epoch_ms(CAST(${expression} AS BIGINT))::TIMESTAMPTZ`;
}

/**
 * A converter from a non-null feature value to what a DuckDB vector of the
 * staging type accepts; undefined when the value goes in as it is.
 */
export function toDuckDBValue(type: FeatureType): ((value: Value) => DuckDBValue) | undefined {
  if (type === "timestamp") return (value) => (value as Date).getTime();
  if (type === "bytes") return (value) => blobValue(value as Uint8Array);
  if (typeof type === "string") return undefined;
  if ("array" in type) {
    const element = scalarToDuckDB(type.array);
    return (value) => listValue((value as ScalarValue[]).map((v) => (v === null ? null : element(v))));
  }
  return (value) => listValue(Array.from(value as Float32Array));
}

function scalarToDuckDB(type: ScalarType): (value: ScalarValue) => DuckDBValue {
  switch (type) {
    case "timestamp":
      return (value) => new DuckDBTimestampValue(BigInt((value as Date).getTime()) * 1000n);
    case "bytes":
      return (value) => blobValue(value as Uint8Array);
    default:
      return (value) => value as DuckDBValue;
  }
}

/** A converter from what `getRowObjectsJS` returns to the feature's in-memory value. */
export function fromDuckDBJS(type: FeatureType): (value: unknown) => Value {
  if (typeof type === "object" && "embedding" in type) return (value) => (value === null ? null : Float32Array.from(value as number[]));
  return (value) => (value === undefined ? null : (value as Value));
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

export function parquetList(locations: readonly string[]): string {
  return `[${locations.map(quoteString).join(", ")}]`;
}
