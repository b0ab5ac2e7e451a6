import { setFlagsFromString } from "node:v8";
import { describe, expect, it } from "vitest";
import { rowBuilder } from "@fti/schema";

// V8's own answer to "is this object a hash table?" (functions compiled after the flag is set may use natives).
setFlagsFromString("--allow-natives-syntax");
const hasFastProperties = new Function("o", "return %HasFastProperties(o)") as (o: object) => boolean;

describe("rowBuilder", () => {
  it("makes the row of the names and values, in order", () => {
    const build = rowBuilder(["b", "a", "c_2"]);
    const row = build([1, null, "x"]);
    expect(row).toEqual({ b: 1, a: null, c_2: "x" });
    expect(Object.keys(row)).toEqual(["b", "a", "c_2"]);
    // A new object each time (callers fill one scratch array per row).
    expect(build([2, 3, 4])).not.toBe(build([2, 3, 4]));
    // Generated once per list of names.
    expect(rowBuilder(["b", "a", "c_2"])).toBe(build);
    expect(rowBuilder(["a", "b", "c_2"])).not.toBe(build);
  });

  it("keeps names that are not identifiers as plain own properties", () => {
    const names = ["with space", 'quote"d', "__proto__", "constructor", "0"];
    const row = rowBuilder(names)([1, 2, 3, 4, 5]);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.keys(row).sort()).toEqual([...names].sort());
    expect(Object.getOwnPropertyDescriptor(row, "__proto__")?.value).toBe(3);
    expect(row["with space"]).toBe(1);
    expect(row['quote"d']).toBe(2);
  });

  it("keeps a wide row a fast object (not a hash table)", () => {
    const names = Array.from({ length: 60 }, (_, i) => `f${i}`);
    const row = rowBuilder(names)(names.map((_, i) => i));
    const byAssignment: Record<string, number> = {};
    names.forEach((n, i) => (byAssignment[n] = i));
    expect(row).toEqual(byAssignment);
    expect(Object.keys(row)).toEqual(names);
    expect(hasFastProperties(row)).toBe(true);
    // What the builder is for: the same row by assignment is a hash table.
    expect(hasFastProperties(byAssignment)).toBe(false);
  });
});
