// The server runtime against real clients: grpc-js on the gRPC port, and
// connect-node's Connect, gRPC-Web and gRPC transports on the web port.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyUnpack, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { EchoService } from "@fti/proto/fti/testing/v1/echo_pb";
import { Health, HealthCheckResponse_ServingStatus as S } from "@fti/proto/grpc/health/v1/health_pb";
import { ServerReflection as ReflectionV1 } from "@fti/proto/grpc/reflection/v1/reflection_pb";
import { ServerReflection as ReflectionV1Alpha } from "@fti/proto/grpc/reflection/v1alpha/reflection_pb";
import { StatusSchema } from "@fti/proto/google/rpc/status_pb";
import { BadRequestSchema } from "@fti/proto/google/rpc/error_details_pb";
import { silentLogger, type Logger } from "@fti/logger";
import { createServer, service, type RunningServer } from "../src/index.js";
import { echoService, sleep, type EchoProbe } from "./echo-service.js";
import { bidiStream, clientStream, grpcChannel, serverStream, unary, unaryRaw } from "./grpc-client.js";

const logged: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
const recordingLogger: Logger = {
  debug: (message, fields) => logged.push({ level: "debug", message, fields }),
  info: (message, fields) => logged.push({ level: "info", message, fields }),
  warn: (message, fields) => logged.push({ level: "warn", message, fields }),
  error: (message, fields) => logged.push({ level: "error", message, fields }),
  child: () => recordingLogger,
};

let server: RunningServer;
let client: grpc.Client;
let dependencyUp = true;
let probe: EchoProbe;
let probeDependencies: () => Promise<void>;

beforeAll(async () => {
  probe = { aborted: 0, completed: 0 };
  const built = createServer({
    name: "echo",
    services: [service(EchoService, echoService(probe))],
    dependencies: [{ name: "flag", check: async () => { if (!dependencyUp) throw new Error("flag is down"); } }],
    logger: recordingLogger,
    healthIntervalMs: 60_000,
  });
  probeDependencies = built.probeDependencies;
  server = await built.listen({ grpcPort: 0, webPort: 0 });
  client = grpcChannel(server.grpcAddress);
});

afterAll(async () => {
  client?.close();
  await server?.shutdown(1000);
});

