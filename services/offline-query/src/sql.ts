// SQL text helpers: quoting, the DuckDB type of each feature type as stored in
// the offline store's Parquet files, and literals.
import { parquetSqlType } from "@fti/offline-store";

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

/** The DuckDB type of each feature type as stored in the offline store's Parquet files. */
export const sqlType = parquetSqlType;

export function timestampLiteral(ms: number): string {
  return `make_timestamptz(${Math.round(ms * 1000)}::BIGINT)`;
}

/** An interval of whole microseconds (TTLs may be fractional seconds). */
export function secondsInterval(seconds: number): string {
  return `to_microseconds(${Math.round(seconds * 1e6)}::BIGINT)`;
}
