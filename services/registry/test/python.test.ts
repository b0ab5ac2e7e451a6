// A Python grpcio client (Debian's python3-grpcio, stubs generated at test
// time with its grpc_tools) creates and reads a feature group.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRegistry, type Harness } from "./harness.js";

const run = promisify(execFile);
const python = process.env.FTI_TEST_PYTHON ?? "/usr/bin/python3";
const root = fileURLToPath(new URL("../../../", import.meta.url));
let h: Harness;
let stubs: string;

beforeAll(async () => {
  h = await startRegistry();
  stubs = await mkdtemp(join(tmpdir(), "fti-registry-py-"));
  const protos = ["fti/registry/v1", "fti/common/v1"];
  const files = (await Promise.all(protos.map(async (dir) => (await readdir(join(root, "proto", dir))).filter((f) => f.endsWith(".proto")).map((f) => `${dir}/${f}`)))).flat();
  await run(python, ["-m", "grpc_tools.protoc", "-I", join(root, "proto"), `--python_out=${stubs}`, `--grpc_python_out=${stubs}`, ...files], { cwd: root });
});
afterAll(async () => {
  await h?.close();
  if (stubs) await rm(stubs, { recursive: true, force: true });
});

describe("a Python grpcio client", () => {
  it("creates and reads a feature group", async () => {
    const script = fileURLToPath(new URL("./python/feature_group_client.py", import.meta.url));
    const { stdout } = await run(python, [script, stubs, h.server.grpcAddress], { timeout: 30_000 });
    const result = JSON.parse(stdout.trim());
    expect(result).toMatchObject({
      created: "projects/py/featureGroups/clicks/versions/1",
      read: "projects/py/featureGroups/clicks/versions/1",
      version: 1,
      etag_matches: true,
      features: ["user_id", "ts", "clicks_7d"],
      feature_types: ["SCALAR_TYPE_INT64", "SCALAR_TYPE_TIMESTAMP", "SCALAR_TYPE_INT32"],
      ttl_seconds: 86400,
      tags: { lang: "python" },
    });
    expect(result.invalid.code).toBe("INVALID_ARGUMENT");
    expect(result.invalid.details).toContain("feature_group.primary_key[0]");
    // What Python wrote is what the TypeScript side stores.
    const { rows } = await h.pool.query("SELECT owner, attrs FROM resources WHERE name = $1", [result.created]);
    expect(rows[0]).toEqual({ owner: "py-team", attrs: { online_enabled: "true" } });
  });
});