describe("gRPC listener (grpc-js)", () => {
  it("serves every call kind", async () => {
    const { response, trailers } = await unary(client, EchoService.method.echo, { message: "hello" });
    expect(response.message).toBe("hello");
    expect(trailers.get("x-echo-length")).toEqual(["5"]);
    const streamed = await serverStream(client, EchoService.method.serverStream, { message: "x", count: 3 });
    expect(streamed.map((m) => m.index)).toEqual([0, 1, 2]);
    const joined = await clientStream(client, EchoService.method.clientStream, [{ message: "a" }, { message: "b" }, { message: "c" }]);
    expect(joined).toMatchObject({ message: "a b c", count: 3 });
    const echoed = await bidiStream(client, EchoService.method.bidiStream, [{ message: "1" }, { message: "2" }]);
    expect(echoed.map((m) => m.message)).toEqual(["1", "2"]);
  });

  it("ends a server stream whose client stopped reading and cancelled", async () => {
    const before = probe.streamsEnded ?? 0;
    const call = client.makeServerStreamRequest(
      "/fti.testing.v1.EchoService/ServerStream",
      (v: object) => Buffer.from(toBinary(EchoService.method.serverStream.input, create(EchoService.method.serverStream.input, v as never))),
      (b: Buffer) => b,
      { message: "x".repeat(64 * 1024), count: 10_000 },
    );
    call.on("error", () => {});
    // Read one message, then stop reading so HTTP/2 flow control fills up, then cancel.
    await new Promise<void>((resolve) => call.once("data", () => resolve()));
    call.pause();
    await sleep(300);
    call.cancel();
    const deadline = Date.now() + 5000;
    while ((probe.streamsEnded ?? 0) === before && Date.now() < deadline) await sleep(20);
    expect(probe.streamsEnded).toBe(before + 1);
  });

  it("sends INVALID_ARGUMENT with google.rpc.BadRequest naming the field", async () => {
    const err = await unary(client, EchoService.method.echo, { message: "bad", failCode: Code.InvalidArgument }).catch((e) => e);
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain("message");
    const status = fromBinary(StatusSchema, err.metadata.get("grpc-status-details-bin")[0]);
    const badRequest = anyUnpack(status.details[0]!, BadRequestSchema);
    expect(badRequest?.fieldViolations[0]?.field).toBe("message");
  });

  it("never leaks internals: INTERNAL with a generic message, the detail only in the log", async () => {
    const err = await unary(client, EchoService.method.echo, { failCode: Code.Internal }).catch((e) => e);
    expect(err.code).toBe(grpc.status.INTERNAL);
    expect(err.details).toBe("internal error");
    expect(JSON.stringify(logged)).toContain("relation users does not exist");
  });

  it("logs an outage's cause for the operator (its first line), and sends the client only UNAVAILABLE and the domain message", async () => {
    logged.length = 0;
    const err = await unary(client, EchoService.method.echo, { failCode: Code.Unavailable }).catch((e) => e);
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.details).toBe("the echo store is unavailable");
    const warning = logged.find((l) => l.level === "warn" && l.message === "rpc failed");
    expect(warning?.fields).toMatchObject({ code: "Unavailable", error: "the echo store is unavailable", cause: "All connections to host 127.0.0.1:9042 are busy" });
  });

  it("answers a malformed request body with INVALID_ARGUMENT", async () => {
    const err = await unaryRaw(client, "/fti.testing.v1.EchoService/Echo", Buffer.from([0x0a, 0xff, 0xff])).catch((e) => e);
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain("fti.testing.v1.EchoRequest");
  });

  it("answers unknown methods with UNIMPLEMENTED", async () => {
    const err = await unaryRaw(client, "/fti.testing.v1.EchoService/Nope", Buffer.alloc(0)).catch((e) => e);
    expect(err.code).toBe(grpc.status.UNIMPLEMENTED);
  });

  it("aborts a unary handler's signal when the client cancels", async () => {
    const before = probe.aborted;
    const call = client.makeUnaryRequest(
      "/fti.testing.v1.EchoService/Echo",
      (v: object) => Buffer.from(toBinary(EchoService.method.echo.input, create(EchoService.method.echo.input, v as never))),
      (b: Buffer) => b,
      { message: "slow", delayMs: 5000 },
      () => {},
    );
    await sleep(150);
    call.cancel();
    const deadline = Date.now() + 2000;
    while (probe.aborted === before && Date.now() < deadline) await sleep(20);
    expect(probe.aborted).toBe(before + 1);
  });

  it("propagates the deadline into the handler, which stops", async () => {
    const before = probe.aborted;
    const started = Date.now();
    const err = await unary(client, EchoService.method.echo, { message: "slow", delayMs: 2000 }, { deadlineMs: 150 }).catch((e) => e);
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(1000);
    await sleep(50);
    expect(probe.aborted).toBe(before + 1);
  });
});

