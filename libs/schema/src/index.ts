// Feature group schemas as the storage engines and services see them in
// TypeScript, the in-memory value of each feature type, and row validation.
// The wire form (fti.common.v1) maps onto these one to one.
import { InvalidArgumentError, type FieldViolation } from "@fti/errors";

export const scalarTypes = ["bool", "int32", "int64", "float", "double", "string", "bytes", "timestamp"] as const;
export type ScalarType = (typeof scalarTypes)[number];

/** A scalar, an array of a scalar, or a fixed-size float32 embedding. */
export type FeatureType = ScalarType | { array: ScalarType } | { embedding: number };

export interface Feature {
  name: string;
  type: FeatureType;
  /** Primary key and event-time columns are never nullable. Default true otherwise. */
  nullable?: boolean;
}

export interface FeatureGroupSchema {
  features: Feature[];
  /** Entity key columns, in order. Each must be a scalar feature other than bytes/float/double. */
  primaryKey: string[];
  /** The timestamp feature that orders versions of an entity's values. */
  eventTime: string;
  /** Values older than this are EXPIRED online and out of reach of point-in-time joins. */
  ttlSeconds?: number;
}

/**
 * In-memory values: bool → boolean; int32, float, double → number; int64 →
 * bigint; string → string; bytes → Uint8Array; timestamp → Date (millisecond
 * precision platform-wide); array → an array of the element's value;
 * embedding → Float32Array of the declared dimension. A missing value is null.
 */
export type ScalarValue = boolean | number | bigint | string | Uint8Array | Date;
export type Value = ScalarValue | ScalarValue[] | Float32Array | null;
export type Row = Record<string, Value>;

export function typeName(type: FeatureType): string {
  if (typeof type === "string") return type;
  if ("array" in type) return `array<${type.array}>`;
  return `embedding<${type.embedding}>`;
}

const keyTypes: ReadonlySet<string> = new Set(["bool", "int32", "int64", "string", "timestamp"]);

/** Checks a schema itself; returns violations with paths under `prefix`. */
export function schemaViolations(schema: FeatureGroupSchema, prefix = "schema"): FieldViolation[] {
  const v: FieldViolation[] = [];
  if (schema.features.length === 0) v.push({ field: `${prefix}.features`, description: "a schema needs at least one feature" });
  const seen = new Map<string, Feature>();
  schema.features.forEach((f, i) => {
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(f.name)) v.push({ field: `${prefix}.features[${i}].name`, description: `"${f.name}" must start with a lowercase letter and hold only lowercase letters, digits and _ (at most 63)` });
    if (seen.has(f.name)) v.push({ field: `${prefix}.features[${i}].name`, description: `duplicate feature name "${f.name}"` });
    seen.set(f.name, f);
    const t = f.type;
    if (typeof t === "string" ? !scalarTypes.includes(t) : "array" in t ? !scalarTypes.includes(t.array) : !(Number.isInteger(t.embedding) && t.embedding > 0 && t.embedding <= 65536))
      v.push({ field: `${prefix}.features[${i}].type`, description: `unknown or invalid type ${JSON.stringify(t)}` });
  });
  if (schema.primaryKey.length === 0) v.push({ field: `${prefix}.primary_key`, description: "at least one primary key column is required" });
  schema.primaryKey.forEach((k, i) => {
    const f = seen.get(k);
    if (!f) v.push({ field: `${prefix}.primary_key[${i}]`, description: `"${k}" is not a feature of the schema` });
    else if (typeof f.type !== "string" || !keyTypes.has(f.type)) v.push({ field: `${prefix}.primary_key[${i}]`, description: `"${k}" has type ${typeName(f.type)}; keys must be one of ${[...keyTypes].join(", ")}` });
  });
  const et = seen.get(schema.eventTime);
  if (!et) v.push({ field: `${prefix}.event_time`, description: `"${schema.eventTime}" is not a feature of the schema` });
  else if (et.type !== "timestamp") v.push({ field: `${prefix}.event_time`, description: `"${schema.eventTime}" must be a timestamp, not ${typeName(et.type)}` });
  if (schema.ttlSeconds !== undefined && !(Number.isInteger(schema.ttlSeconds) && schema.ttlSeconds > 0)) v.push({ field: `${prefix}.ttl`, description: "TTL must be a positive number of seconds" });
  return v;
}

