import { describe, expect, it } from "vitest";
import { ConfigError, databaseSettings, describeSettings, int, loadConfig, natsSettings, oneOf, redact, serverSettings } from "../src/index.js";

const spec = { ...serverSettings("registry"), ...databaseSettings("registry"), ...natsSettings };

describe("loadConfig", () => {
  it("uses the defaults when nothing is set", () => {
    const c = loadConfig(spec, {});
    expect(c.grpcPort).toBe(50051);
    expect(c.webPort).toBe(8081);
    expect(c.natsUrl).toBe("nats://127.0.0.1:4222");
    expect(c.logLevel).toBe("info");
    expect(c.databaseSchema).toBe("fti_registry");
    expect(loadConfig(databaseSettings("offline-query"), {}).databaseSchema).toBe("fti_offline_query");
  });

  it("reads typed values from the injected environment", () => {
    const c = loadConfig(spec, { FTI_GRPC_PORT: "7000", FTI_LOG_LEVEL: "debug", FTI_DATABASE_URL: "postgresql://u:p@db:5432/fti" });
    expect(c.grpcPort).toBe(7000);
    expect(c.logLevel).toBe("debug");
    expect(c.databaseUrl).toBe("postgresql://u:p@db:5432/fti");
  });

  it("fails at start naming every bad variable", () => {
    const err = (() => {
      try {
        loadConfig(spec, { FTI_GRPC_PORT: "seventy", FTI_LOG_LEVEL: "loud", FTI_NATS_URL: "http://x" });
      } catch (e) {
        return e;
      }
    })() as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems.map((p) => p.env).sort()).toEqual(["FTI_GRPC_PORT", "FTI_LOG_LEVEL", "FTI_NATS_URL"]);
    expect(err.message).toContain('FTI_GRPC_PORT: expected an integer, got "seventy"');
  });

  it("rejects out-of-range numbers and missing required settings", () => {
    expect(() => loadConfig({ port: int("P", "a port", 1, { max: 65535 }) }, { P: "70000" })).toThrow("P: must be ≤ 65535");
    expect(() => loadConfig({ mode: oneOf("MODE", "the mode", ["a", "b"] as const) }, {})).toThrow("MODE: required");
  });

  it("never shows secrets, in errors or in logged config", () => {
    expect(() => loadConfig(spec, { FTI_DATABASE_URL: "not a url with password hunter2" })).toThrow(/FTI_DATABASE_URL/);
    expect(() => loadConfig(spec, { FTI_DATABASE_URL: "not a url with password hunter2" })).not.toThrow(/hunter2/);
    const c = loadConfig(spec, { FTI_DATABASE_URL: "postgres://u:hunter2@db/fti" });
    expect(JSON.stringify(redact(spec, c))).not.toContain("hunter2");
  });

  it("describes the variables it reads, for the Helm chart check", () => {
    const names = describeSettings(spec).map((s) => s.env);
    expect(names).toContain("FTI_DATABASE_URL");
    expect(names).toContain("FTI_GRPC_PORT");
    expect(describeSettings(spec).find((s) => s.env === "FTI_DATABASE_URL")?.secret).toBe(true);
  });
});