describe("web listener (connect-node)", () => {
  it("serves Connect over HTTP/1.1, gRPC-Web, and gRPC over h2c", async () => {
    const transports = [
      createConnectTransport({ baseUrl: server.webUrl, httpVersion: "1.1" }),
      createGrpcWebTransport({ baseUrl: server.webUrl, httpVersion: "1.1" }),
      createGrpcTransport({ baseUrl: server.webUrl }),
      createConnectTransport({ baseUrl: server.webUrl, httpVersion: "2" }),
    ];
    for (const transport of transports) {
      const echo = createClient(EchoService, transport);
      expect((await echo.echo({ message: "hi" })).message).toBe("hi");
      const streamed: number[] = [];
      for await (const m of echo.serverStream({ message: "m", count: 2 })) streamed.push(m.index);
      expect(streamed).toEqual([0, 1]);
    }
    const h2 = createClient(EchoService, createGrpcTransport({ baseUrl: server.webUrl }));
    const replies: string[] = [];
    async function* requests() {
      yield { message: "x" };
      yield { message: "y" };
    }
    for await (const r of h2.bidiStream(requests())) replies.push(r.message);
    expect(replies).toEqual(["x", "y"]);
  });

  it("accepts a client deadline and enforces it", async () => {
    const echo = createClient(EchoService, createConnectTransport({ baseUrl: server.webUrl, httpVersion: "1.1" }));
    expect((await echo.echo({ message: "in time" }, { timeoutMs: 30_000 })).message).toBe("in time");
    const err = ConnectError.from(await echo.echo({ message: "late", delayMs: 2_000 }, { timeoutMs: 150 }).catch((e) => e));
    expect(err.code).toBe(Code.DeadlineExceeded);
  });

  it("maps domain errors to the same code and details as the gRPC port", async () => {
    const echo = createClient(EchoService, createConnectTransport({ baseUrl: server.webUrl, httpVersion: "1.1" }));
    const err = ConnectError.from(await echo.echo({ message: "bad", failCode: Code.InvalidArgument }).catch((e) => e));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.findDetails(BadRequestSchema)[0]?.fieldViolations[0]?.field).toBe("message");
  });

  it("serves Connect JSON to a plain HTTP client", async () => {
    const res = await fetch(`${server.webUrl}/fti.testing.v1.EchoService/Echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "json" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ message: "json" });
  });

  it("gives JSON clients the fields a handler returned pre-encoded", async () => {
    const json = await fetch(`${server.webUrl}/fti.testing.v1.EchoService/Echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ message: "pre-encoded:big batch" }) });
    expect(await json.json()).toEqual({ message: "big batch" });
    const binary = createClient(EchoService, createConnectTransport({ baseUrl: server.webUrl, httpVersion: "1.1" }));
    expect((await binary.echo({ message: "pre-encoded:big batch" })).message).toBe("big batch");
    expect((await unary(client, EchoService.method.echo, { message: "pre-encoded:big batch" })).response.message).toBe("big batch");
  });

  it("exposes Prometheus metrics with RPC latency by method and code", async () => {
    await unary(client, EchoService.method.echo, { message: "count me" });
    const text = await (await fetch(`${server.webUrl}/metrics`)).text();
    expect(text).toMatch(/fti_rpc_duration_seconds_count\{[^}]*listener="grpc",method="fti\.testing\.v1\.EchoService\/Echo",code="OK"[^}]*\} [1-9]/);
    expect(text).toContain("fti_rpc_in_flight");
    expect(text).toMatch(/code="InvalidArgument"/);
  });
});

