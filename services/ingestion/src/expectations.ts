// A feature group's expectations (data validation rules) checked on a batch:
// one result per expectation, in the group's order, with failing row counts
// and up to 10 sample rows, as a ValidationReport.
import { create } from "@bufbuild/protobuf";
import type { RecordBatch } from "@fti/proto/fti/common/v1/record_batch_pb";
import type { Value as ValueMessage } from "@fti/proto/fti/common/v1/types_pb";
import { ValidationReportSchema, type ExpectationResult, type ValidationReport } from "@fti/proto/fti/ingestion/v1/ingestion_pb";
import type { Expectation, ExpectationPolicy } from "@fti/proto/fti/registry/v1/feature_group_pb";
import { recordBatchMessage } from "@fti/record-batch";
import type { ColumnBatch, FeatureGroupSchema, Value } from "@fti/schema";

const sampleLimit = 10;

interface Outcome {
  failing: number[];
  failingCount: number;
  observed?: number;
  message: string;
}

/** Checks every expectation on the whole batch (an IngestStream's parts are joined first, so indices count across parts). */
export function checkExpectations(
  group: { expectations: readonly Expectation[]; policy: ExpectationPolicy; schema: FeatureGroupSchema },
  batch: ColumnBatch,
): ValidationReport {
  const results = group.expectations.map((e) => resultOf(e, evaluate(e, group.schema, batch), group.schema, batch));
  return create(ValidationReportSchema, { policy: group.policy, success: results.every((r) => r.success), rowCount: BigInt(batch.rowCount), results });
}

function resultOf(e: Expectation, outcome: Outcome, schema: FeatureGroupSchema, batch: ColumnBatch): ExpectationResult {
  const success = outcome.failingCount === 0 && !outcome.message;
  const sample = outcome.failing.slice(0, sampleLimit);
  return {
    $typeName: "fti.ingestion.v1.ExpectationResult",
    expectation: e.name,
    feature: e.feature,
    success,
    failingRowCount: BigInt(outcome.failingCount),
    observedValue: outcome.observed,
    message: success ? "" : outcome.message || `${outcome.failingCount} of ${batch.rowCount} rows fail`,
    sampleRowIndices: sample.map(BigInt),
    sampleRows: sample.length ? sampleRows(schema, batch, sample) : undefined,
  };
}

function evaluate(e: Expectation, schema: FeatureGroupSchema, batch: ColumnBatch): Outcome {
  const column = batch.columns[e.feature];
  const values = (i: number): Value => (column ? (column[i] ?? null) : null);
  const rowsWhere = (fails: (v: Value, i: number) => boolean): Outcome => {
    const failing: number[] = [];
    let failingCount = 0;
    for (let i = 0; i < batch.rowCount; i++) {
      if (!fails(values(i), i)) continue;
      failingCount++;
      if (failing.length < sampleLimit) failing.push(i);
    }
    return { failing, failingCount, message: "" };
  };
  const kind = e.kind;
  switch (kind.case) {
    case "notNull":
      return withMessage(rowsWhere((v) => v === null), (n) => `${n} of ${batch.rowCount} rows have no value for ${e.feature}`);
    case "range": {
      const { min, max } = kind.value;
      return withMessage(
        rowsWhere((v) => {
          const x = numeric(v);
          return x !== undefined && !((min === undefined || x >= min) && (max === undefined || x <= max));
        }),
        (n) => `${n} of ${batch.rowCount} rows have ${e.feature} outside [${min ?? "-inf"}, ${max ?? "+inf"}]`,
      );
    }
    case "allowedValues": {
      const allowed = new Set(kind.value.values.map(allowedKey));
      return withMessage(rowsWhere((v) => v !== null && !allowed.has(valueKey(v))), (n) => `${n} of ${batch.rowCount} rows have a value of ${e.feature} that is not allowed`);
    }
    case "regex": {
      const pattern = new RegExp(`^(?:${kind.value.pattern})$`);
      return withMessage(rowsWhere((v) => typeof v === "string" && !pattern.test(v)), (n) => `${n} of ${batch.rowCount} rows have ${e.feature} not matching /${kind.value.pattern}/`);
    }
    case "uniqueKey": {
      const columns = kind.value.columns.length ? kind.value.columns : [...schema.primaryKey, schema.eventTime];
      const seen = new Set<string>();
      const keyOf = (i: number) => JSON.stringify(columns.map((c) => valueKey(batch.columns[c]?.[i] ?? null)));
      return withMessage(
        rowsWhere((_, i) => {
          const key = keyOf(i);
          if (seen.has(key)) return true;
          seen.add(key);
          return false;
        }),
        (n) => `${n} rows repeat a (${columns.join(", ")}) of an earlier row`,
      );
    }
    case "meanBetween":
    case "stddevBetween": {
      const { min, max } = kind.value;
      const observed = kind.case === "meanBetween" ? moments(batch.rowCount, values).mean : moments(batch.rowCount, values).stddev;
      if (observed === undefined) return { failing: [], failingCount: 0, message: "" };
      const ok = (min === undefined || observed >= min) && (max === undefined || observed <= max);
      const what = kind.case === "meanBetween" ? "mean" : "standard deviation";
      return { failing: [], failingCount: 0, observed, message: ok ? "" : `the batch ${what} of ${e.feature} is ${observed}, outside [${min ?? "-inf"}, ${max ?? "+inf"}]` };
    }
    default:
      return { failing: [], failingCount: 0, message: "" };
  }
}

