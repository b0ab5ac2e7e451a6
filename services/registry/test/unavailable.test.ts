// The real server when Postgres goes away: calls fail fast with UNAVAILABLE
// (within their deadline) and health reports NOT_SERVING.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { HealthCheckResponse_ServingStatus as ServingStatus, Health } from "@fti/proto/grpc/health/v1/health_pb";
import { unary } from "../../../libs/server/test/grpc-client.js";
import { databaseUrl, migratedPool, rpc, startProxy, startRegistry, statusOf, until, type Harness } from "./harness.js";

let proxy: Awaited<ReturnType<typeof startProxy>>;
let h: Harness;

beforeAll(async () => {
  const target = new URL(databaseUrl);
  proxy = await startProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const viaProxy = new URL(databaseUrl);
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  const { pool, schema } = await migratedPool(viaProxy.toString(), { connectionTimeoutMs: 500 });
  h = await startRegistry({ pool, schema, healthIntervalMs: 200 });
});
afterAll(async () => {
  await proxy?.reopen().catch(() => {});
  await h?.close();
  await proxy?.close();
});

describe("when Postgres is unreachable", () => {
  it("answers UNAVAILABLE within the deadline and health turns NOT_SERVING", async () => {
    await h.call(rpc.createProject, { projectId: "up" });
    const health = async () => (await unary(h.client, Health.method.check, { service: "" })).response.status;
    await until(async () => (await health()) === ServingStatus.SERVING);

    await proxy.close();
    const started = Date.now();
    const result = await statusOf(h.call(rpc.getProject, { name: "projects/up" }, 3_000));
    expect(result.code).toBe(status.UNAVAILABLE);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result.details).not.toMatch(/ECONNREFUSED|SELECT|127\.0\.0\.1/);
    const write = await statusOf(h.call(rpc.createProject, { projectId: "down" }, 3_000));
    expect(write.code).toBe(status.UNAVAILABLE);
    await until(async () => (await health()) === ServingStatus.NOT_SERVING, 5_000);

    await proxy.reopen();
    await until(async () => (await health()) === ServingStatus.SERVING, 10_000);
    expect((await h.call(rpc.getProject, { name: "projects/up" })).project!.name).toBe("projects/up");
  });
});
