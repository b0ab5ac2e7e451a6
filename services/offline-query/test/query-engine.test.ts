import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "@fti/config";
import { offlineQuerySettings } from "../src/config.js";
import { absoluteMemoryLimit, createQueryEngine } from "../src/query-engine.js";

describe("DuckDB memory limit", () => {
  it("starts with the default share of memory (DuckDB itself takes only absolute sizes)", async () => {
    const config = loadConfig(offlineQuerySettings, {});
    const engine = await createQueryEngine({ memoryLimit: config.duckdbMemoryLimit });
    const limit = await engine.withConnection(undefined, async (c) => (await c.runAndReadAll("SELECT current_setting('memory_limit') AS m")).getRowObjects()[0]!.m);
    expect(String(limit)).toMatch(/\d+(\.\d+)? ?[KMGT]i?B/);
    engine.close();
  });

  it("turns a share into megabytes and leaves absolute sizes alone", () => {
    expect(absoluteMemoryLimit("75%", 8 * 2 ** 30)).toBe("6144MB");
    expect(absoluteMemoryLimit("2GB")).toBe("2GB");
  });

  it("rejects a malformed limit at start, naming the variable", () => {
    expect(() => loadConfig(offlineQuerySettings, { FTI_DUCKDB_MEMORY_LIMIT: "lots" })).toThrow(ConfigError);
    expect(() => loadConfig(offlineQuerySettings, { FTI_DUCKDB_MEMORY_LIMIT: "lots" })).toThrow(/FTI_DUCKDB_MEMORY_LIMIT/);
  });
});
