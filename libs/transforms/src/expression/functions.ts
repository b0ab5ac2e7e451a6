// The declared functions of the expression language: for each, how many
// arguments it takes, its types, and its implementation. Nothing else can be
// called, so an expression can only compute, never reach outside.
//
// Null rules: a "strict" function returns null when any argument is null,
// without running. Numeric results that are not finite (log(0), sqrt(-1),
// overflow) are null too, so one bad row yields a missing value, never an
// exception or an Infinity that poisons a model.
import type { ExprType, RuntimeValue } from "./types.js";
import { unify } from "./types.js";

/** A type error in one argument; the compiler points at that argument. */
export class ArgumentTypeError extends Error {
  constructor(
    readonly argument: number,
    message: string,
  ) {
    super(message);
  }
}

export interface FunctionDef {
  /** How it is called, for error messages, e.g. "round(number[, digits])". */
  signature: string;
  minArgs: number;
  maxArgs: number;
  /** The result type for these argument types; throws ArgumentTypeError otherwise. */
  check(types: readonly ExprType[]): ExprType;
  /** Whether any null argument makes the result null without calling `impl`. */
  strict: boolean;
  /** Variadic functions take an array of arguments; the others take them spread. */
  variadic?: boolean;
  // The compiler type-checks every call against `check`, so implementations
  // receive exactly the types it accepted.
  impl: (...args: any[]) => RuntimeValue;
  /** For the few functions whose implementation depends on the argument types. */
  implFor?: (types: readonly ExprType[]) => FunctionDef["impl"];
}

/** NaN and ±Infinity become null. (x - x is 0 exactly for finite x.) */
export const finite = (x: number): number | null => (x - x === 0 ? x : null);

/** Rounds half away from zero, as SQL does (Math.round rounds half up). */
const roundHalfAway = (x: number) => (x < 0 ? -Math.round(-x) : Math.round(x));

const msPerDay = 86_400_000;

function expectType(types: readonly ExprType[], i: number, accepted: readonly ExprType[], what: string): void {
  const t = types[i]!;
  if (t !== "null" && !accepted.includes(t)) throw new ArgumentTypeError(i, `argument ${i + 1} must be ${what}, not ${t}`);
}

const numeric = (types: readonly ExprType[], i: number) => expectType(types, i, ["int", "double"], "a number");

/** All arguments numeric; the result is double if any is. */
function numericUnion(types: readonly ExprType[]): ExprType {
  types.forEach((_, i) => numeric(types, i));
  return types.includes("double") ? "double" : "int";
}

/** All arguments of one orderable family (numbers, strings or timestamps). */
function orderableUnion(types: readonly ExprType[]): ExprType {
  let result: ExprType = "null";
  types.forEach((t, i) => {
    const u = unify(result, t);
    if (u === undefined || u === "bool" || u === "bytes") throw new ArgumentTypeError(i, `argument ${i + 1} has type ${t}; arguments must all be numbers, all strings or all timestamps`);
    result = u;
  });
  return result === "null" ? "int" : result;
}

const math1 = (signature: string, fn: (x: number) => number): FunctionDef => ({
  signature,
  minArgs: 1,
  maxArgs: 1,
  strict: true,
  check: (t) => (numeric(t, 0), "double"),
  impl: (x: number) => finite(fn(x)),
});

const toInt = (t: readonly ExprType[]) => (numeric(t, 0), "int" as const);
const timestamp1 = (signature: string, fn: (ms: number) => number): FunctionDef => ({
  signature,
  minArgs: 1,
  maxArgs: 1,
  strict: true,
  check: (t) => (expectType(t, 0, ["timestamp"], "a timestamp"), "int"),
  impl: fn,
});
const between = (signature: string, unitMs: number): FunctionDef => ({
  signature,
  minArgs: 2,
  maxArgs: 2,
  strict: true,
  check: (t) => (expectType(t, 0, ["timestamp"], "a timestamp"), expectType(t, 1, ["timestamp"], "a timestamp"), "double"),
  impl: (a: number, b: number) => (a - b) / unitMs,
});
const string1 = (signature: string, fn: (s: string) => RuntimeValue, result: ExprType = "string"): FunctionDef => ({
  signature,
  minArgs: 1,
  maxArgs: 1,
  strict: true,
  check: (t) => (expectType(t, 0, ["string"], "a string"), result),
  impl: fn,
});
const string2 = (signature: string, fn: (s: string, t: string) => boolean): FunctionDef => ({
  signature,
  minArgs: 2,
  maxArgs: 2,
  strict: true,
  check: (t) => (expectType(t, 0, ["string"], "a string"), expectType(t, 1, ["string"], "a string"), "bool"),
  impl: fn,
});

