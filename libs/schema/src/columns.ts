// Batches of feature data: rows, or columns (what ingestion and queries hand
// around, 100k rows at a time, without building an object per row). Validation
// is column-wise so a large batch costs one tight loop per feature.
import { InvalidArgumentError, type FieldViolation } from "@fti/errors";
import { rowViolations, valueProblem, type Feature, type FeatureGroupSchema, type Row, type Value } from "./index.js";
import { rowBuilder } from "./row-builder.js";

export interface ColumnBatch {
  rowCount: number;
  /** One array per feature, each `rowCount` long. A missing feature is all null. */
  columns: Record<string, readonly Value[]>;
}

export type FeatureBatch = readonly Row[] | ColumnBatch;

function isColumnBatch(batch: FeatureBatch): batch is ColumnBatch {
  return !Array.isArray(batch);
}

/**
 * Validates a batch and returns it column-wise. Throws InvalidArgumentError
 * naming every bad row and column (paths `rows[i].column`) before anything is written.
 */
export function validatedColumns(schema: FeatureGroupSchema, batch: FeatureBatch): ColumnBatch {
  if (!isColumnBatch(batch)) {
    const violations = rowViolations(schema, batch);
    if (violations.length) throw new InvalidArgumentError(violations);
    return rowsToColumns(schema, batch);
  }
  const violations = columnViolations(schema, batch);
  if (violations.length) throw new InvalidArgumentError(violations);
  return batch;
}

/** Rows as columns, one per schema feature (missing values become null). */
export function rowsToColumns(schema: FeatureGroupSchema, rows: readonly Row[]): ColumnBatch {
  const columns: Record<string, Value[]> = {};
  for (const f of schema.features) {
    const column = new Array<Value>(rows.length);
    for (let i = 0; i < rows.length; i++) column[i] = rows[i]![f.name] ?? null;
    columns[f.name] = column;
  }
  return { rowCount: rows.length, columns };
}

/** The same rules as `rowViolations` in @fti/schema, checked a column at a time. */
export function columnViolations(schema: FeatureGroupSchema, batch: ColumnBatch, limit = 20): FieldViolation[] {
  const v: FieldViolation[] = [];
  if (!Number.isInteger(batch.rowCount) || batch.rowCount < 0) return [{ field: "row_count", description: "must be a non-negative integer" }];
  const byName = new Map(schema.features.map((f) => [f.name, f]));
  for (const [name, column] of Object.entries(batch.columns)) {
    if (!byName.has(name)) v.push({ field: `columns.${name}`, description: `"${name}" is not a feature of the schema` });
    else if (column.length !== batch.rowCount) v.push({ field: `columns.${name}`, description: `has ${column.length} values; the batch has ${batch.rowCount} rows` });
  }
  if (v.length) return v;
  const required = new Set([...schema.primaryKey, schema.eventTime]);
  for (const f of schema.features) {
    const column = batch.columns[f.name];
    const mandatory = required.has(f.name) || f.nullable === false;
    if (!column) {
      if (mandatory && batch.rowCount > 0) v.push({ field: `rows[0].${f.name}`, description: missingValue(schema, f, required) });
      continue;
    }
    const ok = fastCheck(f);
    for (let i = 0; i < column.length && v.length < limit; i++) {
      const value = column[i];
      if (value === null || value === undefined) {
        if (mandatory) v.push({ field: `rows[${i}].${f.name}`, description: missingValue(schema, f, required) });
        continue;
      }
      if (ok(value)) continue;
      if (required.has(f.name) && typeof value === "number" && Number.isNaN(value)) {
        v.push({ field: `rows[${i}].${f.name}`, description: "NaN is not allowed in a key or event time" });
        continue;
      }
      const problem = valueProblem(f.type, value);
      if (problem) v.push({ field: `rows[${i}].${f.name}`, description: problem });
    }
    if (v.length >= limit) break;
  }
  return v;
}

function missingValue(schema: FeatureGroupSchema, f: Feature, required: Set<string>): string {
  if (f.name === schema.eventTime) return "event time is required";
  if (required.has(f.name)) return "primary key value is required";
  return "value is required (feature is not nullable)";
}

const minInt64 = -(2n ** 63n);
const maxInt64 = 2n ** 63n - 1n;

/** A cheap test that accepts most valid values; anything it rejects gets the exact check. */
function fastCheck(f: Feature): (value: Value) => boolean {
  switch (f.type) {
    case "float":
    case "double":
      return (value) => typeof value === "number";
    case "int32":
      return (value) => typeof value === "number" && (value | 0) === value;
    case "int64":
      return (value) => typeof value === "bigint" && value >= minInt64 && value <= maxInt64;
    case "timestamp":
      return (value) => value instanceof Date && value.getTime() === value.getTime();
    case "string":
      return (value) => typeof value === "string";
    case "bool":
      return (value) => typeof value === "boolean";
    default:
      return () => false;
  }
}

/** Columns as rows (for small batches and tests; large batches stay columnar). */
export function columnsToRows(batch: ColumnBatch): Row[] {
  const names = Object.keys(batch.columns);
  const columns = names.map((name) => batch.columns[name]!);
  const build = rowBuilder(names);
  const values = new Array<Value>(names.length);
  const rows: Row[] = new Array(batch.rowCount);
  for (let i = 0; i < batch.rowCount; i++) {
    for (let j = 0; j < columns.length; j++) values[j] = columns[j]![i] ?? null;
    rows[i] = build(values);
  }
  return rows;
}
