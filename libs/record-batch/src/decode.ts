// Wire RecordBatch → in-memory columns (@fti/schema values). The generated
// decoder is fast enough (tens of millions of values a second); this turns its
// arrays into per-row values with nulls from the validity bitmap.
import { ColumnSchema, type Column, type RecordBatch } from "@fti/proto/fti/common/v1/record_batch_pb";
import { InvalidArgumentError, type FieldViolation } from "@fti/errors";
import type { ColumnBatch, ScalarValue, Value } from "@fti/schema";

/**
 * Decodes every column. Shape errors (wrong lengths, bad offsets, duplicate
 * names) are INVALID_ARGUMENT naming `${field}.columns[i]`; types are checked
 * against a schema later, by the caller.
 */
export function decodeRecordBatch(batch: RecordBatch, field = "rows"): ColumnBatch {
  const rowCount = batch.rowCount;
  const columns: Record<string, Value[]> = {};
  const violations: FieldViolation[] = [];
  const seen = new Set<string>();
  batch.columns.forEach((column, i) => {
    const path = `${field}.columns[${i}]`;
    if (!column.name) violations.push({ field: `${path}.name`, description: "a column name is required" });
    else if (seen.has(column.name)) violations.push({ field: `${path}.name`, description: `duplicate column "${column.name}"` });
    seen.add(column.name);
    try {
      const values = decodeValues(column, rowCount, path);
      applyValidity(values, column.validity, rowCount, path);
      columns[column.name] = values;
    } catch (err) {
      if (err instanceof InvalidArgumentError) violations.push(...err.violations);
      else throw err;
    }
  });
  if (violations.length) throw new InvalidArgumentError(violations);
  return { rowCount, columns };
}

/** `field` is the column's field holding the values (its path is built only for the error). */
function expectLength(actual: number, expected: number, path: string, field: string) {
  if (actual !== expected) throw InvalidArgumentError.field(`${path}.${field}`, `has ${actual} values; the batch has ${expected} rows`);
}

function decodeValues(column: Column, rowCount: number, path: string): Value[] {
  const data = column.data;
  switch (data.case) {
    case "boolValues":
    case "int32Values":
    case "floatValues":
    case "doubleValues":
    case "stringValues":
    case "bytesValues":
    case "int64Values": {
      const values = data.value.values as Value[];
      expectLength(values.length, rowCount, path, ColumnSchema.field[data.case]!.name);
      return values.slice();
    }
    case "timestampValues": {
      const micros = data.value.micros;
      expectLength(micros.length, rowCount, path, "timestamp_values");
      // The platform keeps event times to the millisecond: sub-millisecond digits are dropped.
      return micros.map((m) => new Date(Number(m / 1000n)));
    }
    case "embeddingValues": {
      const { dimension, values } = data.value;
      if (dimension < 1) throw InvalidArgumentError.field(`${path}.embedding_values.dimension`, "must be at least 1");
      expectLength(values.length, rowCount * dimension, path, "embedding_values.values");
      const flat = Float32Array.from(values);
      const out: Value[] = new Array(rowCount);
      for (let i = 0; i < rowCount; i++) out[i] = flat.slice(i * dimension, (i + 1) * dimension);
      return out;
    }
    case "listValues": {
      const { offsets, elements } = data.value;
      if (offsets.length !== rowCount + 1) throw InvalidArgumentError.field(`${path}.list_values.offsets`, `needs row_count + 1 = ${rowCount + 1} offsets, got ${offsets.length}`);
      if (!elements) throw InvalidArgumentError.field(`${path}.list_values.elements`, "is required");
      const total = offsets[rowCount]!;
      const flat = decodeValues(elements, total, `${path}.list_values.elements`) as ScalarValue[];
      const out: Value[] = new Array(rowCount);
      for (let i = 0; i < rowCount; i++) {
        const start = offsets[i]!;
        const end = offsets[i + 1]!;
        if (end < start || end > total) throw InvalidArgumentError.field(`${path}.list_values.offsets[${i + 1}]`, "offsets must not decrease or pass the elements");
        out[i] = flat.slice(start, end);
      }
      return out;
    }
    default:
      if (rowCount === 0) return [];
      throw InvalidArgumentError.field(path, "the column has no values");
  }
}

function applyValidity(values: Value[], validity: Uint8Array, rowCount: number, path: string) {
  if (validity.length === 0) return;
  const expected = Math.ceil(rowCount / 8);
  if (validity.length !== expected) throw InvalidArgumentError.field(`${path}.validity`, `must be ${expected} bytes (one bit per row), got ${validity.length}`);
  for (let i = 0; i < rowCount; i++) if ((validity[i >> 3]! & (1 << (i & 7))) === 0) values[i] = null;
}
