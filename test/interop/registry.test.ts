// Polyglot clients from day one: the real registry process (built as main.ts
// builds it, on port 0, against the real Postgres and NATS) answers health and
// reflection to grpc-js, to Python grpcio (stubs generated from our protos),
// and to `buf curl` on both listeners.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Health, HealthCheckResponse_ServingStatus as S } from "@fti/proto/grpc/health/v1/health_pb";
import { silentLogger } from "@fti/logger";
import { createPool, loadMigrations, migrate, type Pool } from "@fti/db";
import { connectNats, type NatsConnection } from "@fti/events";
import type { RunningServer } from "@fti/server";
import { build } from "@fti/registry/server";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const schema = `test_interop_${process.pid}`;
const registryService = "fti.registry.v1.RegistryService";
let pool: Pool;
let nats: NatsConnection;
let server: RunningServer;

beforeAll(async () => {
  pool = createPool({ connectionString: process.env.FTI_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres", schema, logger: silentLogger });
  await migrate(pool, { schema, migrations: await loadMigrations(join(root, "services/registry/migrations")), logger: silentLogger });
  nats = await connectNats({ url: process.env.FTI_TEST_NATS_URL ?? "nats://127.0.0.1:4222", name: "interop-test", logger: silentLogger });
  server = await build({ pool, nats, logger: silentLogger }).listen({ grpcPort: 0, webPort: 0 });
});

afterAll(async () => {
  await server?.shutdown(1000);
  await nats?.close();
  await pool?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pool?.end();
});

describe("registry process", () => {
  it("answers health from grpc-js: SERVING for the server and the registry service", async () => {
    const client = new grpc.Client(server.grpcAddress, grpc.credentials.createInsecure());
    const check = (service: string) =>
      new Promise<S>((resolve, reject) =>
        client.makeUnaryRequest(
          "/grpc.health.v1.Health/Check",
          (v: { service: string }) => Buffer.from(toBinary(Health.method.check.input, create(Health.method.check.input, v))),
          (b: Buffer) => fromBinary(Health.method.check.output, b),
          { service },
          (err, res) => (err ? reject(err) : resolve(res!.status)),
        ),
      );
    expect(await check("")).toBe(S.SERVING);
    expect(await check(registryService)).toBe(S.SERVING);
    client.close();
  });

  it("answers health and reflection (v1 and v1alpha) from Python grpcio", async () => {
    const stubs = mkdtempSync(join(tmpdir(), "fti-py-stubs-"));
    try {
      await run("/usr/bin/python3", [
        "-m", "grpc_tools.protoc", "-I", join(root, "proto"), `--python_out=${stubs}`, `--grpc_python_out=${stubs}`,
        "grpc/health/v1/health.proto", "grpc/reflection/v1/reflection.proto", "grpc/reflection/v1alpha/reflection.proto",
      ]);
      const { stdout } = await run("/usr/bin/python3", [join(root, "test/interop/python_client.py"), stubs, server.grpcAddress, registryService]);
      const result = JSON.parse(stdout);
      expect(result.check).toBe("SERVING");
      expect(result.watch_first).toBe("SERVING");
      expect(result.unknown_service).toBe("NOT_FOUND");
      for (const version of ["v1", "v1alpha"]) {
        expect(result[version].services).toEqual(expect.arrayContaining([registryService, "grpc.health.v1.Health"]));
        expect(result[version].methods).toEqual(expect.arrayContaining(["CreateFeatureGroup", "GetFeatureView", "GetLineage"]));
      }
    } finally {
      rmSync(stubs, { recursive: true, force: true });
    }
  });

  it("is discoverable and callable with buf curl on both listeners", async () => {
    const buf = join(root, "node_modules/.bin/buf");
    for (const [protocol, url] of [["grpc", `http://${server.grpcAddress}`], ["grpc", server.webUrl], ["connect", server.webUrl]] as const) {
      const { stdout: services } = await run(buf, ["curl", "--protocol", protocol, "--http2-prior-knowledge", "--list-services", url]);
      expect(services.split("\n")).toEqual(expect.arrayContaining([registryService, "grpc.health.v1.Health"]));
      const { stdout: methods } = await run(buf, ["curl", "--protocol", protocol, "--http2-prior-knowledge", "--list-methods", url]);
      expect(methods).toContain(`${registryService}/GetFeatureView`);
      const { stdout: health } = await run(buf, ["curl", "--protocol", protocol, "--http2-prior-knowledge", "--data", `{"service": "${registryService}"}`, `${url}/grpc.health.v1.Health/Check`]);
      expect(JSON.parse(health)).toEqual({ status: "SERVING" });
    }
  });

  it("serves Prometheus metrics and the process metrics on the web port", async () => {
    const text = await (await fetch(`${server.webUrl}/metrics`)).text();
    expect(text).toContain("fti_rpc_duration_seconds");
    expect(text).toContain("process_cpu_seconds_total");
  });
});
