// Type-checks a parsed expression against the input column types and turns it
// into a tree of closures, built once and then run per row. Identifiers become
// slot indexes, so a run reads its inputs from a dense array and allocates
// nothing for numeric work. Subtrees without inputs are folded to constants.
import type { FeatureType, Value } from "@fti/schema";
import type { BinaryOperator, Expr } from "./ast.js";
import { ExpressionError } from "./errors.js";
import { ArgumentTypeError, equalValues, finite, functions } from "./functions.js";
import { parse } from "./parser.js";
import { inputType, isNumeric, unify, type ExprType, type RuntimeValue } from "./types.js";

/** Evaluates a compiled expression over input values laid out in slot order. */
export type Evaluator = (slots: readonly RuntimeValue[]) => RuntimeValue;

/** An input column an expression reads, with how its values are converted on the way in. */
export interface Slot {
  name: string;
  read: (value: Value | undefined) => RuntimeValue;
}

export interface CompiledExpression {
  type: ExprType;
  /** The columns read, in slot order. */
  slots: Slot[];
  evaluate: Evaluator;
}

interface Node {
  type: ExprType;
  evaluate: Evaluator;
  /** True when no input is read below this node, so it can be folded. */
  constant: boolean;
}

/**
 * Compiles `source` over the named input columns. Throws ExpressionError
 * (with the offset of the offending token) on a syntax or type error.
 */
