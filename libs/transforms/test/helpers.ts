// Shared test helpers: a seeded random source and an error-capturing call.
import { expect } from "vitest";
import { InvalidArgumentError, type FieldViolation } from "@fti/errors";

/** mulberry32: a small seeded generator, so property tests are reproducible. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The violations of the INVALID_ARGUMENT `fn` throws; fails the test if it throws nothing else. */
export function violationsOf(fn: () => unknown): FieldViolation[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as InvalidArgumentError).violations;
  }
  throw new Error("expected INVALID_ARGUMENT");
}