/** Equality of two runtime values of one type; bytes by content. */
export function equalValues(a: RuntimeValue, b: RuntimeValue): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && Buffer.compare(a, b) === 0;
  return a === b;
}

/** Unicode code points, not UTF-16 units, so "é" and "😀" are both 1. */
function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0 && s.charCodeAt(i - 1) >= 0xd800 && s.charCodeAt(i - 1) <= 0xdbff) n--;
  }
  return n;
}

export const functions: Readonly<Record<string, FunctionDef>> = {
  abs: { signature: "abs(number)", minArgs: 1, maxArgs: 1, strict: true, check: (t) => numericUnion(t), impl: Math.abs },
  sign: { signature: "sign(number)", minArgs: 1, maxArgs: 1, strict: true, check: toInt, impl: Math.sign },
  sqrt: math1("sqrt(number)", Math.sqrt),
  exp: math1("exp(number)", Math.exp),
  ln: math1("ln(number)", Math.log),
  log: math1("log(number)", Math.log),
  log10: math1("log10(number)", Math.log10),
  log2: math1("log2(number)", Math.log2),
  log1p: math1("log1p(number)", Math.log1p),
  pow: {
    signature: "pow(base, exponent)",
    minArgs: 2,
    maxArgs: 2,
    strict: true,
    check: (t) => (numeric(t, 0), numeric(t, 1), "double"),
    impl: (a: number, b: number) => finite(Math.pow(a, b)),
  },
  round: {
    signature: "round(number[, digits])",
    minArgs: 1,
    maxArgs: 2,
    strict: true,
    check: (t) => {
      numeric(t, 0);
      if (t.length === 1) return "int";
      expectType(t, 1, ["int"], "an integer");
      return "double";
    },
    impl: (x: number, digits?: number) => {
      if (digits === undefined) return roundHalfAway(x);
      const f = Math.pow(10, digits);
      return finite(roundHalfAway(x * f) / f);
    },
  },
  floor: { signature: "floor(number)", minArgs: 1, maxArgs: 1, strict: true, check: toInt, impl: Math.floor },
  ceil: { signature: "ceil(number)", minArgs: 1, maxArgs: 1, strict: true, check: toInt, impl: Math.ceil },
  trunc: { signature: "trunc(number)", minArgs: 1, maxArgs: 1, strict: true, check: toInt, impl: Math.trunc },
  min: {
    signature: "min(value, ...)",
    minArgs: 1,
    maxArgs: Infinity,
    strict: true,
    variadic: true,
    check: orderableUnion,
    impl: (args: (number | string)[]) => args.reduce((a, b) => (b < a ? b : a)),
  },
  max: {
    signature: "max(value, ...)",
    minArgs: 1,
    maxArgs: Infinity,
    strict: true,
    variadic: true,
    check: orderableUnion,
    impl: (args: (number | string)[]) => args.reduce((a, b) => (b > a ? b : a)),
  },
  clamp: {
    signature: "clamp(number, low, high)",
    minArgs: 3,
    maxArgs: 3,
    strict: true,
    check: numericUnion,
    impl: (x: number, low: number, high: number) => Math.min(Math.max(x, low), high),
  },
  coalesce: {
    signature: "coalesce(value, ...)",
    minArgs: 1,
    maxArgs: Infinity,
    strict: false,
    variadic: true,
    check: (t) =>
      t.reduce<ExprType>((acc, type, i) => {
        const u = unify(acc, type);
        if (u === undefined) throw new ArgumentTypeError(i, `argument ${i + 1} has type ${type}, which does not match ${acc}`);
        return u;
      }, "null"),
    impl: (args: RuntimeValue[]) => {
      for (const a of args) if (a !== null) return a;
      return null;
    },
  },
  nullif: {
    signature: "nullif(value, value_that_means_null)",
    minArgs: 2,
    maxArgs: 2,
    strict: false,
    check: (t) => {
      if (unify(t[0]!, t[1]!) === undefined) throw new ArgumentTypeError(1, `argument 2 has type ${t[1]}, which cannot be compared with ${t[0]}`);
      return t[0]!;
    },
    impl: (a: RuntimeValue, b: RuntimeValue) => (a !== null && b !== null && equalValues(a, b) ? null : a),
  },
  is_null: { signature: "is_null(value)", minArgs: 1, maxArgs: 1, strict: false, check: () => "bool", impl: (a: RuntimeValue) => a === null },
  lower: string1("lower(string)", (s) => s.toLowerCase()),
  upper: string1("upper(string)", (s) => s.toUpperCase()),
  trim: string1("trim(string)", (s) => s.trim()),
  length: {
    signature: "length(string or bytes)",
    minArgs: 1,
    maxArgs: 1,
    strict: true,
    check: (t) => (expectType(t, 0, ["string", "bytes"], "a string or bytes"), "int"),
    impl: (v: string | Uint8Array) => (typeof v === "string" ? codePointLength(v) : v.length),
  },
  concat: {
    signature: "concat(string, ...)",
    minArgs: 1,
    maxArgs: Infinity,
    strict: true,
    variadic: true,
    check: (t) => (t.forEach((_, i) => expectType(t, i, ["string"], "a string")), "string"),
    impl: (args: string[]) => args.join(""),
  },
  starts_with: string2("starts_with(string, prefix)", (s, p) => s.startsWith(p)),
  ends_with: string2("ends_with(string, suffix)", (s, p) => s.endsWith(p)),
  contains: string2("contains(string, part)", (s, p) => s.includes(p)),
  seconds_between: between("seconds_between(later, earlier)", 1_000),
  minutes_between: between("minutes_between(later, earlier)", 60_000),
  hours_between: between("hours_between(later, earlier)", 3_600_000),
  days_between: between("days_between(later, earlier)", msPerDay),
  hour_of_day: timestamp1("hour_of_day(timestamp)", (ms) => Math.floor((((ms % msPerDay) + msPerDay) % msPerDay) / 3_600_000)),
  // ISO numbering, Monday = 1 … Sunday = 7; 1970-01-01 was a Thursday (4).
  day_of_week: timestamp1("day_of_week(timestamp)", (ms) => ((((Math.floor(ms / msPerDay) + 3) % 7) + 7) % 7) + 1),
  day_of_month: timestamp1("day_of_month(timestamp)", (ms) => new Date(ms).getUTCDate()),
  month: timestamp1("month(timestamp)", (ms) => new Date(ms).getUTCMonth() + 1),
  year: timestamp1("year(timestamp)", (ms) => new Date(ms).getUTCFullYear()),
  to_int: {
    signature: "to_int(number or bool)",
    minArgs: 1,
    maxArgs: 1,
    strict: true,
    check: (t) => (expectType(t, 0, ["int", "double", "bool"], "a number or bool"), "int"),
    impl: (v: number | boolean) => (typeof v === "boolean" ? (v ? 1 : 0) : Math.trunc(v)),
  },
  to_double: {
    signature: "to_double(number or bool)",
    minArgs: 1,
    maxArgs: 1,
    strict: true,
    check: (t) => (expectType(t, 0, ["int", "double", "bool"], "a number or bool"), "double"),
    impl: (v: number | boolean) => (typeof v === "boolean" ? (v ? 1 : 0) : v),
  },
  to_string: {
    signature: "to_string(value)",
    minArgs: 1,
    maxArgs: 1,
    strict: true,
    check: (t) => (expectType(t, 0, ["int", "double", "bool", "string", "timestamp"], "a number, bool, string or timestamp"), "string"),
    impl: (v: number | boolean | string) => String(v),
    // Timestamps print as ISO 8601 in UTC; numbers as JavaScript prints them.
    implFor: (t) => (t[0] === "timestamp" ? (ms: number) => new Date(ms).toISOString() : String),
  },
};