export function compile(source: string, inputs: ReadonlyMap<string, FeatureType>): CompiledExpression {
  const slots: Slot[] = [];
  const slotIndex = new Map<string, number>();

  const constant = (type: ExprType, value: RuntimeValue): Node => ({ type, evaluate: () => value, constant: true });
  // A node whose children are all constant is evaluated once, now.
  const node = (type: ExprType, evaluate: Evaluator, children: Node[]): Node =>
    children.every((c) => c.constant) ? constant(type, evaluate([])) : { type, evaluate, constant: false };

  function visit(e: Expr): Node {
    switch (e.kind) {
      case "literal":
        if (e.value === null) return constant("null", null);
        if (typeof e.value === "boolean") return constant("bool", e.value);
        if (typeof e.value === "string") return constant("string", e.value);
        return constant(e.integer ? "int" : "double", e.value);
      case "identifier":
        return identifier(e.name, e.position);
      case "unary":
        return unary(e.op, visit(e.operand), e.operand.position);
      case "binary":
        return binary(e.op, visit(e.left), visit(e.right), e);
      case "isNull": {
        const operand = visit(e.operand);
        const f = operand.evaluate;
        return node("bool", e.negated ? (s) => f(s) !== null : (s) => f(s) === null, [operand]);
      }
      case "call":
        return e.name === "if" ? ifCall(e) : call(e);
      case "case":
        return caseNode(e);
    }
  }

  function identifier(name: string, position: number): Node {
    const type = inputs.get(name);
    if (type === undefined) {
      const hint = closest(name, [...inputs.keys()]);
      throw new ExpressionError(`unknown column "${name}"${hint ? ` (did you mean "${hint}"?)` : ""}`, position);
    }
    const input = inputType(type);
    if (typeof input === "string") throw new ExpressionError(`column "${name}" cannot be used: ${input}`, position);
    let index = slotIndex.get(name);
    if (index === undefined) {
      index = slots.length;
      slotIndex.set(name, index);
      slots.push({ name, read: input.read });
    }
    const i = index;
    return { type: input.type, evaluate: (s) => s[i]!, constant: false };
  }

  function expect(n: Node, accepted: (t: ExprType) => boolean, position: number, what: string): void {
    if (!accepted(n.type)) throw new ExpressionError(`${what}, not ${n.type}`, position);
  }

  function unary(op: "-" | "not", operand: Node, position: number): Node {
    const f = operand.evaluate;
    if (op === "-") {
      expect(operand, isNumeric, position, `"-" needs a number`);
      return node(operand.type, (s) => {
        const v = f(s);
        return v === null ? null : -(v as number);
      }, [operand]);
    }
    expect(operand, (t) => t === "bool" || t === "null", position, `"not" needs a bool`);
    return node("bool", (s) => {
      const v = f(s);
      return v === null ? null : !v;
    }, [operand]);
  }

  function binary(op: BinaryOperator, left: Node, right: Node, e: Expr & { kind: "binary" }): Node {
    const l = left.evaluate;
    const r = right.evaluate;
    const children = [left, right];
    if (op === "and" || op === "or") {
      const isBool = (t: ExprType) => t === "bool" || t === "null";
      expect(left, isBool, e.left.position, `"${op}" needs bools`);
      expect(right, isBool, e.right.position, `"${op}" needs bools`);
      // Three-valued logic: false and null = false; true or null = true.
      return node("bool", op === "and"
        ? (s) => {
            const a = l(s);
            if (a === false) return false;
            const b = r(s);
            return b === false ? false : a === null || b === null ? null : true;
          }
        : (s) => {
            const a = l(s);
            if (a === true) return true;
            const b = r(s);
            return b === true ? true : a === null || b === null ? null : false;
          }, children);
    }
    if (op === "+" || op === "-" || op === "*" || op === "/" || op === "%") {
      expect(left, isNumeric, e.left.position, `"${op}" needs numbers (use concat for strings)`);
      expect(right, isNumeric, e.right.position, `"${op}" needs numbers`);
      if (left.type === "null" || right.type === "null") return constant("null", null);
      const type: ExprType = op === "/" ? "double" : unify(left.type, right.type) === "double" ? "double" : "int";
      return node(type, arithmetic(op, l, r), children);
    }
    // Comparisons.
    const type = unify(left.type, right.type);
    if (type === undefined) throw new ExpressionError(`cannot compare ${left.type} with ${right.type}`, e.position);
    if ((type === "bool" || type === "bytes") && op !== "=" && op !== "!=") throw new ExpressionError(`${type} values can only be compared with = and !=`, e.position);
    if (left.type === "null" || right.type === "null") return constant("null", null);
    return node("bool", comparison(op, l, r), children);
  }

  function ifCall(e: Expr & { kind: "call" }): Node {
    if (e.args.length !== 3) throw new ExpressionError(`if takes 3 arguments (condition, then, else), got ${e.args.length}`, e.position);
    return caseNode({ kind: "case", branches: [{ when: e.args[0]!, then: e.args[1]! }], otherwise: e.args[2], position: e.position });
  }

  // A null condition counts as not true, as in SQL's CASE WHEN.
  function caseNode(e: Expr & { kind: "case" }): Node {
    const conditions = e.branches.map((b) => visit(b.when));
    conditions.forEach((c, i) => expect(c, (t) => t === "bool" || t === "null", e.branches[i]!.when.position, "a condition must be a bool"));
    const results = e.branches.map((b) => visit(b.then));
    const otherwise = e.otherwise ? visit(e.otherwise) : constant("null", null);
    let type: ExprType = otherwise.type;
    results.forEach((r, i) => {
      const u = unify(type, r.type);
      if (u === undefined) throw new ExpressionError(`branches have different types: ${r.type} and ${type}`, e.branches[i]!.then.position);
      type = u;
    });
    const whens = conditions.map((c) => c.evaluate);
    const thens = results.map((r) => r.evaluate);
    const fallback = otherwise.evaluate;
    const evaluate: Evaluator =
      whens.length === 1
        ? (s) => (whens[0]!(s) === true ? thens[0]!(s) : fallback(s))
        : (s) => {
            for (let i = 0; i < whens.length; i++) if (whens[i]!(s) === true) return thens[i]!(s);
            return fallback(s);
          };
    return node(type, evaluate, [...conditions, ...results, otherwise]);
  }

  function call(e: Expr & { kind: "call" }): Node {
    const def = Object.hasOwn(functions, e.name) ? functions[e.name] : undefined;
    if (!def) {
      const hint = closest(e.name, [...Object.keys(functions), "if"]);
      throw new ExpressionError(`unknown function "${e.name}"${hint ? ` (did you mean "${hint}"?)` : ""}`, e.position);
    }
    if (e.args.length < def.minArgs || e.args.length > def.maxArgs) {
      const expected = def.minArgs === def.maxArgs ? `${def.minArgs}` : def.maxArgs === Infinity ? `at least ${def.minArgs}` : `${def.minArgs} to ${def.maxArgs}`;
      throw new ExpressionError(`${e.name} takes ${expected} argument${expected === "1" ? "" : "s"} (${def.signature}), got ${e.args.length}`, e.position);
    }
    const args = e.args.map(visit);
    const types = args.map((a) => a.type);
    let type: ExprType;
    try {
      type = def.check(types);
    } catch (err) {
      if (err instanceof ArgumentTypeError) throw new ExpressionError(`${e.name}: ${err.message} (${def.signature})`, e.args[err.argument]!.position);
      throw err;
    }
    // A strict function of a literal null is null whatever the other arguments.
    if (def.strict && types.includes("null")) return constant("null", null);
    const impl = def.implFor?.(types) ?? def.impl;
    const f = args.map((a) => a.evaluate);
    return node(type, def.variadic ? variadic(impl, f, def.strict) : fixed(impl, f, def.strict), args);
  }

  const root = visit(parse(source));
  return { type: root.type, slots, evaluate: root.evaluate };
}