describe("health", () => {
  it("follows the dependencies, on both listeners, and Watch streams changes", async () => {
    const check = async () => (await unary(client, Health.method.check, { service: "fti.testing.v1.EchoService" })).response.status;
    expect(await check()).toBe(S.SERVING);

    const seen: S[] = [];
    const watch = client.makeServerStreamRequest(
      "/grpc.health.v1.Health/Watch",
      (v: { service: string }) => Buffer.from(toBinary(Health.method.watch.input, create(Health.method.watch.input, v))),
      (b: Buffer) => fromBinary(Health.method.watch.output, b),
      { service: "" },
    );
    watch.on("data", (m: { status: S }) => seen.push(m.status));
    watch.on("error", () => {});
    await sleep(100);

    dependencyUp = false;
    await probeDependencies();
    expect(await check()).toBe(S.NOT_SERVING);
    const web = createClient(Health, createConnectTransport({ baseUrl: server.webUrl, httpVersion: "1.1" }));
    expect((await web.check({ service: "" })).status).toBe(S.NOT_SERVING);
    const ready = await fetch(`${server.webUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: "NOT_SERVING", failing: { flag: "flag is down" } });

    dependencyUp = true;
    await probeDependencies();
    expect(await check()).toBe(S.SERVING);
    await sleep(100);
    watch.cancel();
    expect(seen).toEqual([S.SERVING, S.NOT_SERVING, S.SERVING]);
  });

  it("answers NOT_FOUND for an unknown service name", async () => {
    const err = await unary(client, Health.method.check, { service: "no.such.Service" }).catch((e) => e);
    expect(err.code).toBe(grpc.status.NOT_FOUND);
  });
});

describe("reflection", () => {
  for (const [version, reflection] of [["v1", ReflectionV1], ["v1alpha", ReflectionV1Alpha]] as const) {
    it(`${version}: lists services and returns the descriptors of a symbol`, async () => {
      const call = client.makeBidiStreamRequest(
        `/${reflection.typeName}/ServerReflectionInfo`,
        (v: object) => Buffer.from(toBinary(reflection.method.serverReflectionInfo.input, create(reflection.method.serverReflectionInfo.input, v as never))),
        (b: Buffer) => fromBinary(reflection.method.serverReflectionInfo.output, b),
      );
      const responses = call[Symbol.asyncIterator]();
      call.write({ messageRequest: { case: "listServices", value: "" } });
      const list = (await responses.next()).value;
      expect(list.messageResponse.value.service.map((s: { name: string }) => s.name)).toEqual(
        expect.arrayContaining(["fti.testing.v1.EchoService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]),
      );
      call.write({ messageRequest: { case: "fileContainingSymbol", value: "fti.testing.v1.EchoService.Echo" } });
      const files = (await responses.next()).value.messageResponse.value.fileDescriptorProto.map((b: Uint8Array) => fromBinary(FileDescriptorProtoSchema, b));
      expect(files[0].name).toBe("fti/testing/v1/echo.proto");
      expect(files[0].service[0].method.map((m: { name: string }) => m.name)).toEqual(["Echo", "ServerStream", "ClientStream", "BidiStream"]);
      call.write({ messageRequest: { case: "fileContainingSymbol", value: "no.Such" } });
      expect((await responses.next()).value.messageResponse.case).toBe("errorResponse");
      call.end();
    });
  }
});

describe("graceful shutdown", () => {
  it("lets in-flight calls on both listeners finish, then refuses new ones", async () => {
    const own = await createServer({ name: "drain", services: [service(EchoService, echoService())], logger: silentLogger }).listen({ grpcPort: 0, webPort: 0 });
    const c = grpcChannel(own.grpcAddress);
    const web = createClient(EchoService, createConnectTransport({ baseUrl: own.webUrl, httpVersion: "1.1" }));
    const slowGrpc = unary(c, EchoService.method.echo, { message: "grpc", delayMs: 300 });
    const slowWeb = web.echo({ message: "web", delayMs: 300 });
    await sleep(50);
    const stopped = own.shutdown(5000);
    expect((await slowGrpc).response.message).toBe("grpc");
    expect((await slowWeb).message).toBe("web");
    await stopped;
    const err = await unary(c, EchoService.method.echo, { message: "late" }, { deadlineMs: 500 }).catch((e) => e);
    expect([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]).toContain(err.code);
    c.close();
  });

  it("cancels calls still running when the grace period ends", async () => {
    const p: EchoProbe = { aborted: 0, completed: 0 };
    const own = await createServer({ name: "cancel", services: [service(EchoService, echoService(p))], logger: silentLogger }).listen({ grpcPort: 0, webPort: 0 });
    const c = grpcChannel(own.grpcAddress);
    const stuck = unary(c, EchoService.method.echo, { message: "x", delayMs: 10_000 }).catch((e) => e);
    await sleep(50);
    const started = Date.now();
    await own.shutdown(200);
    expect(Date.now() - started).toBeLessThan(2000);
    const err = await stuck;
    expect(err).toBeInstanceOf(Error);
    expect(p.aborted).toBe(1);
    c.close();
  });
});
