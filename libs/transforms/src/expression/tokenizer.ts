// Splits an expression into tokens. Hand-written so every token carries its
// offset for error messages, and no input can make it backtrack.
import { ExpressionError } from "./errors.js";

export type TokenKind = "number" | "string" | "identifier" | "keyword" | "operator" | "(" | ")" | "," | "end";

export interface Token {
  kind: TokenKind;
  /** Identifiers keep their spelling; keywords are lowercased; strings are unescaped. */
  text: string;
  /** For numbers: whether it was written as an integer (no `.` and no exponent). */
  integer?: boolean;
  position: number;
}

/** Words with a grammatical role; matched case-insensitively and never identifiers. */
export const keywords: ReadonlySet<string> = new Set(["and", "or", "not", "true", "false", "null", "is", "case", "when", "then", "else", "end"]);

// Longest first, so "<=" wins over "<".
const operators = ["<=", ">=", "<>", "!=", "==", "+", "-", "*", "/", "%", "<", ">", "="];

const isDigit = (c: string) => c >= "0" && c <= "9";
const isIdentifierStart = (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
const isIdentifierPart = (c: string) => isIdentifierStart(c) || isDigit(c);

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
    } else if (isDigit(c) || (c === "." && isDigit(source[i + 1] ?? ""))) {
      const start = i;
      while (isDigit(source[i] ?? "")) i++;
      let integer = true;
      if (source[i] === ".") {
        integer = false;
        i++;
        while (isDigit(source[i] ?? "")) i++;
      }
      if (source[i] === "e" || source[i] === "E") {
        integer = false;
        let j = i + 1;
        if (source[j] === "+" || source[j] === "-") j++;
        if (!isDigit(source[j] ?? "")) throw new ExpressionError("malformed number exponent", start);
        i = j;
        while (isDigit(source[i] ?? "")) i++;
      }
      if (isIdentifierStart(source[i] ?? "")) throw new ExpressionError(`unexpected "${source[i]}" after a number`, i);
      tokens.push({ kind: "number", text: source.slice(start, i), integer, position: start });
    } else if (c === "'") {
      // SQL style: '' inside a string is one quote; no backslash escapes.
      const start = i;
      let text = "";
      i++;
      for (;;) {
        if (i >= source.length) throw new ExpressionError("unterminated string literal", start);
        if (source[i] === "'") {
          if (source[i + 1] === "'") {
            text += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += source[i];
        i++;
      }
      tokens.push({ kind: "string", text, position: start });
    } else if (isIdentifierStart(c)) {
      const start = i;
      while (isIdentifierPart(source[i] ?? "")) i++;
      const word = source.slice(start, i);
      const lower = word.toLowerCase();
      tokens.push(keywords.has(lower) ? { kind: "keyword", text: lower, position: start } : { kind: "identifier", text: word, position: start });
    } else if (c === "(" || c === ")" || c === ",") {
      tokens.push({ kind: c, text: c, position: i });
      i++;
    } else {
      const op = operators.find((o) => source.startsWith(o, i));
      if (!op) throw new ExpressionError(c === '"' ? "unexpected '\"': strings use single quotes" : `unexpected character "${c}"`, i);
      tokens.push({ kind: "operator", text: op, position: i });
      i += op.length;
    }
  }
  tokens.push({ kind: "end", text: "end of expression", position: source.length });
  return tokens;
}