function withMessage(outcome: Outcome, message: (failing: number) => string): Outcome {
  return outcome.failingCount ? { ...outcome, message: message(outcome.failingCount) } : outcome;
}

function numeric(v: Value): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return undefined;
}

/** Mean and population standard deviation of the finite numeric values (Welford). */
function moments(rowCount: number, values: (i: number) => Value): { mean?: number; stddev?: number } {
  let n = 0;
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < rowCount; i++) {
    const x = numeric(values(i));
    if (x === undefined || !Number.isFinite(x)) continue;
    n++;
    const d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
  }
  return n ? { mean, stddev: Math.sqrt(m2 / n) } : {};
}

/** A comparable key for a value, equal for equal values of a feature's type. */
function valueKey(v: Value): string {
  if (v === null) return "null";
  if (typeof v === "number" || typeof v === "bigint") return `n:${v}`;
  if (typeof v === "boolean") return `b:${v}`;
  if (typeof v === "string") return `s:${v}`;
  if (v instanceof Date) return `t:${v.getTime()}`;
  if (v instanceof Uint8Array) return `x:${Buffer.from(v).toString("hex")}`;
  return `j:${JSON.stringify(Array.from(v as ArrayLike<unknown>, (x) => (typeof x === "bigint" ? String(x) : x)))}`;
}

function allowedKey(value: ValueMessage): string {
  const k = value.kind;
  switch (k.case) {
    case "boolValue":
      return valueKey(k.value);
    case "int32Value":
    case "floatValue":
    case "doubleValue":
    case "int64Value":
    case "stringValue":
      return valueKey(k.value);
    case "bytesValue":
      return valueKey(k.value);
    case "timestampValue":
      return valueKey(new Date(Number(k.value.seconds) * 1000 + Math.floor(k.value.nanos / 1e6)));
    default:
      return "null";
  }
}

/** The sample rows as a RecordBatch with every column of the batch, in schema order. */
function sampleRows(schema: FeatureGroupSchema, batch: ColumnBatch, indices: number[]): RecordBatch {
  const columns = schema.features
    .filter((f) => batch.columns[f.name])
    .map((f) => ({ name: f.name, type: f.type, values: indices.map((i) => batch.columns[f.name]![i] ?? null) }));
  return recordBatchMessage(indices.length, columns);
}

/** The names of the expectations a report says failed. */
export function failedExpectations(report: ValidationReport): string[] {
  return report.results.filter((r) => !r.success).map((r) => r.expectation);
}
