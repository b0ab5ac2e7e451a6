// SQL text helpers: quoting, the DuckDB type of each feature type as stored in
// the offline store's Parquet files, and literals.
import type { FeatureType, ScalarType } from "@fti/schema";

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Local paths of file URIs, as DuckDB's read_parquet wants them. */
export function localPath(uri: string): string {
  return uri.startsWith("file://") ? decodeURIComponent(new URL(uri).pathname) : uri;
}

export function parquetList(locations: readonly string[]): string {
  return `[${locations.map((l) => quoteString(localPath(l))).join(", ")}]`;
}

const scalarSql: Record<ScalarType, string> = {
  bool: "BOOLEAN",
  int32: "INTEGER",
  int64: "BIGINT",
  float: "FLOAT",
  double: "DOUBLE",
  string: "VARCHAR",
  bytes: "BLOB",
  // The offline store writes UTC-adjusted Parquet timestamps, which DuckDB reads as TIMESTAMPTZ.
  timestamp: "TIMESTAMPTZ",
};

export function sqlType(type: FeatureType): string {
  if (typeof type === "string") return scalarSql[type];
  if ("array" in type) return `${scalarSql[type.array]}[]`;
  return "FLOAT[]";
}

export function timestampLiteral(ms: number): string {
  return `make_timestamptz(${Math.round(ms * 1000)}::BIGINT)`;
}

/** An interval of whole microseconds (TTLs may be fractional seconds). */
export function secondsInterval(seconds: number): string {
  return `to_microseconds(${Math.round(seconds * 1e6)}::BIGINT)`;
}
