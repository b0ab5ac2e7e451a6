// The syntax tree the parser produces. Every node keeps the offset of its
// first token so type errors can point at it.
export type BinaryOperator = "+" | "-" | "*" | "/" | "%" | "=" | "!=" | "<" | "<=" | ">" | ">=" | "and" | "or";

export type Expr =
  | { kind: "literal"; value: boolean | number | string | null; integer: boolean; position: number }
  | { kind: "identifier"; name: string; position: number }
  | { kind: "unary"; op: "-" | "not"; operand: Expr; position: number }
  | { kind: "binary"; op: BinaryOperator; left: Expr; right: Expr; position: number }
  | { kind: "isNull"; operand: Expr; negated: boolean; position: number }
  | { kind: "call"; name: string; args: Expr[]; position: number }
  | { kind: "case"; branches: { when: Expr; then: Expr }[]; otherwise: Expr | undefined; position: number };
