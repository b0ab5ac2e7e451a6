// Assertions shared by the test suites.
import { expect } from "vitest";
import { InvalidArgumentError, type FieldViolation } from "@fti/errors";

/** The violations of the INVALID_ARGUMENT `fn` throws; fails the test if it throws anything else, or nothing. */
export function violationsOf(fn: () => unknown): FieldViolation[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as InvalidArgumentError).violations;
  }
  throw new Error("expected INVALID_ARGUMENT");
}
