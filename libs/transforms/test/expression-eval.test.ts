// Evaluation against hand-computed values, SQL-like null rules, and the
// identity of batch and per-vector evaluation over random inputs.
import { describe, expect, it } from "vitest";
import type { FeatureType, Row, Value } from "@fti/schema";
import { compileOnDemandFeatures, type Column } from "../src/index.js";
import { random } from "./helpers.js";

const inputs: Column[] = [
  { name: "amount", type: "double" },
  { name: "avg_amount_30d", type: "double" },
  { name: "qty", type: "int32" },
  { name: "count_7d", type: "int64" },
  { name: "merchant", type: "string" },
  { name: "flag", type: "bool" },
  { name: "request_time", type: "timestamp" },
  { name: "last_login_time", type: "timestamp" },
  { name: "missing", type: "double" },
  { name: "payload", type: "bytes" },
];

const row: Row = {
  amount: 100,
  avg_amount_30d: 40,
  qty: 7,
  count_7d: 12n,
  merchant: "Café Nord",
  flag: true,
  request_time: new Date("2024-01-01T12:00:00Z"), // a Monday
  last_login_time: new Date("2024-01-01T09:30:00Z"),
  missing: null,
  payload: new Uint8Array([1, 2, 3]),
};

function evaluate(expression: string, type: FeatureType = "double", values: Row = row): Value {
  return compileOnDemandFeatures([{ name: "f", type, expression }], inputs).evaluateVector(values)[0]!;
}

describe("evaluation", () => {
  it.each<[string, FeatureType, Value]>([
    ["amount / nullif(avg_amount_30d, 0)", "double", 2.5],
    ["hours_between(request_time, last_login_time)", "double", 2.5],
    ["days_between(last_login_time, request_time)", "double", -2.5 / 24],
    ["seconds_between(request_time, last_login_time)", "double", 9000],
    ["2 + 3 * 4 - 6 / 4", "double", 12.5],
    ["(2 + 3) * 4", "int64", 20n],
    ["7 / 2", "double", 3.5],
    ["7 % 3", "int32", 1],
    ["-7 % 3", "int32", -1],
    ["-qty", "int32", -7],
    ["count_7d * 2 + qty", "int64", 31n],
    ["round(2.5)", "int32", 3],
    ["round(-2.5)", "int32", -3],
    ["round(3.14159, 2)", "double", 3.14],
    ["floor(-1.5) + ceil(1.2) + trunc(-1.7)", "int32", -1],
    ["abs(-3) + sign(-9)", "int32", 2],
    ["pow(2, 10)", "double", 1024],
    ["sqrt(16) + exp(0) + ln(1) + log10(1000) + log2(8)", "double", 11],
    ["log1p(0)", "double", 0],
    ["min(3, amount, 2.5)", "double", 2.5],
    ["max(merchant, 'Zed')", "string", "Zed"],
    ["clamp(amount, 0, 50)", "double", 50],
    ["lower(merchant)", "string", "café nord"],
    ["upper(merchant)", "string", "CAFÉ NORD"],
    ["trim('  x ')", "string", "x"],
    ["length(merchant) + length(payload)", "int32", 12],
    ["length('😀')", "int32", 1],
    ["concat(merchant, '/', 'x''y')", "string", "Café Nord/x'y"],
    ["starts_with(merchant, 'Caf') and ends_with(merchant, 'Nord') and contains(merchant, 'é N')", "bool", true],
    ["hour_of_day(request_time)", "int32", 12],
    ["day_of_week(request_time)", "int32", 1],
    ["day_of_week(request_time) + 0 * day_of_month(request_time)", "int32", 1],
    ["year(request_time) * 100 + month(request_time)", "int32", 202401],
    ["to_int(-2.7) + to_int(flag)", "int32", -1],
    ["to_double(qty) / 2", "double", 3.5],
    ["to_string(qty)", "string", "7"],
    ["to_string(request_time)", "string", "2024-01-01T12:00:00.000Z"],
    ["if(amount > 50, 'big', 'small')", "string", "big"],
    ["case when amount < 10 then 1 when amount < 1000 then 2 else 3 end", "int32", 2],
    ["amount >= 100 and qty != 8 and merchant <> 'x' and not (qty = 8)", "bool", true],
    ["request_time > last_login_time", "bool", true],
    ["payload = payload", "bool", true],
    ["flag = true", "bool", true],
    ["request_time", "timestamp", new Date("2024-01-01T12:00:00Z")],
    ["amount / 3", "float", Math.fround(100 / 3)],
    ["NOT flag OR flag", "bool", true],
  ])("%s = %o", (expression, type, expected) => {
    expect(evaluate(expression, type)).toEqual(expected);
  });

  it("day_of_week counts ISO days, Monday 1 to Sunday 7, in UTC", () => {
    const days = ["2024-01-01", "2024-01-06", "2024-01-07", "1969-12-31"].map((d) => evaluate("day_of_week(request_time)", "int32", { ...row, request_time: new Date(`${d}T23:59:59Z`) }));
    expect(days).toEqual([1, 6, 7, 3]);
    expect(evaluate("hour_of_day(request_time)", "int32", { ...row, request_time: new Date("1969-12-31T22:10:00Z") })).toBe(22);
  });
});

