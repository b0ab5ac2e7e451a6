// Syntax and type errors: INVALID_ARGUMENT at the caller's field, naming the
// position and the problem.
import { describe, expect, it } from "vitest";
import type { FeatureType } from "@fti/schema";
import { compileOnDemandFeatures } from "../src/index.js";
import { violationsOf } from "./helpers.js";

const inputs = [
  { name: "amount", type: "double" as const },
  { name: "avg_amount_30d", type: "double" as const },
  { name: "count_7d", type: "int64" as const },
  { name: "merchant", type: "string" as const },
  { name: "request_time", type: "timestamp" as const },
  { name: "tags", type: { array: "string" } as const },
];

/** The single violation of compiling one feature with this expression. */
function problem(expression: string, type: FeatureType = "double"): string {
  const v = violationsOf(() => compileOnDemandFeatures([{ name: "f", type, expression }], inputs));
  expect(v).toHaveLength(1);
  expect(v[0]!.field).toBe("feature_view.on_demand_features[0].expression");
  return v[0]!.description;
}

describe("syntax errors", () => {
  it.each([
    ["amount +", "at position 9 of `amount +`: expected a value but found the end of the expression"],
    ["(amount", 'at position 8 of `(amount`: expected ")" but found the end of the expression'],
    ["amount amount", 'at position 8 of `amount amount`: expected an operator or the end of the expression but found "amount"'],
    ["amount < 1 < 2", "at position 12 of `amount < 1 < 2`: comparisons do not chain; combine them with and"],
    ["merchant = 'abc", "at position 12 of `merchant = 'abc`: unterminated string literal"],
    ['merchant = "abc"', "at position 12 of `merchant = \"abc\"`: unexpected '\"': strings use single quotes"],
    ["amount # 2", 'at position 8 of `amount # 2`: unexpected character "#"'],
    ["1e", "at position 1 of `1e`: malformed number exponent"],
    ["case else 1 end", 'at position 6 of `case else 1 end`: expected "when" but found "else"'],
    ["abs(amount,)", "at position 12 of `abs(amount,)`: expected a value but found \")\""],
    ["", "at position 1 of ``: expected a value but found the end of the expression"],
  ])("%s", (expression, message) => {
    expect(problem(expression)).toBe(message);
  });

  it("refuses nesting deep enough to overflow the stack", () => {
    expect(problem("(".repeat(5000) + "1" + ")".repeat(5000))).toMatch(/nested deeper than 100 levels/);
    expect(problem("-".repeat(5000) + "1")).toMatch(/nested deeper than 100 levels/);
  });
});

describe("type errors", () => {
  it("names an unknown column and suggests a near one", () => {
    expect(problem("amout / 2")).toBe('at position 1 of `amout / 2`: unknown column "amout" (did you mean "amount"?)');
  });

  it("names an unknown function and suggests a near one", () => {
    expect(problem("sqr(amount)")).toBe('at position 1 of `sqr(amount)`: unknown function "sqr" (did you mean "sqrt"?)');
    expect(problem("eval('1')")).toMatch(/unknown function "eval"/);
  });

  it("checks argument counts", () => {
    expect(problem("nullif(amount)")).toBe("at position 1 of `nullif(amount)`: nullif takes 2 arguments (nullif(value, value_that_means_null)), got 1");
    expect(problem("round(amount, 1, 2)")).toMatch(/round takes 1 to 2 arguments/);
    expect(problem("if(amount > 1, 1)")).toMatch(/if takes 3 arguments/);
    expect(problem("coalesce()")).toMatch(/coalesce takes at least 1 argument/);
  });

  it("points at the argument of the wrong type", () => {
    expect(problem("hours_between(request_time, amount)")).toBe(
      "at position 29 of `hours_between(request_time, amount)`: hours_between: argument 2 must be a timestamp, not double (hours_between(later, earlier))",
    );
    expect(problem("lower(amount)", "string")).toMatch(/position 7 .*argument 1 must be a string, not double/);
  });

  it("checks operators", () => {
    expect(problem("merchant + 1")).toBe('at position 1 of `merchant + 1`: "+" needs numbers (use concat for strings), not string');
    expect(problem("amount > merchant", "bool")).toBe("at position 8 of `amount > merchant`: cannot compare double with string");
    expect(problem("amount and true", "bool")).toMatch(/"and" needs bools, not double/);
    expect(problem("if(amount, 1, 2)")).toMatch(/a condition must be a bool, not double/);
    expect(problem("if(amount > 0, 1, 'x')")).toMatch(/branches have different types/);
  });

  it("refuses array and embedding columns", () => {
    expect(problem("tags")).toMatch(/column "tags" cannot be used: it has type array<string>/);
  });

  it("checks the result against the declared type", () => {
    expect(problem("amount / 2", "int64")).toBe("the expression has type double but the feature is declared int64; use round, floor, ceil or to_int: `amount / 2`");
    expect(problem("merchant", "double")).toMatch(/has type string but the feature is declared double/);
    // An int result fits a double feature; a double never silently becomes an int.
    expect(() => compileOnDemandFeatures([{ name: "f", type: "double", expression: "count_7d + 1" }], inputs)).not.toThrow();
  });

  it("reports every bad feature at once, each at its own index", () => {
    const v = violationsOf(() =>
      compileOnDemandFeatures(
        [
          { name: "ok", type: "double", expression: "amount * 2" },
          { name: "amount", type: "double", expression: "1" },
          { name: "bad", type: "double", expression: "nope" },
          { name: "vec", type: { embedding: 3 }, expression: "1" },
        ],
        inputs,
      ),
    );
    expect(v.map((x) => x.field)).toEqual([
      "feature_view.on_demand_features[1].name",
      "feature_view.on_demand_features[2].expression",
      "feature_view.on_demand_features[3].type",
    ]);
  });

  it("uses the caller's field path", () => {
    const v = violationsOf(() => compileOnDemandFeatures([{ name: "f", type: "double", expression: "x" }], inputs, "view.odf"));
    expect(v[0]!.field).toBe("view.odf[0].expression");
  });
});
