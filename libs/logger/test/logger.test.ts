import { describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import type { DestinationStream } from "pino";
import { createLogger } from "../src/index.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { lines, destination: destination as unknown as DestinationStream };
}

describe("logger", () => {
  it("writes one JSON line per entry with structured fields, level and time", () => {
    const { lines, destination } = capture();
    const log = createLogger({ base: { service: "registry" }, destination });
    log.info("commit written", { featureGroup: "transactions", rows: 3 });
    expect(lines[0]).toMatchObject({ level: "info", msg: "commit written", service: "registry", featureGroup: "transactions", rows: 3 });
    expect(typeof lines[0]!.time).toBe("string");
  });

  it("filters by level and carries child fields", () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: "warn", destination }).child({ rpc: "GetFeatureView" });
    log.info("hidden");
    log.error("boom", { code: 13 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "error", msg: "boom", rpc: "GetFeatureView", code: 13 });
  });
});