describe("null rules", () => {
  it.each<[string, FeatureType, Value]>([
    ["amount / nullif(avg_amount_30d, 40)", "double", null],
    ["amount / 0", "double", null],
    ["qty % 0", "int32", null],
    ["amount + missing", "double", null],
    ["abs(missing)", "double", null],
    ["concat(merchant, to_string(missing))", "string", null],
    ["max(1, missing)", "double", null],
    ["missing > 1", "bool", null],
    ["coalesce(missing, amount, 1)", "double", 100],
    ["coalesce(missing, null)", "double", null],
    ["is_null(missing)", "bool", true],
    ["missing is null and amount is not null", "bool", true],
    ["nullif(missing, 1)", "double", null],
    ["nullif(amount, missing)", "double", 100],
    ["false and missing > 0", "bool", false],
    ["true and missing > 0", "bool", null],
    ["true or missing > 0", "bool", true],
    ["false or missing > 0", "bool", null],
    ["not (missing > 0)", "bool", null],
    ["if(missing > 0, 1, 2)", "int32", 2],
    ["case when missing > 0 then 1 end", "int32", null],
    ["null", "string", null],
    ["log(0)", "double", null],
    ["log(-1)", "double", null],
    ["sqrt(-1)", "double", null],
    ["exp(1000)", "double", null],
    ["pow(10, 400)", "double", null],
    ["qty * 1000000000", "int32", null],
  ])("%s = %o", (expression, type, expected) => {
    expect(evaluate(expression, type)).toEqual(expected);
  });

  it("reads a NaN input or an absent column as null", () => {
    expect(evaluate("coalesce(amount, -1)", "double", { ...row, amount: Number.NaN })).toBe(-1);
    expect(evaluate("is_null(amount)", "bool", {})).toBe(true);
  });
});

describe("on-demand features of a view", () => {
  const features = [
    { name: "ratio", type: "double" as const, expression: "amount / nullif(avg_amount_30d, 0)" },
    { name: "is_large", type: "bool" as const, expression: "ratio > 2" },
    { name: "hours_since_login", type: "double" as const, expression: "hours_between(request_time, last_login_time)" },
    { name: "bucket", type: "int64" as const, expression: "case when ratio is null then -1 when ratio < 1 then 0 else floor(log2(ratio)) + 1 end" },
    { name: "login_at", type: "timestamp" as const, expression: "coalesce(last_login_time, request_time)" },
  ];
  const program = compileOnDemandFeatures(features, inputs);

  it("may use the features listed before them", () => {
    expect(program.columns.map((c) => c.name)).toEqual(features.map((f) => f.name));
    expect(program.applyVector(row)).toEqual({ ...row, ratio: 2.5, is_large: true, hours_since_login: 2.5, bucket: 2n, login_at: row.last_login_time });
  });

  it("accepts the proto message form", async () => {
    const { create } = await import("@bufbuild/protobuf");
    const { OnDemandFeatureSchema } = await import("@fti/proto/fti/registry/v1/feature_view_pb");
    const { FeatureTypeSchema, ScalarType } = await import("@fti/proto/fti/common/v1/types_pb");
    const message = create(OnDemandFeatureSchema, { name: "r", expression: "amount * 2", type: create(FeatureTypeSchema, { kind: { case: "scalar", value: ScalarType.DOUBLE } }) });
    expect(compileOnDemandFeatures([message], inputs).evaluateVector(row)).toEqual([200]);
  });

  it("gives the same values per batch as per vector, on random inputs", () => {
    const next = random(7);
    const pick = <T>(values: T[]): T => values[Math.floor(next() * values.length)]!;
    const maybe = <T>(v: T): T | null => (next() < 0.2 ? null : v);
    const rows: Row[] = Array.from({ length: 2000 }, () => ({
      amount: maybe(pick([0, -1, Number.NaN, (next() - 0.3) * 1e4, 1e308])),
      avg_amount_30d: maybe(pick([0, next() * 500, -next()])),
      qty: maybe(Math.floor(next() * 20) - 5),
      count_7d: maybe(BigInt(Math.floor(next() * 1e6))),
      merchant: maybe(pick(["a", "B", "Café", ""])),
      flag: maybe(next() < 0.5),
      request_time: maybe(new Date(1.7e12 + Math.floor(next() * 1e10))),
      last_login_time: maybe(new Date(1.7e12 + Math.floor(next() * 1e10))),
      missing: null,
      payload: maybe(new Uint8Array([Math.floor(next() * 3)])),
    }));
    const more = [
      ...features,
      { name: "mixed", type: "string" as const, expression: "if(flag and qty % 3 = 0, concat(lower(merchant), to_string(count_7d)), upper(merchant))" },
      { name: "score", type: "float" as const, expression: "clamp(coalesce(ratio, 0) * sqrt(abs(amount)), -1e6, 1e6) + day_of_week(request_time)" },
      { name: "n", type: "int32" as const, expression: "round(coalesce(amount, 0) / 7) % 1000 + length(payload)" },
    ];
    const p = compileOnDemandFeatures(more, inputs);
    const columns = Object.fromEntries(inputs.map((c) => [c.name, rows.map((r) => r[c.name] ?? null)]));
    const batch = p.applyBatch(columns);
    const perVector = rows.map((r) => p.applyVector(r));
    for (const c of p.columns) expect(batch[c.name]).toEqual(perVector.map((r) => r[c.name]));
    // Not vacuous: the features took many distinct values, nulls among them.
    expect(new Set(batch.score!.map(String)).size).toBeGreaterThan(100);
    expect(batch.ratio!.filter((v) => v === null).length).toBeGreaterThan(100);
  });
});
