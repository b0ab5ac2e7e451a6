import { defineConfig } from "vitest/config";

// One test run for the whole tree. Workspace packages resolve to their TypeScript
// sources through the "source" export condition, so tests need no build step.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    include: ["libs/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "charts/*/test/**/*.test.ts", "cli/test/**/*.test.ts", "examples/*/test/**/*.test.ts", "bench/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    globalSetup: ["./vitest.global-setup.ts"],
  },
});
