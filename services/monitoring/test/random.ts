// Seeded random numbers for tests, so a failure reproduces.
export { seededRandom as random } from "@fti/testkit/random";

/** Box–Muller. */
export function normal(rand: () => number, mean: number, sd: number) {
  return mean + sd * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}
