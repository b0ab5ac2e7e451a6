// The SDK against a real registry (port 0, own schema and stream).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as net from "node:net";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { startRegistry, type Harness } from "../../../services/registry/test/harness.js";
import { createFtiClient, isIdempotent, recordBatchToRows, rowsToRecordBatch } from "../src/index.js";

let h: Harness;
beforeAll(async () => {
  h = await startRegistry();
});
afterAll(async () => {
  await h?.close();
});

/** A TCP proxy to `target` that can refuse connections (closed) and later accept them (opened). */
async function proxy(target: string) {
  const [host, port] = target.split(":");
  let server: net.Server | undefined;
  const sockets = new Set<net.Socket>();
  const listenPort = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
  return {
    address: `127.0.0.1:${listenPort}`,
    open: () =>
      new Promise<void>((resolve) => {
        server = net.createServer((c) => {
          const upstream = net.connect(Number(port), host!);
          sockets.add(c).add(upstream);
          c.pipe(upstream).pipe(c);
          c.on("error", () => upstream.destroy());
          upstream.on("error", () => c.destroy());
        });
        server.listen(listenPort, "127.0.0.1", () => resolve());
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server ? server.close(() => resolve()) : resolve();
      }),
  };
}

const attemptCounter = () => {
  const counts: Record<string, number> = {};
  const interceptor: Interceptor = (next) => async (req) => {
    counts[req.method.name] = (counts[req.method.name] ?? 0) + 1;
    return next(req);
  };
  return { counts, interceptor };
};

describe("createFtiClient", () => {
  it("talks gRPC to the gRPC port and Connect to the web port", async () => {
    const grpc = createFtiClient({ urls: { registry: `http://${h.server.grpcAddress}` } });
    await grpc.registry.createProject({ projectId: "sdk", project: { owner: "sdk-team" } });
    const connect = createFtiClient({ protocol: "connect", urls: { registry: h.server.webUrl } });
    const got = await connect.registry.getProject({ name: "projects/sdk" });
    expect(got.project?.owner).toBe("sdk-team");
  });

  it("retries an idempotent read until the service is reachable", async () => {
    const p = await proxy(h.server.grpcAddress);
    const { counts, interceptor } = attemptCounter();
    const client = createFtiClient({ urls: { registry: `http://${p.address}` }, interceptors: [interceptor], retry: { maxAttempts: 8, initialBackoffMs: 50 } });
    setTimeout(() => void p.open(), 200);
    const got = await client.registry.getProject({ name: "projects/sdk" });
    expect(got.project?.name).toBe("projects/sdk");
    expect(counts.GetProject).toBeGreaterThan(1);
    await p.close();
  });

  it("never retries a write that is not idempotent", async () => {
    const p = await proxy(h.server.grpcAddress);
    const { counts, interceptor } = attemptCounter();
    const client = createFtiClient({ urls: { registry: `http://${p.address}` }, interceptors: [interceptor], retry: { maxAttempts: 8, initialBackoffMs: 50 } });
    const err = ConnectError.from(await client.registry.createProject({ projectId: "never", project: {} }).catch((e) => e));
    expect(err.code).toBe(Code.Unavailable);
    expect(counts.CreateProject).toBe(1);
  });

  it("applies the default deadline", async () => {
    const silent = net.createServer(() => {}).listen(0, "127.0.0.1");
    await new Promise((r) => silent.once("listening", r));
    const client = createFtiClient({ urls: { registry: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}` }, timeoutMs: 300, retry: { maxAttempts: 1 } });
    const started = Date.now();
    const err = ConnectError.from(await client.registry.getProject({ name: "projects/sdk" }).catch((e) => e));
    expect(err.code).toBe(Code.DeadlineExceeded);
    expect(Date.now() - started).toBeLessThan(2000);
    silent.close();
  });
});

describe("idempotency rule", () => {
  it("treats reads and de-duplicated writes as idempotent, other writes not", () => {
    expect(isIdempotent("GetFeatureView", {})).toBe(true);
    expect(isIdempotent("ListCommits", {})).toBe(true);
    expect(isIdempotent("Ingest", { batchId: "b-1" })).toBe(true);
    expect(isIdempotent("Ingest", { batchId: "" })).toBe(false);
    expect(isIdempotent("CreateFeatureGroup", {})).toBe(false);
    expect(isIdempotent("UpgradeDeployment", {})).toBe(false);
  });
});

describe("rows", () => {
  it("round-trip through a RecordBatch with types and nulls", () => {
    const rows = [
      { account_id: "a1", ts: new Date(1_700_000_000_000), amount: 12.5, n: 3n },
      { account_id: "a2", ts: new Date(1_700_000_000_500), amount: null, n: null },
    ];
    const batch = rowsToRecordBatch(rows, { account_id: "string", ts: "timestamp", amount: "double", n: "int64" });
    expect(recordBatchToRows(batch)).toEqual(rows);
  });
});
