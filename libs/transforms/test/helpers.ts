// Shared test helpers: a seeded random source and an error-capturing call (both from @fti/testkit).
export { seededRandom as random } from "@fti/testkit/random";
export { violationsOf } from "@fti/testkit/assertions";