function arithmetic(op: "+" | "-" | "*" | "/" | "%", l: Evaluator, r: Evaluator): Evaluator {
  switch (op) {
    case "+":
      return (s) => {
        const a = l(s), b = r(s);
        return a === null || b === null ? null : finite((a as number) + (b as number));
      };
    case "-":
      return (s) => {
        const a = l(s), b = r(s);
        return a === null || b === null ? null : finite((a as number) - (b as number));
      };
    case "*":
      return (s) => {
        const a = l(s), b = r(s);
        return a === null || b === null ? null : finite((a as number) * (b as number));
      };
    // Division or remainder by zero is null, not Infinity or NaN.
    case "/":
      return (s) => {
        const a = l(s), b = r(s);
        return a === null || b === null || b === 0 ? null : finite((a as number) / (b as number));
      };
    case "%":
      return (s) => {
        const a = l(s), b = r(s);
        return a === null || b === null || b === 0 ? null : (a as number) % (b as number);
      };
  }
}

function comparison(op: "=" | "!=" | "<" | "<=" | ">" | ">=", l: Evaluator, r: Evaluator): Evaluator {
  const compare = (test: (a: number | string, b: number | string) => boolean): Evaluator => (s) => {
    const a = l(s), b = r(s);
    return a === null || b === null ? null : test(a as number | string, b as number | string);
  };
  switch (op) {
    case "=":
      return (s) => {
        const a = l(s), b = r(s);
        return a === null || b === null ? null : equalValues(a, b);
      };
    case "!=":
      return (s) => {
        const a = l(s), b = r(s);
        return a === null || b === null ? null : !equalValues(a, b);
      };
    case "<":
      return compare((a, b) => a < b);
    case "<=":
      return compare((a, b) => a <= b);
    case ">":
      return compare((a, b) => a > b);
    case ">=":
      return compare((a, b) => a >= b);
  }
}

type Impl = (...args: any[]) => RuntimeValue;

// Arity-specialised callers: no argument array for the common 1–3 argument case.
function fixed(impl: Impl, f: Evaluator[], strict: boolean): Evaluator {
  if (f.length === 1) {
    const [a] = f as [Evaluator];
    return strict ? (s) => { const x = a(s); return x === null ? null : impl(x); } : (s) => impl(a(s));
  }
  if (f.length === 2) {
    const [a, b] = f as [Evaluator, Evaluator];
    return strict
      ? (s) => { const x = a(s), y = b(s); return x === null || y === null ? null : impl(x, y); }
      : (s) => impl(a(s), b(s));
  }
  const [a, b, c] = f as [Evaluator, Evaluator, Evaluator];
  return strict
    ? (s) => { const x = a(s), y = b(s), z = c(s); return x === null || y === null || z === null ? null : impl(x, y, z); }
    : (s) => impl(a(s), b(s), c(s));
}

function variadic(impl: Impl, f: Evaluator[], strict: boolean): Evaluator {
  return (s) => {
    const values: RuntimeValue[] = new Array(f.length);
    for (let i = 0; i < f.length; i++) {
      const v = f[i]!(s);
      if (strict && v === null) return null;
      values[i] = v;
    }
    return impl(values);
  };
}

/** The candidate within edit distance 2 of `name`, for "did you mean". */
function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}
