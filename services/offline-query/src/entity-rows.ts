// Entity (label) rows sent by callers: their column types read off the wire,
// checked against the view (serving keys and event time present, typed right,
// never null; no clash with the view's output columns), and staged in a DuckDB
// temp table, which spills to disk when larger than memory.
import { randomUUID } from "node:crypto";
import { DuckDBDataChunk, DuckDBTimestampTZValue, blobValue, listValue, type DuckDBConnection, type DuckDBValue } from "@duckdb/node-api";
import { InvalidArgumentError, type FieldViolation } from "@fti/errors";
import type { Column as WireColumn, RecordBatch } from "@fti/proto/fti/common/v1/record_batch_pb";
import { decodeRecordBatch } from "@fti/record-batch";
import { typeName, type ColumnBatch, type FeatureType, type ScalarType, type Value } from "@fti/schema";
import type { Column } from "@fti/transforms";
import { join } from "node:path";
import { parquetList, quoteIdent, sqlType } from "./sql.js";

const scalarOfCase: Partial<Record<NonNullable<WireColumn["data"]["case"]>, ScalarType>> = {
  boolValues: "bool",
  int32Values: "int32",
  int64Values: "int64",
  floatValues: "float",
  doubleValues: "double",
  stringValues: "string",
  bytesValues: "bytes",
  timestampValues: "timestamp",
};

/** The feature type a wire column carries, or undefined when it has no data kind. */
export function wireColumnType(column: WireColumn): FeatureType | undefined {
  const data = column.data;
  if (data.case === "listValues") {
    const element = data.value.elements ? scalarOfCase[data.value.elements.data.case!] : undefined;
    return element && { array: element };
  }
  if (data.case === "embeddingValues") return { embedding: data.value.dimension };
  return data.case ? scalarOfCase[data.case] : undefined;
}

export interface EntityRowsSpec {
  /** The root group's primary key: required, typed like the group's columns. */
  servingKeys: readonly Column[];
  eventTime: string;
  /** Rows without an event time read as of this time; unset: the event time is required. */
  defaultTimeMs?: number;
  /** Names the entity rows may not use (the view's output columns). */
  reserved: ReadonlySet<string>;
  field: string;
}

export interface DecodedEntityRows {
  columns: Column[];
  batch: ColumnBatch;
}

/** Decodes and checks one batch of entity rows; `expected` are the columns of an earlier part of the same stream. */
export function decodeEntityRows(batch: RecordBatch, spec: EntityRowsSpec, expected?: readonly Column[]): DecodedEntityRows {
  const { field } = spec;
  const decoded = decodeRecordBatch(batch, field);
  const violations: FieldViolation[] = [];
  const columns: Column[] = batch.columns.map((c, i) => {
    const type = wireColumnType(c);
    if (!type) violations.push({ field: `${field}.columns[${i}]`, description: `column "${c.name}" has no values of a known type` });
    if (spec.reserved.has(c.name)) violations.push({ field: `${field}.columns[${i}].name`, description: `"${c.name}" is an output column of the feature view; rename it` });
    if (c.name.startsWith("__")) violations.push({ field: `${field}.columns[${i}].name`, description: "names starting with __ are reserved" });
    return { name: c.name, type: type ?? "string" };
  });
  const byName = new Map(columns.map((c, i) => [c.name, { column: c, index: i }]));
  const required = [...spec.servingKeys, { name: spec.eventTime, type: "timestamp" as FeatureType }];
  for (const want of required) {
    const got = byName.get(want.name);
    const isTime = want.name === spec.eventTime;
    if (!got) {
      if (isTime && spec.defaultTimeMs !== undefined) continue;
      violations.push({ field, description: `missing ${isTime ? "event-time" : "serving key"} column "${want.name}"` });
      continue;
    }
    if (typeName(got.column.type) !== typeName(want.type))
      violations.push({ field: `${field}.columns[${got.index}]`, description: `"${want.name}" must be ${typeName(want.type)}, not ${typeName(got.column.type)}` });
    if (isTime && spec.defaultTimeMs !== undefined) continue;
    const values = decoded.columns[want.name] ?? [];
    const missing = values.findIndex((v) => v === null || v === undefined);
    if (missing >= 0) violations.push({ field: `${field}.columns[${got.index}]`, description: `"${want.name}" is null in row ${missing}; every entity row needs its ${isTime ? "event time" : "keys"}` });
  }
  if (expected) {
    const same = expected.length === columns.length && expected.every((c, i) => c.name === columns[i]!.name && typeName(c.type) === typeName(columns[i]!.type));
    if (!same) violations.push({ field, description: `every part of the entity rows needs the same columns as the first (${expected.map((c) => `${c.name} ${typeName(c.type)}`).join(", ")})` });
  }
  if (violations.length) throw new InvalidArgumentError(violations);

  // Rows without an event time read as of the default time.
  if (spec.defaultTimeMs !== undefined) {
    const when = new Date(spec.defaultTimeMs);
    const times = decoded.columns[spec.eventTime];
    if (!times) {
      decoded.columns[spec.eventTime] = new Array(decoded.rowCount).fill(when);
      columns.push({ name: spec.eventTime, type: "timestamp" });
    } else decoded.columns[spec.eventTime] = times.map((t) => t ?? when);
  }
  return { columns, batch: decoded };
}

