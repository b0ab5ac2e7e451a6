// Recursive-descent parser for the expression language. Grammar, loosest
// binding first:
//
//   expr           := and ("or" and)*
//   and            := not ("and" not)*
//   not            := "not" not | comparison
//   comparison     := additive [ ("=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=") additive
//                               | "is" ["not"] "null" ]
//   additive       := multiplicative (("+" | "-") multiplicative)*
//   multiplicative := unary (("*" | "/" | "%") unary)*
//   unary          := ("-" | "+") unary | primary
//   primary        := number | string | "true" | "false" | "null"
//                   | identifier | identifier "(" [expr ("," expr)*] ")"
//                   | "(" expr ")"
//                   | "case" ("when" expr "then" expr)+ ["else" expr] "end"
//
// Comparisons do not chain (`a < b < c` is an error, not a surprise).
import type { BinaryOperator, Expr } from "./ast.js";
import { ExpressionError } from "./errors.js";
import { tokenize, type Token } from "./tokenizer.js";

/** Nesting deeper than this is refused, so no input can overflow the stack. */
const maxDepth = 100;

const comparisonOperators: Record<string, BinaryOperator> = { "=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=" };

export function parse(source: string): Expr {
  const tokens = tokenize(source);
  let index = 0;
  let depth = 0;

  const peek = (): Token => tokens[index]!;
  const next = (): Token => tokens[index++]!;
  const isKeyword = (word: string) => peek().kind === "keyword" && peek().text === word;
  const isOperator = (op: string) => peek().kind === "operator" && peek().text === op;
  const unexpected = (t: Token, expected: string): never => {
    throw new ExpressionError(`expected ${expected} but found ${t.kind === "end" ? "the end of the expression" : `"${t.text}"`}`, t.position);
  };
  const expectKeyword = (word: string) => (isKeyword(word) ? next() : unexpected(peek(), `"${word}"`));

  function expression(): Expr {
    if (++depth > maxDepth) throw new ExpressionError(`expression nested deeper than ${maxDepth} levels`, peek().position);
    let left = and();
    while (isKeyword("or")) {
      const op = next();
      left = { kind: "binary", op: "or", left, right: and(), position: op.position };
    }
    depth--;
    return left;
  }

  function and(): Expr {
    let left = not();
    while (isKeyword("and")) {
      const op = next();
      left = { kind: "binary", op: "and", left, right: not(), position: op.position };
    }
    return left;
  }

  function not(): Expr {
    if (isKeyword("not")) {
      const op = next();
      if (++depth > maxDepth) throw new ExpressionError(`expression nested deeper than ${maxDepth} levels`, op.position);
      const operand = not();
      depth--;
      return { kind: "unary", op: "not", operand, position: op.position };
    }
    return comparison();
  }

  function comparison(): Expr {
    const left = additive();
    let result = left;
    if (peek().kind === "operator" && peek().text in comparisonOperators) {
      const op = next();
      result = { kind: "binary", op: comparisonOperators[op.text]!, left, right: additive(), position: op.position };
    } else if (isKeyword("is")) {
      const is = next();
      const negated = isKeyword("not");
      if (negated) next();
      expectKeyword("null");
      result = { kind: "isNull", operand: left, negated, position: is.position };
    } else {
      return left;
    }
    const t = peek();
    if ((t.kind === "operator" && t.text in comparisonOperators) || isKeyword("is"))
      throw new ExpressionError("comparisons do not chain; combine them with and", t.position);
    return result;
  }

  function additive(): Expr {
    let left = multiplicative();
    while (isOperator("+") || isOperator("-")) {
      const op = next();
      left = { kind: "binary", op: op.text as BinaryOperator, left, right: multiplicative(), position: op.position };
    }
    return left;
  }

  function multiplicative(): Expr {
    let left = unary();
    while (isOperator("*") || isOperator("/") || isOperator("%")) {
      const op = next();
      left = { kind: "binary", op: op.text as BinaryOperator, left, right: unary(), position: op.position };
    }
    return left;
  }

  function unary(): Expr {
    if (isOperator("-") || isOperator("+")) {
      const op = next();
      if (++depth > maxDepth) throw new ExpressionError(`expression nested deeper than ${maxDepth} levels`, op.position);
      const operand = unary();
      depth--;
      return op.text === "+" ? operand : { kind: "unary", op: "-", operand, position: op.position };
    }
    return primary();
  }

  function primary(): Expr {
    const t = next();
    switch (t.kind) {
      case "number":
        return { kind: "literal", value: Number(t.text), integer: t.integer === true, position: t.position };
      case "string":
        return { kind: "literal", value: t.text, integer: false, position: t.position };
      case "identifier":
        if (peek().kind !== "(") return { kind: "identifier", name: t.text, position: t.position };
        return call(t);
      case "(": {
        const inner = expression();
        if (peek().kind !== ")") unexpected(peek(), '")"');
        next();
        return inner;
      }
      case "keyword":
        if (t.text === "true" || t.text === "false") return { kind: "literal", value: t.text === "true", integer: false, position: t.position };
        if (t.text === "null") return { kind: "literal", value: null, integer: false, position: t.position };
        if (t.text === "case") return caseExpression(t);
        return unexpected(t, "a value");
      default:
        return unexpected(t, "a value");
    }
  }

  function call(name: Token): Expr {
    next(); // "("
    const args: Expr[] = [];
    if (peek().kind !== ")") {
      for (;;) {
        args.push(expression());
        if (peek().kind === ")") break;
        if (peek().kind !== ",") unexpected(peek(), '"," or ")"');
        next();
      }
    }
    next(); // ")"
    return { kind: "call", name: name.text.toLowerCase(), args, position: name.position };
  }

  function caseExpression(start: Token): Expr {
    const branches: { when: Expr; then: Expr }[] = [];
    while (isKeyword("when")) {
      next();
      const when = expression();
      expectKeyword("then");
      branches.push({ when, then: expression() });
    }
    if (branches.length === 0) unexpected(peek(), '"when"');
    let otherwise: Expr | undefined;
    if (isKeyword("else")) {
      next();
      otherwise = expression();
    }
    expectKeyword("end");
    return { kind: "case", branches, otherwise, position: start.position };
  }

  const root = expression();
  if (peek().kind !== "end") unexpected(peek(), "an operator or the end of the expression");
  return root;
}
