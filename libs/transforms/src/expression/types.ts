// The types expressions compute with, and how column values enter and leave
// them. Inside an expression: bool → boolean; int and double → number (int
// always holds an integer); string; bytes → Uint8Array; timestamp → epoch
// milliseconds as a number (cheap to compare and subtract). `null` is the
// type of the literal null and fits wherever any type does.
import { typeName, type FeatureType, type Value } from "@fti/schema";

export type ExprType = "bool" | "int" | "double" | "string" | "bytes" | "timestamp" | "null";

/** A value while an expression runs. */
export type RuntimeValue = boolean | number | string | Uint8Array | null;

export const isNumeric = (t: ExprType) => t === "int" || t === "double" || t === "null";

/** The common type of two branches or operands, or undefined when they have none. */
export function unify(a: ExprType, b: ExprType): ExprType | undefined {
  if (a === b) return a;
  if (a === "null") return b;
  if (b === "null") return a;
  if ((a === "int" && b === "double") || (a === "double" && b === "int")) return "double";
  return undefined;
}

/**
 * The expression type of a column, and how to read its values: int64 bigints
 * become numbers (exact up to 2^53), dates become epoch milliseconds, and a
 * NaN is missing like null. Array and embedding columns cannot be used.
 */
export function inputType(type: FeatureType): { type: ExprType; read: (value: Value | undefined) => RuntimeValue } | string {
  switch (type) {
    case "bool":
    case "string":
    case "bytes":
      return { type: type, read: readAsIs };
    case "int32":
      return { type: "int", read: readNumber };
    case "int64":
      return { type: "int", read: readBigint };
    case "float":
    case "double":
      return { type: "double", read: readNumber };
    case "timestamp":
      return { type: "timestamp", read: readDate };
    default:
      return `it has type ${typeName(type)}, which expressions cannot use`;
  }
}

const readAsIs = (v: Value | undefined): RuntimeValue => (v === undefined ? null : (v as RuntimeValue));
const readNumber = (v: Value | undefined): RuntimeValue => (typeof v === "number" && v === v ? v : null);
const readBigint = (v: Value | undefined): RuntimeValue => (typeof v === "bigint" ? Number(v) : null);
const readDate = (v: Value | undefined): RuntimeValue => (v instanceof Date ? v.getTime() : null);

const int32Min = -2147483648;
const int32Max = 2147483647;
const int64Limit = 2 ** 63;

/**
 * How an expression result becomes a value of the declared feature type, or
 * why the expression's type cannot produce it. Integers outside the declared
 * type's range are null (like every other numeric accident: see functions.ts).
 */
export function outputConverter(exprType: ExprType, declared: FeatureType): ((v: RuntimeValue) => Value) | string {
  const fits = (...accepted: ExprType[]) => exprType === "null" || accepted.includes(exprType);
  switch (declared) {
    case "bool":
    case "string":
    case "bytes":
      return fits(declared) ? (v) => v as Value : mismatch(exprType, declared);
    case "int32":
      return fits("int") ? (v) => (v === null || (v as number) < int32Min || (v as number) > int32Max ? null : v) : mismatch(exprType, declared, "; use round, floor, ceil or to_int");
    case "int64":
      return fits("int") ? (v) => (v === null || Math.abs(v as number) >= int64Limit ? null : BigInt(v as number)) : mismatch(exprType, declared, "; use round, floor, ceil or to_int");
    case "float":
      return fits("int", "double") ? (v) => (v === null ? null : Math.fround(v as number)) : mismatch(exprType, declared);
    case "double":
      return fits("int", "double") ? (v) => v : mismatch(exprType, declared);
    case "timestamp":
      return fits("timestamp") ? (v) => (v === null ? null : new Date(v as number)) : mismatch(exprType, declared);
    default:
      return `on-demand features have a scalar type, not ${typeName(declared)}`;
  }
}

const mismatch = (exprType: ExprType, declared: FeatureType, hint = "") => `the expression has type ${exprType} but the feature is declared ${typeName(declared)}${hint}`;