/** A temp table for entity rows of these columns; returns its quoted name. */
export async function createEntityTable(connection: DuckDBConnection, columns: readonly Column[]): Promise<string> {
  const name = `entities_${randomUUID().replaceAll("-", "")}`;
  await connection.run(`CREATE TEMP TABLE ${quoteIdent(name)} (${columns.map((c) => `${quoteIdent(c.name)} ${sqlType(c.type)}`).join(", ")})`);
  return name;
}

const chunkRows = 2048;

/** Appends a decoded batch to an entity table. */
export async function appendEntityRows(connection: DuckDBConnection, table: string, columns: readonly Column[], batch: ColumnBatch): Promise<void> {
  const appender = await connection.createAppender(table);
  try {
    const types = columns.map((_, i) => appender.columnType(i));
    const convert = columns.map((c) => toDuckDB(c.type));
    for (let start = 0; start < batch.rowCount; start += chunkRows) {
      const n = Math.min(chunkRows, batch.rowCount - start);
      const chunk = DuckDBDataChunk.create(types, n);
      columns.forEach((c, i) => {
        const vector = chunk.getColumnVector(i);
        const values = batch.columns[c.name]!;
        const toValue = convert[i]!;
        for (let r = 0; r < n; r++) {
          const v = values[start + r];
          vector.setItem(r, v === null || v === undefined ? null : toValue(v));
        }
        vector.flush();
      });
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

function scalarToDuckDB(type: ScalarType): (v: Value) => DuckDBValue {
  if (type === "timestamp") return (v) => new DuckDBTimestampTZValue(BigInt((v as Date).getTime()) * 1000n);
  if (type === "bytes") return (v) => blobValue(v as Uint8Array);
  return (v) => v as DuckDBValue;
}

function toDuckDB(type: FeatureType): (v: Value) => DuckDBValue {
  if (typeof type === "string") return scalarToDuckDB(type);
  if ("array" in type) {
    const element = scalarToDuckDB(type.array);
    return (v) => listValue((v as Value[]).map(element));
  }
  return (v) => listValue(Array.from(v as Float32Array));
}

/** Entity rows in a Parquet file (or a directory of them), typed from the file's schema. */
export async function parquetEntitySource(connection: DuckDBConnection, path: string, eventTime: string, field: string): Promise<{ kind: "rows"; relation: string; columns: Column[]; eventTime: string }> {
  const relation = `read_parquet(${parquetList([path.endsWith(".parquet") ? path : join(path, "*.parquet")])})`;
  const described = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`)).getRowObjectsJS();
  const columns = described.map((d) => ({ name: String(d.column_name), type: featureTypeOfSql(String(d.column_type), field) }));
  if (!columns.some((c) => c.name === eventTime)) throw InvalidArgumentError.field(field, `the entity rows have no event-time column "${eventTime}"`);
  return { kind: "rows", relation, columns, eventTime };
}

const sqlScalars: Record<string, FeatureType> = {
  BOOLEAN: "bool",
  INTEGER: "int32",
  BIGINT: "int64",
  FLOAT: "float",
  DOUBLE: "double",
  VARCHAR: "string",
  BLOB: "bytes",
  "TIMESTAMP WITH TIME ZONE": "timestamp",
  TIMESTAMP: "timestamp",
};

function featureTypeOfSql(type: string, field: string): FeatureType {
  if (type.endsWith("[]")) {
    const element = sqlScalars[type.slice(0, -2)];
    if (typeof element === "string") return { array: element } as FeatureType;
  }
  const scalar = sqlScalars[type];
  if (!scalar) throw InvalidArgumentError.field(field, `column type ${type} is not supported`);
  return scalar;
}

