// The caller's batches, checked against what a feature view needs: every
// serving key per entity (typed, non-null) and every request parameter (the
// same row count as the entities, or one row for all). Problems are
// INVALID_ARGUMENT naming the column, all reported at once.
import { InvalidArgumentError, type FieldViolation } from "@fti/errors";
import type { RecordBatch } from "@fti/proto/fti/common/v1/record_batch_pb";
import { decodeRecordBatch } from "@fti/record-batch";
import { typeName, valueProblem, type ColumnBatch, type Row, type Value } from "@fti/schema";
import type { Column, Columns } from "@fti/transforms";

export interface EntityBatch {
  rowCount: number;
  /** One row of serving key values per entity. */
  keys: Row[];
  /** The same keys column-wise, in serving key order. */
  columns: Columns;
}

/** `decoded` is `batch` already decoded (the router looks at it first). */
export function decodeEntities(batch: RecordBatch | undefined, decoded: ColumnBatch | undefined, servingKeys: readonly Column[], field: string): EntityBatch {
  if (!batch || !decoded || batch.rowCount === 0) throw InvalidArgumentError.field(field, `at least one entity is required, with the serving keys ${servingKeys.map((k) => k.name).join(", ")}`);
  const violations: FieldViolation[] = [];
  const columns: Columns = {};
  for (const key of servingKeys) {
    const values = decoded.columns[key.name];
    if (!values) {
      violations.push({ field: `${field}.${key.name}`, description: `serving key column "${key.name}" (${typeName(key.type)}) is missing` });
      continue;
    }
    const bad = firstProblem(values, key.type, false);
    if (bad) violations.push({ field: `${field}.${key.name}`, description: `row ${bad.row}: ${bad.problem}` });
    columns[key.name] = values as Value[];
  }
  if (violations.length) throw new InvalidArgumentError(violations);
  const keys: Row[] = new Array(decoded.rowCount);
  for (let i = 0; i < decoded.rowCount; i++) {
    const row: Row = {};
    for (const key of servingKeys) row[key.name] = columns[key.name]![i]!;
    keys[i] = row;
  }
  return { rowCount: decoded.rowCount, keys, columns };
}

/** The request parameters as columns of `rowCount` values (a one-row batch is repeated). */
export function decodeRequestData(batch: RecordBatch | undefined, parameters: readonly Column[], rowCount: number, field: string): Columns {
  if (parameters.length === 0) return {};
  if (!batch) throw InvalidArgumentError.field(field, `the request parameters ${parameters.map((p) => p.name).join(", ")} are required`);
  const decoded = decodeRecordBatch(batch, field);
  const violations: FieldViolation[] = [];
  if (decoded.rowCount !== rowCount && decoded.rowCount !== 1) violations.push({ field: `${field}.row_count`, description: `has ${decoded.rowCount} rows; it needs ${rowCount} (one per entity) or 1 (for all)` });
  const columns: Columns = {};
  for (const p of parameters) {
    const values = decoded.columns[p.name];
    if (!values) {
      violations.push({ field: `${field}.${p.name}`, description: `request parameter "${p.name}" (${typeName(p.type)}) is missing` });
      continue;
    }
    const bad = firstProblem(values, p.type, true);
    if (bad) violations.push({ field: `${field}.${p.name}`, description: `row ${bad.row}: ${bad.problem}` });
    columns[p.name] = values.length === rowCount ? (values as Value[]) : new Array<Value>(rowCount).fill(values[0] ?? null);
  }
  if (violations.length) throw new InvalidArgumentError(violations);
  return columns;
}

function firstProblem(values: readonly Value[], type: Column["type"], nullable: boolean): { row: number; problem: string } | undefined {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === null) {
      if (!nullable) return { row: i, problem: "a key value is required" };
      continue;
    }
    const problem = valueProblem(type, v);
    if (problem) return { row: i, problem };
  }
  return undefined;
}