/** Why `value` is not a valid `type`, or undefined when it is. */
export function valueProblem(type: FeatureType, value: Value): string | undefined {
  if (typeof type === "string") return scalarProblem(type, value);
  if ("array" in type) {
    if (!Array.isArray(value)) return `expected array<${type.array}>`;
    for (let i = 0; i < value.length; i++) {
      const p = scalarProblem(type.array, value[i]!);
      if (p) return `element ${i}: ${p}`;
    }
    return undefined;
  }
  if (!(value instanceof Float32Array)) return `expected embedding<${type.embedding}> as a Float32Array`;
  if (value.length !== type.embedding) return `expected ${type.embedding} dimensions, got ${value.length}`;
  return undefined;
}

function scalarProblem(type: ScalarType, value: Value): string | undefined {
  switch (type) {
    case "bool":
      return typeof value === "boolean" ? undefined : "expected bool";
    case "int32":
      return typeof value === "number" && Number.isInteger(value) && value >= -2147483648 && value <= 2147483647 ? undefined : "expected int32";
    case "int64":
      return typeof value === "bigint" && value >= -(2n ** 63n) && value < 2n ** 63n ? undefined : "expected int64 (bigint)";
    case "float":
    case "double":
      return typeof value === "number" ? undefined : `expected ${type}`;
    case "string":
      return typeof value === "string" ? undefined : "expected string";
    case "bytes":
      return value instanceof Uint8Array && !(value instanceof Float32Array) ? undefined : "expected bytes (Uint8Array)";
    case "timestamp":
      return value instanceof Date && !Number.isNaN(value.getTime()) ? undefined : "expected timestamp (valid Date)";
  }
}

/**
 * Every problem in a batch of rows: unknown columns, wrong types, missing or NaN
 * keys and event times, nulls in non-nullable features. Paths are `rows[i].column`.
 * Stops after `limit` problems so a huge bad batch stays cheap to report.
 */
export function rowViolations(schema: FeatureGroupSchema, rows: readonly Row[], limit = 20): FieldViolation[] {
  const v: FieldViolation[] = [];
  const byName = new Map(schema.features.map((f) => [f.name, f]));
  const required = new Set([...schema.primaryKey, schema.eventTime]);
  for (let i = 0; i < rows.length && v.length < limit; i++) {
    const row = rows[i]!;
    for (const column of Object.keys(row)) {
      if (!byName.has(column)) v.push({ field: `rows[${i}].${column}`, description: `"${column}" is not a feature of the schema` });
    }
    for (const f of schema.features) {
      const value = row[f.name];
      if (value === undefined || value === null) {
        if (required.has(f.name)) v.push({ field: `rows[${i}].${f.name}`, description: f.name === schema.eventTime ? "event time is required" : "primary key value is required" });
        else if (f.nullable === false) v.push({ field: `rows[${i}].${f.name}`, description: "value is required (feature is not nullable)" });
        continue;
      }
      if (required.has(f.name) && typeof value === "number" && Number.isNaN(value)) {
        v.push({ field: `rows[${i}].${f.name}`, description: "NaN is not allowed in a key or event time" });
        continue;
      }
      const problem = valueProblem(f.type, value);
      if (problem) v.push({ field: `rows[${i}].${f.name}`, description: problem });
    }
  }
  return v;
}

/** Throws InvalidArgumentError naming row and column when any row is invalid. */
export function assertValidRows(schema: FeatureGroupSchema, rows: readonly Row[]): void {
  const v = rowViolations(schema, rows);
  if (v.length) throw new InvalidArgumentError(v);
}

/** The entity key of a row as a stable string, for maps and de-duplication. */
export function entityKey(schema: FeatureGroupSchema, row: Row): string {
  const keys = schema.primaryKey;
  // One key column (the usual case, and every online read's hot path): the
  // same string as the general form, without the array.
  if (keys.length === 1) return `[${JSON.stringify(keyPart(row[keys[0]!] ?? null))}]`;
  return JSON.stringify(keys.map((k) => keyPart(row[k] ?? null)));
}

function keyPart(value: Value): string | number | boolean | null {
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Date) return `t${value.getTime()}`;
  return value as string | number | boolean | null;
}

export { columnViolations, columnsToRows, rowsToColumns, validatedColumns, type ColumnBatch, type FeatureBatch } from "./columns.js";
export { rowBuilder, type RowBuilder } from "./row-builder.js";
