// Per-file statistics in Delta's `stats` format, and file skipping with them.
// Min/max are collected for orderable scalars only (not bool, bytes, arrays),
// as Spark does; nullCount for every column.
import type { DuckDBConnection } from "@duckdb/node-api";
import type { FeatureGroupSchema, FeatureType, Row, Value } from "@fti/schema";
import { quoteIdent } from "./duckdb-types.js";

export interface FileStats {
  numRecords: number;
  minValues: Record<string, StatValue>;
  maxValues: Record<string, StatValue>;
  nullCount: Record<string, number>;
}

/** int64 → bigint, timestamp → epoch milliseconds, other numbers → number, string → string. */
export type StatValue = number | bigint | string;

/** Delta truncates string stats; a prefix is still a valid lower bound, a longer max is dropped. */
const maxStringStat = 32;

function hasMinMax(type: FeatureType): boolean {
  return typeof type === "string" && type !== "bool" && type !== "bytes";
}

/**
 * Computes stats of `source` in one aggregate query: a staging table
 * (`staged`, timestamps as epoch milliseconds) or `read_parquet(...)`.
 */
export async function collectStats(connection: DuckDBConnection, schema: FeatureGroupSchema, source: string, options: { staged?: boolean } = {}): Promise<FileStats> {
  const selects = ["count(*)"];
  for (const f of schema.features) {
    const c = quoteIdent(f.name);
    selects.push(`count(*) - count(${c})`);
    if (!hasMinMax(f.type)) continue;
    if (f.type === "timestamp" && !options.staged) selects.push(`epoch_ms(min(${c}))`, `epoch_ms(max(${c}))`);
    else selects.push(`min(${c})`, `max(${c})`);
  }
  const reader = await connection.runAndReadAll(`SELECT ${selects.join(", ")} FROM ${source}`);
  const row = reader.getRowsJS()[0]!;
  const stats: FileStats = { numRecords: Number(row[0]), minValues: {}, maxValues: {}, nullCount: {} };
  let i = 1;
  for (const f of schema.features) {
    stats.nullCount[f.name] = Number(row[i++]);
    if (!hasMinMax(f.type)) continue;
    const min = row[i++] as StatValue | null;
    const max = row[i++] as StatValue | null;
    if (min === null || max === null) continue; // all null
    if (typeof min === "number" && !Number.isFinite(min)) continue; // NaN/Infinity have no JSON form
    if (typeof max === "number" && !Number.isFinite(max)) continue;
    if (f.type === "timestamp") {
      stats.minValues[f.name] = Number(min);
      stats.maxValues[f.name] = Number(max);
    } else if (typeof min === "string" && typeof max === "string") {
      stats.minValues[f.name] = min.slice(0, maxStringStat);
      if ([...max].length <= maxStringStat) stats.maxValues[f.name] = max;
    } else {
      stats.minValues[f.name] = min;
      stats.maxValues[f.name] = max;
    }
  }
  return stats;
}

/** The `stats` JSON string of an add action. int64 values are written exactly; timestamps as ISO-8601 UTC. */
export function serializeStats(schema: FeatureGroupSchema, stats: FileStats): string {
  const marker = `__int64_${Math.random().toString(36).slice(2)}__`;
  const encode = (values: Record<string, StatValue>) => {
    const out: Record<string, unknown> = {};
    for (const f of schema.features) {
      const v = values[f.name];
      if (v === undefined) continue;
      if (f.type === "timestamp") out[f.name] = new Date(Number(v)).toISOString();
      else if (typeof v === "bigint") out[f.name] = `${marker}${v}`;
      else out[f.name] = v;
    }
    return out;
  };
  const json = JSON.stringify({ numRecords: stats.numRecords, minValues: encode(stats.minValues), maxValues: encode(stats.maxValues), nullCount: stats.nullCount });
  return json.replace(new RegExp(`"${marker}(-?\\d+)"`, "g"), "$1");
}

/**
 * Parses an add action's stats. JSON numbers lose precision past 2^53, so an
 * int64 bound that large is widened by the rounding error: skipping then stays
 * conservative (it may keep a file it could skip, never skips one it needs).
 */
export function parseStats(schema: FeatureGroupSchema, text: string | undefined): FileStats | undefined {
  if (!text) return undefined;
  const raw = JSON.parse(text) as { numRecords?: number; minValues?: Record<string, unknown>; maxValues?: Record<string, unknown>; nullCount?: Record<string, number> };
  const decode = (values: Record<string, unknown> | undefined, widen: -1 | 1) => {
    const out: Record<string, StatValue> = {};
    for (const f of schema.features) {
      const v = values?.[f.name];
      if (v === undefined || v === null) continue;
      if (f.type === "timestamp" && typeof v === "string") out[f.name] = Date.parse(v);
      else if (f.type === "int64" && typeof v === "number") {
        const exact = Number.isSafeInteger(v);
        out[f.name] = BigInt(Math.round(v)) + (exact ? 0n : BigInt(widen) * 4096n);
      } else if (typeof v === "number" || typeof v === "string") out[f.name] = v;
    }
    return out;
  };
  return {
    numRecords: raw.numRecords ?? 0,
    minValues: decode(raw.minValues, -1),
    maxValues: decode(raw.maxValues, 1),
    nullCount: raw.nullCount ?? {},
  };
}

function compare(a: StatValue, b: StatValue): number {
  if (typeof a === "string" && typeof b === "string") return Buffer.compare(Buffer.from(a), Buffer.from(b)); // UTF-8 byte order, as Parquet/DuckDB
  return a < b ? -1 : a > b ? 1 : 0;
}

function statValueOf(value: Value): StatValue | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "string") return value;
  return undefined;
}

/** Whether `value` may lie within the file's [min, max] of `column`; true when the stats cannot tell. */
function mayContain(stats: FileStats, column: string, value: Value): boolean {
  const v = statValueOf(value);
  if (v === undefined) return true;
  const min = stats.minValues[column];
  const max = stats.maxValues[column];
  if (min !== undefined && compare(v, min) < 0) return false;
  if (max !== undefined && compare(v, max) > 0) return false;
  return true;
}

/** False only when no key of `keys` can be in the file. */
export function mayContainAnyKey(schema: FeatureGroupSchema, stats: FileStats | undefined, keys: readonly Row[]): boolean {
  if (!stats) return true;
  return keys.some((key) => schema.primaryKey.every((column) => mayContain(stats, column, key[column] ?? null)));
}

/** An inclusive event-time range; either end may be open. */
export interface TimeRange {
  from?: Date;
  to?: Date;
}

/** False only when the file has no event time inside `range`. */
export function mayOverlapTime(schema: FeatureGroupSchema, stats: FileStats | undefined, range: TimeRange): boolean {
  if (!stats) return true;
  const min = stats.minValues[schema.eventTime];
  const max = stats.maxValues[schema.eventTime];
  if (range.to && min !== undefined && compare(range.to.getTime(), min) < 0) return false;
  if (range.from && max !== undefined && compare(range.from.getTime(), max) > 0) return false;
  return true;
}
