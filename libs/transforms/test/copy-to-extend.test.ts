// copyToExtend: a copy that gains properties must keep one hidden class per
// shape. On Node 20's V8, `{ ...o }` followed by a new property makes a new
// hidden class on every call; serving copies request columns this way per
// request, so a regression shows up as old-space growth and GC pauses.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { copyToExtend } from "../src/index.js";

/** Whether two warmed-up copies of `copy`, each given the same new property, share a hidden class (V8's %HaveSameMap, in a child node). */
function extendedCopiesShareHiddenClass(copy: (o: object) => object): boolean {
  const script = `
    const copy = ${copy.toString()};
    const source = { amount: [1.5], merchant: ["m1"] };
    function extend() { const c = copy(source); c.amount_scaled = [0.5]; return c; }
    for (let i = 0; i < 200; i++) extend();
    process.stdout.write(String(%HaveSameMap(extend(), extend())));`;
  return execFileSync(process.execPath, ["--allow-natives-syntax", "-e", script], { encoding: "utf8" }) === "true";
}

describe("copyToExtend", () => {
  it("copies the own properties and leaves the source alone when the copy is extended", () => {
    const source: Record<string, number[]> = { amount: [1, 2] };
    const copy = copyToExtend(source);
    copy.scaled = [0.5, 1];
    expect(copy).toEqual({ amount: [1, 2], scaled: [0.5, 1] });
    expect(copy.amount).toBe(source.amount);
    expect(source).toEqual({ amount: [1, 2] });
  });

  it("gives extended copies one shared hidden class", () => {
    expect(extendedCopiesShareHiddenClass(copyToExtend)).toBe(true);
  });
});
